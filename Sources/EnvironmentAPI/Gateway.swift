/// The gateway as the environment host receives it: what every route, key, plan and stage should
/// be. The stack's types (module Spec) use the value types here.

/// The event format of a Lambda proxy integration.
public enum PayloadFormat: String, Sendable, Codable, CaseIterable {
    /// API Gateway's REST proxy event.
    case v1 = "1.0"
    /// An HTTP API's event.
    case v2 = "2.0"
}

/// What a route hands the request to.
public enum Integration: Sendable, Equatable, Codable {
    /// Straight to an endpoint's invocation; the variant or target model may be pinned.
    case endpoint(name: String, variant: Selector?, targetModel: Selector?)
    /// Lambda proxy integration.
    case function(name: String, payload: PayloadFormat)
    /// A fixed answer.
    case mock(status: Int, contentType: String, body: String)
}

/// A route's enrichment from a feature group: the record identifier comes from the request (a
/// path parameter, a header, or a field of a JSON body), and the record's `features` follow the
/// request's own features in the CSV row the endpoint receives. Without a record the route
/// answers 404, or uses `defaults` (one per feature).
public struct Enrichment: Sendable, Equatable, Codable {
    public enum Source: Sendable, Equatable, Codable {
        case pathParameter(String)
        case header(String)
        /// A JSON body `{"FIELD": "id", "features": [1, 2, 3]}`: the identifier, and the request's own features.
        case jsonField(String)
    }

    public var group: String
    public var identifier: Source
    public var features: [String]
    public var defaults: [String]?

    public init(group: String, identifier: Source, features: [String], defaults: [String]?) {
        self.group = group
        self.identifier = identifier
        self.features = features
        self.defaults = defaults
    }

    public var sourceText: String {
        switch identifier {
        case .pathParameter(let p): return "path.\(p)"
        case .header(let h): return "header.\(h)"
        case .jsonField(let f): return "json.\(f)"
        }
    }
}

/// A value a route takes from the route itself, a path parameter or a request header.
public enum Selector: Sendable, Equatable, Codable {
    case fixed(String)
    case pathParameter(String)
    case header(String)
}

/// Who may call a route.
public enum Authorization: Sendable, Equatable, Codable {
    case none
    case apiKey
    case jwt(authorizer: String, scopes: [String])
}

/// A JWT authorizer: tokens signed with RS256 or ES256 by a key of the JWKS, from `issuer`, for
/// one of `audiences`.
public struct JWTAuthorizer: Sendable, Equatable, Codable {
    public var name: String
    public var issuer: String
    public var audiences: [String]
    /// An absolute path on this machine, or nil when the keys come from `jwksURL`.
    public var jwksFile: String?
    /// The file as the stack writes it (relative to the stack file), for plans.
    public var jwksFileAsWritten: String?
    public var jwksURL: String?
    /// Set when the URL came from a sensitive variable (it may carry a credential): plan and state
    /// show only a fingerprint.
    public var jwksURLSensitive = false
    /// The JWKS file's content hash, so a rotated key set is a change to apply.
    public var jwksSHA256: String?
    /// What a snapshot reports instead of a sensitive JWKS URL: its fingerprint.
    public var jwksURLFingerprint: String?

    /// The fingerprint a sensitive URL is known by in plans, state and snapshots.
    public static func fingerprint(ofURL url: String) -> String { SHA256.hex(of: "mlgw-sensitive:" + url) }

    /// As a snapshot may show it: a sensitive URL replaced by its fingerprint.
    public var redacted: JWTAuthorizer {
        guard jwksURLSensitive, let url = jwksURL else { return self }
        var r = self
        r.jwksURL = nil
        r.jwksURLFingerprint = Self.fingerprint(ofURL: url)
        return r
    }

    public init(name: String, issuer: String, audiences: [String], jwksFile: String? = nil, jwksURL: String? = nil) {
        self.name = name
        self.issuer = issuer
        self.audiences = audiences
        self.jwksFile = jwksFile
        self.jwksURL = jwksURL
    }
}

public struct Throttle: Sendable, Equatable, Codable {
    /// Requests per second, refilled continuously.
    public var rate: Double
    /// The bucket's size: how many requests may arrive at once.
    public var burst: Int

    public init(rate: Double, burst: Int) {
        self.rate = rate
        self.burst = burst
    }
}

public struct CORS: Sendable, Equatable, Codable {
    public var allowOrigins: [String]
    public var allowMethods: [String]
    public var allowHeaders: [String]
    public var exposeHeaders: [String]
    /// Seconds a browser may cache a preflight's answer.
    public var maxAge: Int?

    public init(allowOrigins: [String], allowMethods: [String], allowHeaders: [String], exposeHeaders: [String], maxAge: Int?) {
        self.allowOrigins = allowOrigins
        self.allowMethods = allowMethods
        self.allowHeaders = allowHeaders
        self.exposeHeaders = exposeHeaders
        self.maxAge = maxAge
    }
}

/// One route of a stage, as the host compiles it into its router.
public struct RouteConfiguration: Sendable, Equatable, Codable {
    public var key: String
    public var method: String
    public var path: String
    public var integration: Integration
    public var authorization: Authorization
    /// Seconds; at most `RouteConfiguration.maxTimeout`.
    public var timeout: Double
    public var throttle: Throttle?
    /// Features read from a feature group and sent to the endpoint after the request's own.
    public var enrich: Enrichment?

    /// The longest integration timeout a route may have (API Gateway's HTTP APIs allow 30 s;
    /// the local gateway allows up to 15 minutes, a function's own limit).
    public static let maxTimeout = 900.0

    public init(key: String, method: String, path: String, integration: Integration, authorization: Authorization, timeout: Double, throttle: Throttle?,
                enrich: Enrichment? = nil) {
        self.enrich = enrich
        self.key = key
        self.method = method
        self.path = path
        self.integration = integration
        self.authorization = authorization
        self.timeout = timeout
        self.throttle = throttle
    }
}

/// A stage (PUT /_control/gateway/stages/NAME): applied in place, swapped whole.
public struct StageConfiguration: ControlConfiguration {
    public typealias Status = ControlAcknowledgement
    public static let collection = ControlCollection.stages

    public var name: String
    public var routes: [RouteConfiguration]
    public var cors: CORS?
    public var maxBodyBytes: Int
    public var throttle: Throttle?
    public var authorizers: [JWTAuthorizer]

    public init(name: String, routes: [RouteConfiguration], cors: CORS?, maxBodyBytes: Int, throttle: Throttle?, authorizers: [JWTAuthorizer]) {
        self.name = name
        self.routes = routes
        self.cors = cors
        self.maxBodyBytes = maxBodyBytes
        self.throttle = throttle
        self.authorizers = authorizers
    }
}

/// An API key (PUT /_control/gateway/api-keys/NAME): the host only ever sees the key's SHA-256.
public struct APIKeyConfiguration: ControlConfiguration {
    public typealias Status = ControlAcknowledgement
    public static let collection = ControlCollection.apiKeys

    public var name: String
    public var valueSHA256: String
    public var usagePlan: String?
    public var enabled: Bool

    public init(name: String, valueSHA256: String, usagePlan: String?, enabled: Bool) {
        self.name = name
        self.valueSHA256 = valueSHA256
        self.usagePlan = usagePlan
        self.enabled = enabled
    }
}

/// The period a usage plan's quota counts over, in UTC.
public enum QuotaPeriod: String, Sendable, Codable, CaseIterable { case day, week, month }

/// A usage plan (PUT /_control/gateway/usage-plans/NAME).
public struct UsagePlanConfiguration: ControlConfiguration {
    public typealias Status = ControlAcknowledgement
    public static let collection = ControlCollection.usagePlans

    public var name: String
    public var throttle: Throttle?
    public var quotaLimit: Int?
    public var quotaPeriod: QuotaPeriod?
    public var stages: [String]
    /// `STAGE METHOD /path` to its throttle.
    public var routeThrottles: [String: Throttle]

    public init(name: String, throttle: Throttle?, quotaLimit: Int?, quotaPeriod: QuotaPeriod?, stages: [String], routeThrottles: [String: Throttle]) {
        self.name = name
        self.throttle = throttle
        self.quotaLimit = quotaLimit
        self.quotaPeriod = quotaPeriod
        self.stages = stages
        self.routeThrottles = routeThrottles
    }
}

/// Per-route counters of the gateway, in `status`.
public struct RouteMetricsSummary: Sendable, Equatable, Codable {
    public var stage: String
    public var route: String
    public var requests: UInt64
    public var errors4xx: UInt64
    public var errors5xx: UInt64
    public var latencyMs: LatencyPercentiles

    public init(stage: String, route: String, requests: UInt64, errors4xx: UInt64, errors5xx: UInt64, latencyMs: LatencyPercentiles) {
        self.stage = stage
        self.route = route
        self.requests = requests
        self.errors4xx = errors4xx
        self.errors5xx = errors5xx
        self.latencyMs = latencyMs
    }
}
