import EnvironmentAPI
import Yams

/// The stack's API gateway, declared under `gateway:`. Its stages, API keys and usage plans are
/// resources of their own (`stages.v1`, `api_keys.ci`, `usage_plans.standard`): each is planned
/// and changed in place on its own. JWT authorizers are settings the stages that use them carry.
public enum Gateway {
    static let sections = ["stages", "api_keys", "usage_plans", "authorizers"]
}


/// A stage: a version of the API with its own routes and defaults, at `{gateway_url}/{name}`.
public struct Stage: Sendable, Equatable, Codable {
    public var name: String
    /// In the order the stack lists them; `RouteConfiguration` is what the host receives.
    public var routes: [RouteConfiguration]
    /// Where each route is written, by its key.
    public var routeLocations: [String: SourceLocation] = [:]
    public var cors: CORS?
    /// Limit for a request body, bytes (API Gateway's is 10 MB).
    public var maxBodyBytes: Int
    /// Stage-wide throttling for every caller together.
    public var throttle: Throttle?
    /// The authorizers its routes use.
    public var authorizers: [JWTAuthorizer]
    public var description: String?
    public var location: SourceLocation?

    public var address: ResourceAddress { ResourceAddress(.stage, name) }

    public var dependencies: [ResourceAddress] {
        var deps = Set<ResourceAddress>()
        for r in routes {
            switch r.integration {
            case .endpoint(let e, _, _): deps.insert(ResourceAddress(.endpoint, e))
            case .function(let f, _): deps.insert(ResourceAddress(.function, f))
            case .mock: break
            }
        }
        return deps.sorted()
    }

    public var attributes: Attributes {
        var a: Attributes = [:]
        a["max_body"] = .number(Double(maxBodyBytes))
        if let t = throttle { a["throttle.rate"] = .number(t.rate); a["throttle.burst"] = .number(Double(t.burst)) }
        if let c = cors {
            a["cors.allow_origins"] = .string(c.allowOrigins.joined(separator: ","))
            a["cors.allow_methods"] = .string(c.allowMethods.joined(separator: ","))
            a["cors.allow_headers"] = .string(c.allowHeaders.joined(separator: ","))
            if !c.exposeHeaders.isEmpty { a["cors.expose_headers"] = .string(c.exposeHeaders.joined(separator: ",")) }
            if let m = c.maxAge { a["cors.max_age"] = .number(Double(m)) }
        }
        for r in routes {
            let p = "routes[\(r.key)]."
            switch r.integration {
            case .endpoint(let e, let v, let m):
                a[p + "endpoint"] = .string(e)
                if let v { a[p + "variant"] = .string(v.text) }
                if let m { a[p + "target_model"] = .string(m.text) }
            case .function(let f, let payload):
                a[p + "function"] = .string(f)
                a[p + "payload"] = .string(payload)
            case .mock(let status, let type, let body):
                a[p + "mock.status"] = .number(Double(status))
                a[p + "mock.content_type"] = .string(type)
                a[p + "mock.body"] = .string(body)
            }
            a[p + "auth"] = .string(r.authorization.text)
            a[p + "timeout"] = .number(r.timeout)
            if let t = r.throttle { a[p + "throttle.rate"] = .number(t.rate); a[p + "throttle.burst"] = .number(Double(t.burst)) }
        }
        for j in authorizers {
            let p = "authorizers.\(j.name)."
            a[p + "issuer"] = .string(j.issuer)
            a[p + "audiences"] = .string(j.audiences.joined(separator: ","))
            if let f = j.jwksFileAsWritten ?? j.jwksFile { a[p + "jwks_file"] = .string(f); a[p + "jwks_sha256"] = .string(j.jwksSHA256 ?? "") }
            if let u = j.jwksURL {
                a[p + "jwks_url"] = j.jwksURLSensitive ? .sensitive(fingerprint: SHA256.hex(of: "mlgw-sensitive:" + u)) : .string(u)
            }
        }
        return a
    }
}

/// An API key: the caller sends it as `x-api-key`. Its value comes from a sensitive variable
/// (an environment variable or a variable file); only a hash of it leaves the command that read it.
public struct APIKey: Sendable, Equatable, Codable {
    public var name: String
    /// SHA-256 of the value: what the gateway compares a caller's key against.
    public var valueSHA256: String
    public var usagePlan: String?
    public var enabled: Bool
    public var location: SourceLocation?

    public var address: ResourceAddress { ResourceAddress(.apiKey, name) }
    public var dependencies: [ResourceAddress] { usagePlan.map { [ResourceAddress(.usagePlan, $0)] } ?? [] }

    public var attributes: Attributes {
        var a: Attributes = ["value": .sensitive(fingerprint: SHA256.hex(of: "mlgw-sensitive:" + valueSHA256)), "enabled": .bool(enabled)]
        if let usagePlan { a["usage_plan"] = .string(usagePlan) }
        return a
    }
}

/// A usage plan: throttling as a token bucket per key, a quota per period, and per-route overrides.
public struct UsagePlan: Sendable, Equatable, Codable {
    public enum Period: String, Sendable, Codable, CaseIterable { case day, week, month }

    public var name: String
    public var throttle: Throttle?
    public var quotaLimit: Int?
    public var quotaPeriod: Period?
    /// Stages the plan's keys may call; empty means every stage.
    public var stages: [String]
    /// Throttling for one route of one stage, keyed `STAGE METHOD /path`.
    public var routeThrottles: [String: Throttle]
    public var location: SourceLocation?

    public var address: ResourceAddress { ResourceAddress(.usagePlan, name) }

    public var attributes: Attributes {
        var a: Attributes = [:]
        if let t = throttle { a["throttle.rate"] = .number(t.rate); a["throttle.burst"] = .number(Double(t.burst)) }
        if let l = quotaLimit, let p = quotaPeriod { a["quota.limit"] = .number(Double(l)); a["quota.period"] = .string(p.rawValue) }
        if !stages.isEmpty { a["stages"] = .string(stages.joined(separator: ",")) }
        for (k, t) in routeThrottles {
            a["routes[\(k)].throttle.rate"] = .number(t.rate)
            a["routes[\(k)].throttle.burst"] = .number(Double(t.burst))
        }
        return a
    }
}

extension Selector {
    var text: String {
        switch self {
        case .fixed(let s): return s
        case .pathParameter(let p): return "path.\(p)"
        case .header(let h): return "header.\(h)"
        }
    }
}

extension Authorization {
    var text: String {
        switch self {
        case .none: return "none"
        case .apiKey: return "api_key"
        case .jwt(let a, let scopes): return scopes.isEmpty ? "jwt:\(a)" : "jwt:\(a) scopes=\(scopes.joined(separator: ","))"
        }
    }
}

// MARK: reading

extension Gateway {
    static let methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"]

    static func readThrottle(_ node: Node, context: String, reader: inout NodeReader, resolve: ([String]) -> Resolution) -> Throttle? {
        guard let entries = reader.mapping(node, what: context) else { return nil }
        let keys = reader.checkKeys(entries, allowed: ["rate", "burst"], context: context)
        guard let r = keys["rate"] else {
            reader.error(.missingKey("rate", in: context, at: reader.location(node), hint: "add 'rate: 100' (requests per second)"))
            return nil
        }
        guard let rate = reader.number(r.value, what: "'rate' of \(context)", resolve: resolve) else { return nil }
        guard rate > 0 else { reader.error(.outOfRange("'rate' of \(context)", value: rate, range: "above 0", at: reader.location(r.value))); return nil }
        var burst = max(1, Int(rate.rounded(.up)))
        if let b = keys["burst"] {
            guard let n = reader.integer(b.value, what: "'burst' of \(context)", resolve: resolve) else { return nil }
            guard n >= 1 else { reader.error(.outOfRange("'burst' of \(context)", value: Double(n), range: "1 or more", at: reader.location(b.value))); return nil }
            burst = n
        }
        return Throttle(rate: rate, burst: burst)
    }

    static func readStringList(_ node: Node, what: String, reader: inout NodeReader) -> [String]? {
        if case .scalar = node { return reader.literalString(node, what: what).map { [$0] } }
        guard case .sequence(let seq) = node else {
            reader.error(.wrongType(what, expected: "a list of strings", found: NodeReader.describe(node), at: reader.location(node)))
            return nil
        }
        var out: [String] = []
        for item in seq {
            guard let s = reader.literalString(item, what: "an item of \(what)") else { return nil }
            out.append(s)
        }
        return out
    }

    static func readAuthorizer(name: String, node: Node, stackDirectory: String, reader: inout NodeReader,
                               files: any SpecFileSystem, resolve: ([String]) -> Resolution) -> JWTAuthorizer? {
        let context = "authorizer '\(name)'"
        guard let entries = reader.mapping(node, what: context) else { return nil }
        let keys = reader.checkKeys(entries, allowed: ["type", "issuer", "audiences", "jwks_file", "jwks_url"], context: context)
        if let t = keys["type"], let text = reader.literalString(t.value, what: "'type' of \(context)"), text != "jwt" {
            reader.error(Diagnostic(at: reader.location(t.value), "\(context) has type '\(text)'", hint: "the gateway's authorizers are 'jwt'"))
            return nil
        }
        guard let i = keys["issuer"], let issuer = reader.string(i.value, what: "'issuer' of \(context)", resolve: resolve) else {
            if keys["issuer"] == nil { reader.error(.missingKey("issuer", in: context, at: reader.location(node), hint: "add 'issuer: https://issuer.example.com'")) }
            return nil
        }
        guard let a = keys["audiences"], let audiences = readStringList(a.value, what: "'audiences' of \(context)", reader: &reader), !audiences.isEmpty else {
            if keys["audiences"] == nil { reader.error(.missingKey("audiences", in: context, at: reader.location(node), hint: "add 'audiences: [my-api]'")) }
            return nil
        }
        var j = JWTAuthorizer(name: name, issuer: issuer, audiences: audiences)
        switch (keys["jwks_file"], keys["jwks_url"]) {
        case (let f?, nil):
            guard let path = reader.string(f.value, what: "'jwks_file' of \(context)", resolve: resolve) else { return nil }
            let resolved = PathMath.resolve(path, against: stackDirectory)
            guard let hash = files.sha256(ofFileAt: resolved) else {
                reader.error(.missingFile(path, resolved: resolved, what: "JWKS of \(context)", at: reader.location(f.value)))
                return nil
            }
            (j.jwksFile, j.jwksFileAsWritten, j.jwksSHA256) = (resolved, path, hash)
        case (nil, let u?):
            guard let text = reader.literalString(u.value, what: "'jwks_url' of \(context)") else { return nil }
            switch reader.evaluate(text, at: reader.location(u.value), resolve: resolve) {
            case .value(let v, let sensitive)?: (j.jwksURL, j.jwksURLSensitive) = (v.description, sensitive)
            case .knownAfterApply?: reader.error(.notKnownAtPlan(text, at: reader.location(u.value))); return nil
            case nil: return nil
            }
        case (nil, nil):
            reader.error(.missingKey("jwks_file", in: context, at: reader.location(node), hint: "add 'jwks_file: keys/jwks.json' or 'jwks_url: https://…/.well-known/jwks.json'"))
            return nil
        case (.some, .some(let u)):
            reader.error(Diagnostic(at: u.keyLocation, "\(context) has both 'jwks_file' and 'jwks_url'", hint: "keep one of them"))
            return nil
        }
        return j
    }

    static func readAuthorization(_ node: Node, context: String, authorizers: [String: JWTAuthorizer], reader: inout NodeReader) -> Authorization? {
        if case .scalar = node {
            guard let text = reader.literalString(node, what: "'auth' of \(context)") else { return nil }
            switch text {
            case "none": return Authorization.none
            case "api_key": return .apiKey
            default:
                if authorizers[text] != nil { return .jwt(authorizer: text, scopes: []) }
                reader.error(Diagnostic(at: reader.location(node), "'auth' of \(context) is '\(text)'",
                                        hint: "use none, api_key, an authorizer's name, or {jwt: AUTHORIZER, scopes: [...]}"
                                            + (authorizers.isEmpty ? "" : " (authorizers: \(authorizers.keys.sorted().joined(separator: ", ")))")))
                return nil
            }
        }
        guard let entries = reader.mapping(node, what: "'auth' of \(context)") else { return nil }
        let keys = reader.checkKeys(entries, allowed: ["jwt", "scopes"], context: "'auth' of \(context)")
        guard let j = keys["jwt"], let name = reader.literalString(j.value, what: "'auth.jwt' of \(context)") else {
            if keys["jwt"] == nil { reader.error(.missingKey("jwt", in: "'auth' of \(context)", at: reader.location(node), hint: "add 'jwt: AUTHORIZER'")) }
            return nil
        }
        guard authorizers[name] != nil else {
            reader.error(Diagnostic(at: reader.location(j.value), "\(context) uses authorizer '\(name)', which 'gateway.authorizers' does not declare",
                                    hint: suggestion(for: name, among: authorizers.keys).map { "did you mean '\($0)'?" } ?? "declare it under gateway.authorizers"))
            return nil
        }
        var scopes: [String] = []
        if let s = keys["scopes"] {
            guard let list = readStringList(s.value, what: "'auth.scopes' of \(context)", reader: &reader) else { return nil }
            scopes = list
        }
        return .jwt(authorizer: name, scopes: scopes)
    }

    static func readSelector(_ node: Node, what: String, reader: inout NodeReader) -> Selector? {
        if case .scalar = node { return reader.literalString(node, what: what).map(Selector.fixed) }
        guard let entries = reader.mapping(node, what: what) else { return nil }
        let keys = reader.checkKeys(entries, allowed: ["header", "path"], context: what)
        if let h = keys["header"], keys["path"] == nil { return reader.literalString(h.value, what: "'header' of \(what)").map { .header($0.lowercased()) } }
        if let p = keys["path"], keys["header"] == nil { return reader.literalString(p.value, what: "'path' of \(what)").map(Selector.pathParameter) }
        reader.error(Diagnostic(at: reader.location(node), "\(what) needs exactly one of 'header' or 'path'",
                                hint: "write a variant's name, {header: x-variant}, or {path: variant}"))
        return nil
    }

    /// `POST /fraud/{id}`: the method and the path's segments, checked.
    static func parseRouteKey(_ key: String, at loc: SourceLocation?, reader: inout NodeReader) -> (String, String)? {
        let parts = key.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, methods.contains(String(parts[0]).uppercased()), parts[1].hasPrefix("/") else {
            reader.error(Diagnostic(at: loc, "route '\(key)' is not METHOD /path", hint: "write routes as 'POST /fraud/score' (methods: \(methods.joined(separator: ", ")))"))
            return nil
        }
        let path = String(parts[1])
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        for (i, s) in segments.enumerated() where s.contains("{") || s.contains("}") {
            let ok = s.hasPrefix("{") && s.hasSuffix("}") && s.count > 2
            let greedy = s.hasSuffix("+}")
            if !ok || (greedy && i != segments.count - 1) {
                reader.error(Diagnostic(at: loc, "route '\(key)' has a bad path segment '\(s)'",
                                        hint: "a parameter is a whole segment '{name}'; a greedy '{name+}' must be the last segment"))
                return nil
            }
        }
        return (String(parts[0]).uppercased(), path)
    }

    static func readStage(name: String, node: Node, authorizers: [String: JWTAuthorizer], reader: inout NodeReader,
                          resolve: ([String]) -> Resolution) -> Stage? {
        let context = "stage '\(name)'"
        guard let entries = reader.mapping(node, what: context) else { return nil }
        let keys = reader.checkKeys(entries, allowed: ["routes", "defaults", "cors", "max_body", "throttle", "description"], context: context)
        var stage = Stage(name: name, routes: [], maxBodyBytes: 10_485_760, authorizers: [], location: reader.location(node))
        var ok = true
        stage.description = keys["description"].flatMap { reader.literalString($0.value, what: "'description' of \(context)") }
        var defaultAuth = Authorization.none
        var defaultTimeout = 29.0
        if let d = keys["defaults"], let dEntries = reader.mapping(d.value, what: "'defaults' of \(context)") {
            let dk = reader.checkKeys(dEntries, allowed: ["auth", "timeout"], context: "'defaults' of \(context)")
            if let a = dk["auth"] {
                if let auth = readAuthorization(a.value, context: "the defaults of \(context)", authorizers: authorizers, reader: &reader) { defaultAuth = auth } else { ok = false }
            }
            if let t = dk["timeout"] {
                if let s = reader.duration(t.value, what: "'defaults.timeout' of \(context)", resolve: resolve), s > 0 { defaultTimeout = s } else { ok = false }
            }
        }
        if let m = keys["max_body"] {
            if let n = reader.integer(m.value, what: "'max_body' of \(context) (bytes)", resolve: resolve) {
                if (1...10_485_760).contains(n) { stage.maxBodyBytes = n }
                else { reader.error(.outOfRange("'max_body' of \(context)", value: Double(n), range: "between 1 and 10485760 bytes (API Gateway's limit)", at: reader.location(m.value))); ok = false }
            } else { ok = false }
        }
        if let t = keys["throttle"] {
            if let th = readThrottle(t.value, context: "'throttle' of \(context)", reader: &reader, resolve: resolve) { stage.throttle = th } else { ok = false }
        }
        if let c = keys["cors"], let cEntries = reader.mapping(c.value, what: "'cors' of \(context)") {
            let ck = reader.checkKeys(cEntries, allowed: ["allow_origins", "allow_methods", "allow_headers", "expose_headers", "max_age"], context: "'cors' of \(context)")
            func list(_ k: String, _ d: [String]) -> [String] {
                guard let e = ck[k] else { return d }
                guard let l = readStringList(e.value, what: "'cors.\(k)' of \(context)", reader: &reader) else { ok = false; return d }
                return l
            }
            var cors = CORS(allowOrigins: list("allow_origins", ["*"]), allowMethods: list("allow_methods", ["*"]),
                            allowHeaders: list("allow_headers", ["*"]), exposeHeaders: list("expose_headers", []), maxAge: nil)
            if let m = ck["max_age"] {
                if let s = reader.duration(m.value, what: "'cors.max_age' of \(context)", resolve: resolve) { cors.maxAge = Int(s) } else { ok = false }
            }
            stage.cors = cors
        }
        guard let r = keys["routes"], let routeEntries = reader.mapping(r.value, what: "'routes' of \(context)") else {
            if keys["routes"] == nil { reader.error(.missingKey("routes", in: context, at: reader.location(node), hint: "add 'routes: {\"POST /score\": {endpoint: NAME}}'")) }
            return nil
        }
        var used = Set<String>()
        var seen: [String: (key: String, at: SourceLocation?)] = [:]
        for entry in routeEntries {
            let rc = "route '\(entry.key)' of \(context)"
            guard let (method, path) = parseRouteKey(entry.key, at: entry.keyLocation, reader: &reader) else { ok = false; continue }
            let normalized = "\(method) \(path.split(separator: "/").map { $0.hasPrefix("{") ? ($0.hasSuffix("+}") ? "{+}" : "{}") : String($0) }.joined(separator: "/"))"
            if let first = seen[normalized] {
                reader.error(Diagnostic(at: entry.keyLocation, "\(rc) matches the same requests as '\(first.key)' at \(first.at?.description ?? "another place")",
                                        hint: "routes differ by method or by a literal path segment; rename or remove one of them"))
                ok = false
                continue
            }
            seen[normalized] = (entry.key, entry.keyLocation)
            guard let rEntries = reader.mapping(entry.value, what: rc) else { ok = false; continue }
            let rk = reader.checkKeys(rEntries, allowed: ["endpoint", "variant", "target_model", "function", "payload", "mock", "auth", "timeout", "throttle"], context: rc)
            let targets = ["endpoint", "function", "mock"].filter { rk[$0] != nil }
            guard targets.count == 1 else {
                reader.error(Diagnostic(at: entry.keyLocation, "\(rc) needs exactly one integration, has \(targets.isEmpty ? "none" : targets.joined(separator: " and "))",
                                        hint: "give it 'endpoint: NAME', 'function: NAME' or 'mock: {status: 200, body: ...}'"))
                ok = false
                continue
            }
            var integration: Integration?
            switch targets[0] {
            case "endpoint":
                if let e = reader.literalString(rk["endpoint"]!.value, what: "'endpoint' of \(rc)") {
                    var variant: Selector?, model: Selector?
                    if let v = rk["variant"] { variant = readSelector(v.value, what: "'variant' of \(rc)", reader: &reader); if variant == nil { ok = false } }
                    if let m = rk["target_model"] { model = readSelector(m.value, what: "'target_model' of \(rc)", reader: &reader); if model == nil { ok = false } }
                    integration = .endpoint(name: e, variant: variant, targetModel: model)
                }
            case "function":
                if let f = reader.literalString(rk["function"]!.value, what: "'function' of \(rc)") {
                    var payload = "2.0"
                    if let p = rk["payload"], let text = reader.literalString(p.value, what: "'payload' of \(rc)") {
                        if text == "1.0" || text == "2.0" { payload = text }
                        else { reader.error(Diagnostic(at: reader.location(p.value), "'payload' of \(rc) is '\(text)'", hint: "use \"1.0\" (REST proxy event) or \"2.0\" (HTTP API event)")); ok = false }
                    }
                    integration = .function(name: f, payload: payload)
                }
            default:
                let m = rk["mock"]!
                if let mEntries = reader.mapping(m.value, what: "'mock' of \(rc)") {
                    let mk = reader.checkKeys(mEntries, allowed: ["status", "body", "content_type"], context: "'mock' of \(rc)")
                    var status = 200
                    if let s = mk["status"] {
                        if let n = reader.integer(s.value, what: "'mock.status' of \(rc)", resolve: resolve), (100...599).contains(n) { status = n } else { ok = false }
                    }
                    let body = mk["body"].flatMap { reader.string($0.value, what: "'mock.body' of \(rc)", resolve: resolve) } ?? ""
                    let type = mk["content_type"].flatMap { reader.literalString($0.value, what: "'mock.content_type' of \(rc)") } ?? "application/json"
                    integration = .mock(status: status, contentType: type, body: body)
                }
            }
            if targets[0] != "endpoint" {
                for k in ["variant", "target_model"] where rk[k] != nil {
                    reader.error(Diagnostic(at: rk[k]!.keyLocation, "'\(k)' of \(rc) only goes with an 'endpoint' integration", hint: "remove '\(k)'"))
                    ok = false
                }
            }
            if targets[0] != "function", let p = rk["payload"] {
                reader.error(Diagnostic(at: p.keyLocation, "'payload' of \(rc) only goes with a 'function' integration", hint: "remove 'payload'"))
                ok = false
            }
            var auth = defaultAuth
            if let a = rk["auth"] {
                if let parsed = readAuthorization(a.value, context: rc, authorizers: authorizers, reader: &reader) { auth = parsed } else { ok = false }
            }
            if case .jwt(let name, _) = auth { used.insert(name) }
            var timeout = defaultTimeout
            if let t = rk["timeout"] {
                if let s = reader.duration(t.value, what: "'timeout' of \(rc)", resolve: resolve), s > 0 { timeout = s } else { ok = false }
            }
            var throttle: Throttle?
            if let t = rk["throttle"] {
                throttle = readThrottle(t.value, context: "'throttle' of \(rc)", reader: &reader, resolve: resolve)
                if throttle == nil { ok = false }
            }
            guard let integration else { ok = false; continue }
            let key = "\(method) \(path)"
            stage.routes.append(RouteConfiguration(key: key, method: method, path: path, integration: integration,
                                                   authorization: auth, timeout: timeout, throttle: throttle))
            stage.routeLocations[key] = entry.keyLocation
        }
        stage.authorizers = used.sorted().compactMap { authorizers[$0] }
        return ok ? stage : nil
    }

    /// `unset`: variables without a value (already reported), whose keys are not checked further.
    static func readAPIKey(name: String, node: Node, unset: Set<String>, reader: inout NodeReader, resolve: ([String]) -> Resolution) -> APIKey? {
        let context = "API key '\(name)'"
        guard let entries = reader.mapping(node, what: context) else { return nil }
        let keys = reader.checkKeys(entries, allowed: ["value", "usage_plan", "enabled"], context: context)
        guard let v = keys["value"] else {
            reader.error(.missingKey("value", in: context, at: reader.location(node),
                                     hint: "add 'value: ${var.NAME}' with a sensitive variable read from an environment variable or a variable file"))
            return nil
        }
        guard let text = reader.literalString(v.value, what: "'value' of \(context)") else { return nil }
        guard text.contains("${") else {
            reader.error(Diagnostic(at: reader.location(v.value), "the value of \(context) is written in the stack in clear",
                                    hint: "declare a sensitive variable (from_env: MY_KEY, or a --var-file) and write 'value: ${var.NAME}'"))
            return nil
        }
        if let t = try? Template.parse(text), t.references.contains(where: { $0.count == 2 && $0[0] == "var" && unset.contains($0[1]) }) { return nil }
        var value = ""
        switch reader.evaluate(text, at: reader.location(v.value), resolve: resolve) {
        case .value(let s, true)?: value = s.description
        case .value?:
            reader.error(Diagnostic(at: reader.location(v.value), "the value of \(context) comes from a variable that is not sensitive",
                                    hint: "add 'sensitive: true' to the variable so plans, state and logs never show the key"))
            return nil
        case .knownAfterApply?: reader.error(.notKnownAtPlan(text, at: reader.location(v.value))); return nil
        case nil: return nil
        }
        guard value.count >= 20 else {
            reader.error(Diagnostic(at: reader.location(v.value), "the value of \(context) is \(value.count) characters long",
                                    hint: "API keys are at least 20 characters, as API Gateway requires"))
            return nil
        }
        var key = APIKey(name: name, valueSHA256: SHA256.hex(of: value), usagePlan: nil, enabled: true, location: reader.location(node))
        key.usagePlan = keys["usage_plan"].flatMap { reader.literalString($0.value, what: "'usage_plan' of \(context)") }
        if let e = keys["enabled"] { guard let b = reader.bool(e.value, what: "'enabled' of \(context)") else { return nil }; key.enabled = b }
        return key
    }

    static func readUsagePlan(name: String, node: Node, reader: inout NodeReader, resolve: ([String]) -> Resolution) -> UsagePlan? {
        let context = "usage plan '\(name)'"
        guard let entries = reader.mapping(node, what: context) else { return nil }
        let keys = reader.checkKeys(entries, allowed: ["throttle", "quota", "stages", "routes"], context: context)
        var plan = UsagePlan(name: name, stages: [], routeThrottles: [:], location: reader.location(node))
        var ok = true
        if let t = keys["throttle"] {
            if let th = readThrottle(t.value, context: "'throttle' of \(context)", reader: &reader, resolve: resolve) { plan.throttle = th } else { ok = false }
        }
        if let q = keys["quota"], let qEntries = reader.mapping(q.value, what: "'quota' of \(context)") {
            let qk = reader.checkKeys(qEntries, allowed: ["limit", "period"], context: "'quota' of \(context)")
            if let l = qk["limit"], let n = reader.integer(l.value, what: "'quota.limit' of \(context)", resolve: resolve), n >= 1 { plan.quotaLimit = n }
            else { if qk["limit"] == nil { reader.error(.missingKey("limit", in: "'quota' of \(context)", at: reader.location(q.value), hint: "add 'limit: 10000'")) }; ok = false }
            if let p = qk["period"], let text = reader.literalString(p.value, what: "'quota.period' of \(context)") {
                if let period = UsagePlan.Period(rawValue: text) { plan.quotaPeriod = period }
                else { reader.error(Diagnostic(at: reader.location(p.value), "'quota.period' of \(context) is '\(text)'", hint: "use day, week or month")); ok = false }
            } else { plan.quotaPeriod = .day }
        }
        if let s = keys["stages"] {
            if let list = readStringList(s.value, what: "'stages' of \(context)", reader: &reader) { plan.stages = list } else { ok = false }
        }
        if let r = keys["routes"], let rEntries = reader.mapping(r.value, what: "'routes' of \(context)") {
            for entry in rEntries {
                let parts = entry.key.split(separator: " ", maxSplits: 1)
                guard parts.count == 2, parseRouteKey(String(parts[1]), at: entry.keyLocation, reader: &reader) != nil else {
                    if parts.count != 2 {
                        reader.error(Diagnostic(at: entry.keyLocation, "route override '\(entry.key)' of \(context) is not 'STAGE METHOD /path'",
                                                hint: "write it as 'v1 POST /fraud/score'"))
                    }
                    ok = false
                    continue
                }
                guard let rEntriesInner = reader.mapping(entry.value, what: "route override '\(entry.key)' of \(context)") else { ok = false; continue }
                let rk = reader.checkKeys(rEntriesInner, allowed: ["throttle"], context: "route override '\(entry.key)' of \(context)")
                if let t = rk["throttle"], let th = readThrottle(t.value, context: "'throttle' of route override '\(entry.key)'", reader: &reader, resolve: resolve) {
                    let (method, path) = parseRouteKey(String(parts[1]), at: entry.keyLocation, reader: &reader)!
                    plan.routeThrottles["\(parts[0]) \(method) \(path)"] = th
                } else { ok = false }
            }
        }
        return ok ? plan : nil
    }
}
