import NIOHTTP1

/// Which AWS API a request on the environment's AWS URL calls, decided by the request itself as
/// the AWS SDKs address them: a path prefix for the REST APIs (sagemaker-runtime, Lambda), the
/// `X-Amz-Target` header for JSON 1.1 APIs (EventBridge's `AWSEvents.PutEvents`). The front door
/// hands the request to that API's handler; an API this environment does not serve is an
/// `UnknownOperationException`, never a guess.
enum AWSAPI: Equatable {
    /// `POST /endpoints/{name}/invocations[-response-stream]`.
    case sageMakerRuntime
    /// `POST /2015-03-31/functions/{name}/invocations`.
    case lambda
    /// sagemaker-featurestore-runtime: `/FeatureGroup/{name}` and `POST /BatchGetRecord`.
    case featureStore
    /// A JSON 1.1 call: the service's target prefix and the operation.
    case json(service: String, operation: String)
    /// `GET /metrics`: every endpoint's and route's counters in Prometheus text.
    case metrics
    /// `GET /ping` or `GET /`.
    case ping
    case unknown

    static let sageMakerPrefix = "/endpoints/"
    static let lambdaPrefix = "/2015-03-31/functions/"

    static func of(method: HTTPMethod, path: Substring, headers: HTTPHeaders) -> AWSAPI {
        if path.hasPrefix(sageMakerPrefix) { return .sageMakerRuntime }
        if path.hasPrefix(lambdaPrefix) { return .lambda }
        if path.hasPrefix(FrontDoorHandler.featureGroupPrefix) || path == FrontDoorHandler.batchGetPath { return .featureStore }
        if let target = headers.first(name: "x-amz-target") {
            guard let dot = target.firstIndex(of: ".") else { return .unknown }
            return .json(service: String(target[..<dot]), operation: String(target[target.index(after: dot)...]))
        }
        if method == .GET && path == "/metrics" { return .metrics }
        if method == .GET && (path == "/ping" || path == "/") { return .ping }
        return .unknown
    }
}
