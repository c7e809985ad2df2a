/// The gateway and functions as the environment host receives them: what every route, key,
/// plan, stage and function should be. The stack's types (module Spec) use the value types here.

/// What a route hands the request to.
public enum Integration: Sendable, Equatable, Codable {
    /// Straight to an endpoint's invocation; the variant or target model may be pinned.
    case endpoint(name: String, variant: Selector?, targetModel: Selector?)
    /// Lambda proxy integration with payload format "1.0" or "2.0".
    case function(name: String, payload: String)
    /// A fixed answer.
    case mock(status: Int, contentType: String, body: String)
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
    public var timeout: Double
    public var throttle: Throttle?

    public init(key: String, method: String, path: String, integration: Integration, authorization: Authorization, timeout: Double, throttle: Throttle?) {
        self.key = key
        self.method = method
        self.path = path
        self.integration = integration
        self.authorization = authorization
        self.timeout = timeout
        self.throttle = throttle
    }
}

/// PUT /_control/gateway/stages/{name}: applied in place, swapped whole.
public struct StageConfiguration: Sendable, Equatable, Codable {
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

/// PUT /_control/gateway/api-keys/{name}: the host only ever sees the key's SHA-256.
public struct APIKeyConfiguration: Sendable, Equatable, Codable {
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

/// PUT /_control/gateway/usage-plans/{name}.
public struct UsagePlanConfiguration: Sendable, Equatable, Codable {
    public var name: String
    public var throttle: Throttle?
    public var quotaLimit: Int?
    /// day, week or month.
    public var quotaPeriod: String?
    public var stages: [String]
    /// `STAGE METHOD /path` to its throttle.
    public var routeThrottles: [String: Throttle]

    public init(name: String, throttle: Throttle?, quotaLimit: Int?, quotaPeriod: String?, stages: [String], routeThrottles: [String: Throttle]) {
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

/// PUT /_control/functions/{name}: the workers' command and environment, and the pool's limits.
/// Returns once the provisioned workers are warm (waiting for their first event).
public struct FunctionConfiguration: Sendable, Equatable, Codable {
    public var name: String
    /// `path/to/file.function` for the bundled Python runtime; then `command` is empty.
    public var handler: String?
    public var command: [String]
    public var environment: [String: String]
    public var workingDirectory: String
    public var codeSHA256: String
    public var timeout: Double
    public var memoryMB: Int
    public var provisionedConcurrency: Int
    public var reservedConcurrency: Int
    public var maxRetries: Int
    public var retryDelay: Double
    public var maxEventAge: Double
    /// How long a worker may take to initialise before it counts as failed.
    public var initTimeout: Double

    public init(name: String, handler: String?, command: [String], environment: [String: String], workingDirectory: String, codeSHA256: String,
                timeout: Double, memoryMB: Int, provisionedConcurrency: Int, reservedConcurrency: Int,
                maxRetries: Int, retryDelay: Double, maxEventAge: Double, initTimeout: Double) {
        self.name = name
        self.handler = handler
        self.command = command
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.codeSHA256 = codeSHA256
        self.timeout = timeout
        self.memoryMB = memoryMB
        self.provisionedConcurrency = provisionedConcurrency
        self.reservedConcurrency = reservedConcurrency
        self.maxRetries = maxRetries
        self.retryDelay = retryDelay
        self.maxEventAge = maxEventAge
        self.initTimeout = initTimeout
    }
}

public struct WorkerStatus: Sendable, Equatable, Codable {
    public var id: String
    public var pid: Int32
    /// starting, idle, busy, stopping
    public var state: String
    public var invocations: UInt64

    public init(id: String, pid: Int32, state: String, invocations: UInt64) {
        self.id = id
        self.pid = pid
        self.state = state
        self.invocations = invocations
    }
}

public struct FunctionStatus: Sendable, Equatable, Codable {
    public var name: String
    public var codeSHA256: String
    public var arn: String
    public var workers: [WorkerStatus]
    public var invocations: UInt64
    public var errors: UInt64
    public var throttles: UInt64
    public var timeouts: UInt64
    public var asyncQueued: Int
    public var asyncFailed: UInt64

    public init(name: String, codeSHA256: String, arn: String, workers: [WorkerStatus], invocations: UInt64, errors: UInt64,
                throttles: UInt64, timeouts: UInt64, asyncQueued: Int, asyncFailed: UInt64) {
        self.name = name
        self.codeSHA256 = codeSHA256
        self.arn = arn
        self.workers = workers
        self.invocations = invocations
        self.errors = errors
        self.throttles = throttles
        self.timeouts = timeouts
        self.asyncQueued = asyncQueued
        self.asyncFailed = asyncFailed
    }
}
