// Every message about the gateway: stages, routes, API keys, usage plans and authorizers.
extension Diagnostic {
    static func authorizerType(_ text: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) has type '\(printable(text))'", hint: "the gateway's authorizers are 'jwt'")
    }
    static func bothJWKS(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) has both 'jwks_file' and 'jwks_url'", hint: "keep one of them")
    }
    static func routeKeyMalformed(_ key: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "route '\(printable(key))' is not METHOD /path",
                   hint: "write routes as 'POST /fraud/score' (methods: \(Gateway.methods.joined(separator: ", ")))")
    }
    static func routeSegmentMalformed(_ key: String, segment: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "route '\(printable(key))' has a bad path segment '\(printable(segment))'",
                   hint: "a parameter is a whole segment '{name}' named once; a greedy '{name+}' must be the last segment")
    }
    static func routesOverlap(_ route: String, first: String, firstAt: SourceLocation?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(route) matches the same requests as '\(first)' at \(firstAt?.description ?? "another place")",
                   hint: "routes differ by method or by a literal path segment; rename or remove one of them")
    }
    static func integrationCount(_ route: String, found: [String], at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(route) needs exactly one integration, has \(found.isEmpty ? "none" : found.joined(separator: " and "))",
                   hint: "give it 'endpoint: NAME', 'function: NAME' or 'mock: {status: 200, body: ...}'")
    }
    static func unknownIntegrationTarget(_ kind: String, _ name: String, route: String, stage: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "route '\(route)' of stage '\(stage)' names undeclared \(kind) '\(printable(name))'",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "declare it under '\(kind)s:'")
    }
    static func unknownPathParameter(_ name: String, of what: String, path: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) takes path parameter '\(printable(name))', which '\(path)' does not have",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "name a '{parameter}' of the route's path, or use {header: NAME}")
    }
    static func unknownPayloadFormat(_ text: String, of route: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'payload' of \(route) is '\(printable(text))'", hint: "use \"1.0\" (REST proxy event) or \"2.0\" (HTTP API event)")
    }
    static func onlyWithEndpoint(_ key: String, of route: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'\(key)' of \(route) only goes with an 'endpoint' integration", hint: "remove '\(key)'")
    }
    static func payloadWithoutFunction(_ route: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'payload' of \(route) only goes with a 'function' integration", hint: "remove 'payload'")
    }
    static func unknownAuth(_ text: String, of context: String, authorizers: [String], at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'auth' of \(context) is '\(printable(text))'",
                   hint: "use none, api_key, an authorizer's name, or {jwt: AUTHORIZER, scopes: [...]}"
                       + (authorizers.isEmpty ? "" : " (authorizers: \(authorizers.joined(separator: ", ")))"))
    }
    static func unknownAuthorizer(_ name: String, of context: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(context) uses authorizer '\(printable(name))', which 'gateway.authorizers' does not declare",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "declare it under gateway.authorizers")
    }
    static func enrichSourceNeedsOne(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) needs exactly one of path, header or json",
                   hint: "write {path: customer_id}, {header: X-Customer-Id} or {json: customer_id}")
    }
    static func defaultsCount(_ what: String, defaults: Int, features: Int, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) gives \(defaults) default\(defaults == 1 ? "" : "s") for \(features) feature\(features == 1 ? "" : "s")",
                   hint: "give one default per feature, in the same order")
    }
    static func enrichedFeatureUnusable(_ feature: String, group: String, route: String, stage: String, problem: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "route '\(printable(route))' of stage '\(stage)' enriches with '\(printable(feature))', which \(problem) of feature group '\(group)'",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "name single (not collection) features the group declares")
    }
    static func selectorNeedsOne(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) needs exactly one of 'header' or 'path'", hint: "write a variant's name, {header: x-variant}, or {path: variant}")
    }
    static func keyInClear(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "the value of \(what) is written in the stack in clear",
                   hint: "declare a sensitive variable (from_env: MY_KEY, or a --var-file) and write 'value: ${var.NAME}'")
    }
    static func keyNotSensitive(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "the value of \(what) comes from a variable that is not sensitive",
                   hint: "add 'sensitive: true' to the variable so plans, state and logs never show the key")
    }
    static func keyTooShort(_ what: String, length: Int, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "the value of \(what) is \(length) characters long", hint: "API keys are at least 20 characters, as API Gateway requires")
    }
    static func unknownUsagePlan(_ plan: String, of what: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) names undeclared usage plan '\(printable(plan))'",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "declare it under 'gateway.usage_plans:'")
    }
    static func unknownStage(_ stage: String, of what: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) names undeclared stage '\(printable(stage))'",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "declare it under 'gateway.stages:'")
    }
    static func unknownQuotaPeriod(_ text: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'quota.period' of \(what) is '\(printable(text))'", hint: "use day, week or month")
    }
    static func overrideKeyMalformed(_ key: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "route override '\(printable(key))' of \(what) is not 'STAGE METHOD /path'", hint: "write it as 'v1 POST /fraud/score'")
    }
    static func unknownOverrideRoute(_ key: String, plan: String, stage: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "route override '\(key)' of usage plan '\(plan)' names a route stage '\(stage)' does not have",
                   hint: suggestion.map { "did you mean '\(stage) \($0)'?" } ?? "name one of the stage's routes as 'STAGE METHOD /path'")
    }
}
