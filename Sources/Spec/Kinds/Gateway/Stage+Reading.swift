import EnvironmentAPI

extension Stage {
    static func read(_ entry: ResourceEntry, reader: inout NodeReader, in context: ReadContext) -> Stage? {
        let what = "stage '\(entry.name)'"
        guard let keys = reader.keys(entry.node, allowed: ["routes", "defaults", "cors", "max_body", "throttle", "description"], context: what) else { return nil }
        var stage = Stage(name: entry.name, routes: [], maxBodyBytes: maxBodyLimit, authorizers: [], location: reader.location(entry.node))
        var failed = false
        if let d = keys["description"] {
            if let text = reader.literalString(d.value, what: "'description' of \(what)") { stage.description = text } else { failed = true }
        }
        var defaultAuth = Authorization.none
        var defaultTimeout = 29.0
        if let d = keys["defaults"] {
            if let dk = reader.keys(d.value, allowed: ["auth", "timeout"], context: "'defaults' of \(what)") {
                if let a = dk["auth"] {
                    if let auth = readAuthorization(a.value, context: "the defaults of \(what)", reader: &reader, in: context) { defaultAuth = auth } else { failed = true }
                }
                if let t = dk["timeout"] {
                    if let s = reader.duration(t.value, what: "'defaults.timeout' of \(what)", range: .positiveSeconds(atMost: RouteConfiguration.maxTimeout)) {
                        defaultTimeout = s
                    } else { failed = true }
                }
            } else { failed = true }
        }
        if let m = keys["max_body"] {
            if let n = reader.integer(m.value, what: "'max_body' of \(what) (bytes, API Gateway's limit)", range: 1...maxBodyLimit) { stage.maxBodyBytes = n } else { failed = true }
        }
        if let t = keys["throttle"] {
            if let th = Gateway.readThrottle(t.value, context: "'throttle' of \(what)", reader: &reader) { stage.throttle = th } else { failed = true }
        }
        if let c = keys["cors"] {
            if let cors = readCORS(c.value, of: what, reader: &reader) { stage.cors = cors } else { failed = true }
        }
        guard let r = reader.require(keys, "routes", hint: "add 'routes: {\"POST /score\": {endpoint: NAME}}'"),
              let routeEntries = reader.mapping(r.value, what: "'routes' of \(what)") else { return nil }
        var used = Set<String>()
        var seen: [String: (key: String, at: SourceLocation?)] = [:]
        for e in routeEntries {
            let rc = "route '\(e.key)' of \(what)"
            guard let (method, path) = Gateway.parseRouteKey(e.key, at: e.keyLocation, reader: &reader) else { failed = true; continue }
            let normalized = "\(method) \(path.split(separator: "/").map { $0.hasPrefix("{") ? ($0.hasSuffix("+}") ? "{+}" : "{}") : String($0) }.joined(separator: "/"))"
            if let first = seen[normalized] {
                reader.error(.routesOverlap(rc, first: first.key, firstAt: first.at, at: e.keyLocation))
                failed = true
                continue
            }
            seen[normalized] = (e.key, e.keyLocation)
            let defaults = RouteDefaults(auth: defaultAuth, timeout: defaultTimeout)
            guard let route = readRoute(e, method: method, path: path, stage: entry.name, defaults: defaults, reader: &reader, in: context) else {
                failed = true
                continue
            }
            if case .jwt(let name, _) = route.authorization { used.insert(name) }
            stage.routes.append(route)
            stage.routeLocations[route.key] = e.keyLocation
        }
        if case .jwt(let name, _) = defaultAuth { used.insert(name) }
        stage.authorizers = used.sorted().compactMap { context.authorizers[$0] }
        return failed ? nil : stage
    }

    struct RouteDefaults {
        var auth: Authorization
        var timeout: Double
    }

    static func readRoute(_ e: Entry, method: String, path: String, stage: String, defaults: RouteDefaults,
                          reader: inout NodeReader, in context: ReadContext) -> RouteConfiguration? {
        let rc = "route '\(e.key)' of stage '\(stage)'"
        guard let rk = reader.keys(e.value, allowed: ["endpoint", "variant", "target_model", "enrich", "function", "payload", "mock", "auth", "timeout", "throttle"],
                                   context: rc) else { return nil }
        let targets = ["endpoint", "function", "mock"].filter { rk.has($0) }
        guard targets.count == 1 else {
            reader.error(.integrationCount(rc, found: targets, at: e.keyLocation))
            return nil
        }
        var failed = false
        let parameters = Gateway.pathParameters(path)
        func selector(_ key: String) -> Selector? {
            guard let s = rk[key] else { return nil }
            guard let sel = readSelector(s.value, what: "'\(key)' of \(rc)", reader: &reader) else { failed = true; return nil }
            if case .pathParameter(let p) = sel, !parameters.contains(p) {
                reader.error(.unknownPathParameter(p, of: "'\(key)' of \(rc)", path: path, suggestion: suggestion(for: p, among: parameters),
                                                   at: reader.location(s.value)))
                failed = true
            }
            return sel
        }
        var integration: Integration?
        switch targets[0] {
        case "endpoint":
            let entry = rk["endpoint"]!
            if let name = reader.literalString(entry.value, what: "'endpoint' of \(rc)") {
                let declared = context.checkDeclared(ResourceAddress(.endpoint, name), reader: &reader) {
                    .unknownIntegrationTarget("endpoint", name, route: e.key, stage: stage, suggestion: $0, at: e.keyLocation)
                }
                if !declared { failed = true }
                integration = .endpoint(name: name, variant: selector("variant"), targetModel: selector("target_model"))
            } else { failed = true }
        case "function":
            let entry = rk["function"]!
            var payload = PayloadFormat.v2
            if let p = rk["payload"] {
                if let text = reader.literalString(p.value, what: "'payload' of \(rc)") {
                    if let format = PayloadFormat(rawValue: text) { payload = format } else {
                        reader.error(.unknownPayloadFormat(text, of: rc, at: reader.location(p.value)))
                        failed = true
                    }
                } else { failed = true }
            }
            if let name = reader.literalString(entry.value, what: "'function' of \(rc)") {
                let declared = context.checkDeclared(ResourceAddress(.function, name), reader: &reader) {
                    .unknownIntegrationTarget("function", name, route: e.key, stage: stage, suggestion: $0, at: e.keyLocation)
                }
                if !declared { failed = true }
                integration = .function(name: name, payload: payload)
            } else { failed = true }
        default:
            if let mk = reader.keys(rk["mock"]!.value, allowed: ["status", "body", "content_type"], context: "'mock' of \(rc)") {
                var status = 200
                if let s = mk["status"] {
                    if let n = reader.integer(s.value, what: "'mock.status' of \(rc)", range: 100...599) { status = n } else { failed = true }
                }
                var body = ""
                if let b = mk["body"] {
                    if let text = reader.string(b.value, what: "'mock.body' of \(rc)") { body = text } else { failed = true }
                }
                var type = "application/json"
                if let t = mk["content_type"] {
                    if let text = reader.literalString(t.value, what: "'mock.content_type' of \(rc)") { type = text } else { failed = true }
                }
                integration = .mock(status: status, contentType: type, body: body)
            } else { failed = true }
        }
        var enrich: Enrichment?
        if let en = rk["enrich"] {
            if let read = readEnrichment(en.value, of: rc, parameters: parameters, path: path, reader: &reader, in: context) { enrich = read } else { failed = true }
        }
        if targets[0] != "endpoint" {
            for k in ["variant", "target_model", "enrich"] where rk.has(k) {
                reader.error(.onlyWithEndpoint(k, of: rc, at: rk[k]!.keyLocation))
                failed = true
            }
        }
        if targets[0] != "function", let p = rk["payload"] {
            reader.error(.payloadWithoutFunction(rc, at: p.keyLocation))
            failed = true
        }
        var auth = defaults.auth
        if let a = rk["auth"] {
            if let parsed = readAuthorization(a.value, context: rc, reader: &reader, in: context) { auth = parsed } else { failed = true }
        }
        var timeout = defaults.timeout
        if let t = rk["timeout"] {
            if let s = reader.duration(t.value, what: "'timeout' of \(rc)", range: .positiveSeconds(atMost: RouteConfiguration.maxTimeout)) { timeout = s } else { failed = true }
        }
        var throttle: Throttle?
        if let t = rk["throttle"] {
            throttle = Gateway.readThrottle(t.value, context: "'throttle' of \(rc)", reader: &reader)
            if throttle == nil { failed = true }
        }
        guard !failed, let integration else { return nil }
        return RouteConfiguration(key: "\(method) \(path)", method: method, path: path, integration: integration,
                                  authorization: auth, timeout: timeout, throttle: throttle, enrich: enrich)
    }

    static func readCORS(_ node: Node, of what: String, reader: inout NodeReader) -> CORS? {
        guard let ck = reader.keys(node, allowed: ["allow_origins", "allow_methods", "allow_headers", "expose_headers", "max_age"], context: "'cors' of \(what)") else { return nil }
        var failed = false
        func list(_ k: String, _ d: [String]) -> [String] {
            guard let e = ck[k] else { return d }
            guard let l = reader.stringList(e.value, what: "'cors.\(k)' of \(what)") else { failed = true; return d }
            return l
        }
        var cors = CORS(allowOrigins: list("allow_origins", ["*"]), allowMethods: list("allow_methods", ["*"]),
                        allowHeaders: list("allow_headers", ["*"]), exposeHeaders: list("expose_headers", []), maxAge: nil)
        if let m = ck["max_age"] {
            // Browsers cap a preflight's cache at a day or less.
            if let s = reader.duration(m.value, what: "'cors.max_age' of \(what)", range: .seconds(0, 86_400)) { cors.maxAge = Int(s) } else { failed = true }
        }
        return failed ? nil : cors
    }

    static func readAuthorization(_ node: Node, context: String, reader: inout NodeReader, in ctx: ReadContext) -> Authorization? {
        let authorizers = ctx.authorizers
        if case .scalar = node {
            guard let text = reader.literalString(node, what: "'auth' of \(context)") else { return nil }
            switch text {
            case "none": return Authorization.none
            case "api_key": return .apiKey
            default:
                if authorizers[text] != nil { return .jwt(authorizer: text, scopes: []) }
                reader.error(.unknownAuth(text, of: context, authorizers: authorizers.keys.sorted(), at: reader.location(node)))
                return nil
            }
        }
        guard let keys = reader.keys(node, allowed: ["jwt", "scopes"], context: "'auth' of \(context)") else { return nil }
        guard let j = reader.require(keys, "jwt", hint: "add 'jwt: AUTHORIZER'"), let name = reader.literalString(j.value, what: "'auth.jwt' of \(context)") else { return nil }
        var failed = false
        if authorizers[name] == nil {
            reader.error(.unknownAuthorizer(name, of: context, suggestion: suggestion(for: name, among: authorizers.keys), at: reader.location(j.value)))
            failed = true
        }
        var scopes: [String] = []
        if let s = keys["scopes"] {
            if let list = reader.stringList(s.value, what: "'auth.scopes' of \(context)") { scopes = list } else { failed = true }
        }
        return failed ? nil : .jwt(authorizer: name, scopes: scopes)
    }

    /// `enrich: {feature_group, record_identifier: {path|header|json: NAME}, features: [..], on_missing: 404 | {defaults: [..]}}`.
    static func readEnrichment(_ node: Node, of route: String, parameters: Set<String>, path: String,
                               reader: inout NodeReader, in context: ReadContext) -> Enrichment? {
        let what = "'enrich' of \(route)"
        guard let keys = reader.keys(node, allowed: ["feature_group", "record_identifier", "features", "on_missing"], context: what) else { return nil }
        var failed = false
        var group: String?
        if let g = reader.require(keys, "feature_group", hint: "name the feature group the features come from: 'feature_group: customers'") {
            if let name = reader.literalString(g.value, what: "'feature_group' of \(what)") {
                let at = reader.location(g.value)
                if context.checkDeclared(ResourceAddress(.featureGroup, name), reader: &reader, message: {
                    .unknownReference("feature_groups.\(name)", suggestion: $0.map { "feature_groups.\($0)" }, at: at)
                }) { group = name } else { failed = true }
            } else { failed = true }
        } else { failed = true }
        var source: Enrichment.Source?
        if let r = reader.require(keys, "record_identifier", hint: "say where the record's identifier is: {path: customer_id}, {header: X-Customer-Id} or {json: customer_id}") {
            if let sk = reader.keys(r.value, allowed: ["path", "header", "json"], context: "'record_identifier' of \(what)") {
                let given = ["path", "header", "json"].compactMap { k in sk[k].map { (k, $0) } }
                if given.count != 1 {
                    reader.error(.enrichSourceNeedsOne("'record_identifier' of \(what)", at: sk.location))
                    failed = true
                } else if let name = reader.literalString(given[0].1.value, what: "'record_identifier.\(given[0].0)' of \(what)") {
                    switch given[0].0 {
                    case "path":
                        if parameters.contains(name) { source = .pathParameter(name) } else {
                            reader.error(.unknownPathParameter(name, of: "'record_identifier' of \(what)", path: path, suggestion: suggestion(for: name, among: parameters.sorted()),
                                                               at: reader.location(given[0].1.value)))
                            failed = true
                        }
                    case "header": source = .header(name.lowercased())
                    default: source = .jsonField(name)
                    }
                } else { failed = true }
            } else { failed = true }
        } else { failed = true }
        var features: [String] = []
        if let f = reader.require(keys, "features", hint: "list the features to send, in order: 'features: [age, spend_30d]'") {
            if let list = reader.stringList(f.value, what: "'features' of \(what)"), !list.isEmpty { features = list } else {
                if case .sequence(let s) = f.value, s.isEmpty { reader.error(.wrongType("'features' of \(what)", expected: "a list of at least one feature", found: "an empty list", at: reader.location(f.value))) }
                failed = true
            }
        } else { failed = true }
        var defaults: [String]?
        if let m = keys["on_missing"] {
            if case .mapping = m.value {
                if let mk = reader.keys(m.value, allowed: ["defaults"], context: "'on_missing' of \(what)"),
                   let d = reader.require(mk, "defaults", hint: "give one default per feature: {defaults: [0, 0]}") {
                    if let list = reader.stringList(d.value, what: "'on_missing.defaults' of \(what)") {
                        if list.count == features.count { defaults = list } else if !features.isEmpty {
                            reader.error(.defaultsCount(what, defaults: list.count, features: features.count, at: reader.location(d.value)))
                            failed = true
                        }
                    } else { failed = true }
                } else { failed = true }
            } else if let n = reader.integer(m.value, what: "'on_missing' of \(what)", range: 404...404) {
                _ = n
            } else { failed = true }
        }
        guard !failed, let group, let source else { return nil }
        return Enrichment(group: group, identifier: source, features: features, defaults: defaults)
    }

    static func readSelector(_ node: Node, what: String, reader: inout NodeReader) -> Selector? {
        if case .scalar = node { return reader.literalString(node, what: what).map(Selector.fixed) }
        guard let keys = reader.keys(node, allowed: ["header", "path"], context: what) else { return nil }
        switch (keys["header"], keys["path"]) {
        case (let h?, nil): return reader.literalString(h.value, what: "'header' of \(what)").map { .header($0.lowercased()) }
        case (nil, let p?): return reader.literalString(p.value, what: "'path' of \(what)").map(Selector.pathParameter)
        default:
            reader.error(.selectorNeedsOne(what, at: keys.location))
            return nil
        }
    }
}
