import NIOCore
import NIOHTTP1

/// One request to an endpoint on its way through the forwarder: what every step after routing
/// needs, whichever listener (the AWS front door or the gateway) took it.
struct Exchange {
    var head: HTTPRequestHead
    var endpoint: String
    var variant: VariantRoute
    var requestID: String
    var keepAlive: Bool
    /// When the request's last byte arrived (uptime nanoseconds).
    var start: UInt64
    /// Set when this invocation is sampled for data capture.
    var capture: CaptureWriter?
    var body: [ByteBuffer]
    /// InvokeEndpointWithResponseStream: the answer goes out as event-stream PayloadParts.
    var stream = false
    /// Copies of this request sent to shadow variants, waiting for the production answer.
    var pairs: [ShadowPair] = []
    /// The caller's TargetModel, on a multi-model endpoint.
    var targetModel: String?
    /// Set on a multi-model endpoint served by the user's own server: the router loads models.
    var loader: ModelLoading?
    var loadAttempts = 0
}

/// What every connection's handler on the front door and the gateway reads. One per host.
final class FrontDoorServices: Sendable {
    let table: RouteTable
    let metrics: MetricsRegistry
    let requestIDs: RequestIDs
    let shadowLane: ShadowLane
    let functions: FunctionService
    let gateway: GatewayState
    let features: FeatureStoreService?
    let events: EventBusService?

    init(table: RouteTable, metrics: MetricsRegistry, requestIDs: RequestIDs, shadowLane: ShadowLane, functions: FunctionService, gateway: GatewayState,
         features: FeatureStoreService? = nil, events: EventBusService? = nil) {
        self.features = features
        self.events = events
        self.table = table
        self.metrics = metrics
        self.requestIDs = requestIDs
        self.shadowLane = shadowLane
        self.functions = functions
        self.gateway = gateway
    }
}
