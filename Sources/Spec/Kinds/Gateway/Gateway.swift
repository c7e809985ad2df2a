import EnvironmentAPI

/// The stack's API gateway, declared under `gateway:`. Its stages, API keys and usage plans are
/// resources of their own (`stages.v1`, `api_keys.ci`, `usage_plans.standard`): each is planned
/// and changed in place on its own. JWT authorizers are settings the stages that use them carry.
public enum Gateway {
    /// The key of the gateway's section in a stack file.
    static let section = "gateway"
    /// Settings under `gateway:` that are not resources of their own.
    static let settings = ["authorizers"]
    static let methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"]
    /// The largest request rate a throttle may allow, per second.
    static let maxRate = 1_000_000.0

    static func readThrottle(_ node: Node, context: String, reader: inout NodeReader) -> Throttle? {
        guard let keys = reader.keys(node, allowed: ["rate", "burst"], context: context) else { return nil }
        guard let r = reader.require(keys, "rate", hint: "add 'rate: 100' (requests per second)") else { return nil }
        guard let rate = reader.number(r.value, what: "'rate' of \(context)", range: .positive(atMost: maxRate)) else { return nil }
        var burst = max(1, Int(rate.rounded(.up)))
        if let b = keys["burst"] {
            guard let n = reader.integer(b.value, what: "'burst' of \(context)", range: 1...Int(maxRate)) else { return nil }
            burst = n
        }
        return Throttle(rate: rate, burst: burst)
    }

    static func readAuthorizer(name: String, node: Node, stackDirectory: String, reader: inout NodeReader,
                               files: any SpecFileSystem) -> JWTAuthorizer? {
        let what = "authorizer '\(name)'"
        guard let keys = reader.keys(node, allowed: ["type", "issuer", "audiences", "jwks_file", "jwks_url"], context: what) else { return nil }
        var failed = false
        if let t = keys["type"] {
            if let text = reader.literalString(t.value, what: "'type' of \(what)") {
                if text != "jwt" { reader.error(.authorizerType(text, of: what, at: reader.location(t.value))); failed = true }
            } else { failed = true }
        }
        var issuer = ""
        if let i = reader.require(keys, "issuer", hint: "add 'issuer: https://issuer.example.com'") {
            if let text = reader.string(i.value, what: "'issuer' of \(what)") { issuer = text } else { failed = true }
        } else { failed = true }
        var audiences: [String] = []
        if let a = reader.require(keys, "audiences", hint: "add 'audiences: [my-api]'") {
            if let list = reader.stringList(a.value, what: "'audiences' of \(what)") {
                if list.isEmpty {
                    reader.error(.wrongType("'audiences' of \(what)", expected: "a non-empty list", found: "an empty list", at: reader.location(a.value)))
                    failed = true
                }
                audiences = list
            } else { failed = true }
        } else { failed = true }
        var j = JWTAuthorizer(name: name, issuer: issuer, audiences: audiences)
        switch (keys["jwks_file"], keys["jwks_url"]) {
        case (let f?, nil):
            if let path = reader.string(f.value, what: "'jwks_file' of \(what)") {
                let resolved = PathMath.resolve(path, against: stackDirectory)
                if let hash = files.sha256(ofFileAt: resolved) {
                    (j.jwksFile, j.jwksFileAsWritten, j.jwksSHA256) = (resolved, path, hash)
                } else {
                    reader.error(.missingFile(path, resolved: resolved, what: "JWKS of \(what)", at: reader.location(f.value)))
                    failed = true
                }
            } else { failed = true }
        case (nil, let u?):
            if let text = reader.literalString(u.value, what: "'jwks_url' of \(what)") {
                switch reader.evaluate(text, at: reader.location(u.value)) {
                case .value(let v, let sensitive)?: (j.jwksURL, j.jwksURLSensitive) = (v.description, sensitive)
                case .knownAfterApply?: reader.error(.notKnownAtPlan(text, at: reader.location(u.value))); failed = true
                case nil: failed = true
                }
            } else { failed = true }
        case (nil, nil):
            reader.error(.missingKey("jwks_file", in: what, at: keys.location,
                                     hint: "add 'jwks_file: keys/jwks.json' or 'jwks_url: https://…/.well-known/jwks.json'"))
            failed = true
        case (.some, .some(let u)):
            reader.error(.bothJWKS(what, at: u.keyLocation))
            failed = true
        }
        return failed ? nil : j
    }

    /// `POST /fraud/{id}`: the method and the path, checked.
    static func parseRouteKey(_ key: String, at loc: SourceLocation?, reader: inout NodeReader) -> (method: String, path: String)? {
        let parts = key.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, methods.contains(String(parts[0]).uppercased()), parts[1].hasPrefix("/") else {
            reader.error(.routeKeyMalformed(key, at: loc))
            return nil
        }
        let path = String(parts[1])
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var seen = Set<String>()
        for (i, s) in segments.enumerated() where s.contains("{") || s.contains("}") {
            let ok = s.hasPrefix("{") && s.hasSuffix("}") && s.count > 2
            let greedy = s.hasSuffix("+}")
            if !ok || (greedy && i != segments.count - 1) {
                reader.error(.routeSegmentMalformed(key, segment: String(s), at: loc))
                return nil
            }
            let name = String(s.dropFirst().dropLast(greedy ? 2 : 1))
            guard !name.isEmpty, seen.insert(name).inserted else {
                reader.error(.routeSegmentMalformed(key, segment: String(s), at: loc))
                return nil
            }
        }
        return (String(parts[0]).uppercased(), path)
    }

    /// The names of a route path's parameters: `/a/{id}/{rest+}` has `id` and `rest`.
    static func pathParameters(_ path: String) -> Set<String> {
        var names = Set<String>()
        for s in path.split(separator: "/") where s.hasPrefix("{") && s.hasSuffix("}") {
            names.insert(String(s.dropFirst().dropLast(s.hasSuffix("+}") ? 2 : 1)))
        }
        return names
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

extension Throttle {
    /// Plan attributes `PREFIX.rate` and `PREFIX.burst`.
    func attributes(prefix: String) -> Attributes {
        [prefix + ".rate": .number(rate), prefix + ".burst": .number(Double(burst))]
    }
}
