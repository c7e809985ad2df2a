import EnvironmentAPI

/// A stage: a version of the API with its own routes and defaults, at `{gateway_url}/{name}`.
public struct Stage: ResourceDefinition {
    public static let kind = ResourceKind.stage
    public static let section = [Gateway.section, "stages"]
    public static let singular = "stage"
    public static let referenceableAttributes = ["name", "url"]
    /// API Gateway's limit for a request body, bytes.
    static let maxBodyLimit = 10_485_760

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

    public var dependencies: [ResourceAddress] {
        var deps = Set<ResourceAddress>()
        for r in routes {
            switch r.integration {
            case .endpoint(let e, _, _): deps.insert(ResourceAddress(.endpoint, e))
            case .function(let f, _): deps.insert(ResourceAddress(.function, f))
            case .mock: break
            }
            if let e = r.enrich { deps.insert(ResourceAddress(.featureGroup, e.group)) }
        }
        return deps.sorted()
    }

    public static func runningAttributes(of c: StageConfiguration) -> Attributes {
        var a: Attributes = [:]
        a["max_body"] = .number(Double(c.maxBodyBytes))
        if let t = c.throttle { a.merge(t.attributes(prefix: "throttle")) { $1 } }
        if let cors = c.cors {
            a["cors.allow_origins"] = .string(cors.allowOrigins.joined(separator: ","))
            a["cors.allow_methods"] = .string(cors.allowMethods.joined(separator: ","))
            a["cors.allow_headers"] = .string(cors.allowHeaders.joined(separator: ","))
            if !cors.exposeHeaders.isEmpty { a["cors.expose_headers"] = .string(cors.exposeHeaders.joined(separator: ",")) }
            if let m = cors.maxAge { a["cors.max_age"] = .number(Double(m)) }
        }
        for r in c.routes {
            let p = "routes[\(r.key)]."
            switch r.integration {
            case .endpoint(let e, let v, let m):
                a[p + "endpoint"] = .string(e)
                if let v { a[p + "variant"] = .string(v.text) }
                if let m { a[p + "target_model"] = .string(m.text) }
            case .function(let f, let payload):
                a[p + "function"] = .string(f)
                a[p + "payload"] = .string(payload.rawValue)
            case .mock(let status, let type, let body):
                a[p + "mock.status"] = .number(Double(status))
                a[p + "mock.content_type"] = .string(type)
                a[p + "mock.body"] = .string(body)
            }
            if let e = r.enrich {
                a[p + "enrich.feature_group"] = .string(e.group)
                a[p + "enrich.record_identifier"] = .string(e.sourceText)
                a[p + "enrich.features"] = .string(e.features.joined(separator: ","))
                a[p + "enrich.on_missing"] = .string(e.defaults.map { "defaults " + $0.joined(separator: ",") } ?? "404")
            }
            a[p + "auth"] = .string(r.authorization.text)
            a[p + "timeout"] = .number(r.timeout)
            if let t = r.throttle { a.merge(t.attributes(prefix: p + "throttle")) { $1 } }
        }
        for j in c.authorizers {
            let p = "authorizers.\(j.name)."
            a[p + "issuer"] = .string(j.issuer)
            a[p + "audiences"] = .string(j.audiences.joined(separator: ","))
            if let f = j.jwksFileAsWritten ?? j.jwksFile { a[p + "jwks_file"] = .string(f); a[p + "jwks_sha256"] = .string(j.jwksSHA256 ?? "") }
            if let u = j.jwksURL {
                a[p + "jwks_url"] = j.jwksURLSensitive ? .sensitive(fingerprint: JWTAuthorizer.fingerprint(ofURL: u)) : .string(u)
            } else if let fingerprint = j.jwksURLFingerprint {
                // A snapshot's: the host never shows a sensitive URL.
                a[p + "jwks_url"] = .sensitive(fingerprint: fingerprint)
            }
        }
        return a
    }

    public static func replacementReason(changed paths: [String]) -> String? { nil }
    public static func note(forChangedAttribute path: String) -> String? { "in place, no restart" }
}

extension Stage: ReadableDefinition {
    /// An enriching route's features are single features of its group.
    func check(in index: ResourceIndex, into diagnostics: inout Diagnostics) {
        for r in routes {
            guard let e = r.enrich, let g = index.value(FeatureGroup.self, named: e.group) else { continue }
            for f in e.features {
                guard let d = g.features.first(where: { $0.name == f }) else {
                    diagnostics.append(.enrichedFeatureUnusable(f, group: g.name, route: r.key, stage: name, problem: "is not a feature",
                                                                suggestion: suggestion(for: f, among: g.features.map(\.name)), at: location))
                    continue
                }
                if d.collection != nil {
                    diagnostics.append(.enrichedFeatureUnusable(f, group: g.name, route: r.key, stage: name, problem: "is a collection", suggestion: nil, at: location))
                }
            }
        }
    }

    func configuration(in index: ResourceIndex, local: LocalSettings) -> StageConfiguration {
        StageConfiguration(name: name, routes: routes, cors: cors, maxBodyBytes: maxBodyBytes, throttle: throttle, authorizers: authorizers)
    }
}

extension ResourceSpec {
    public var stage: Stage? { value(as: Stage.self) }
}
