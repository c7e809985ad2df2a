/// What an endpoint should serve (PUT /_control/endpoints/NAME). The host converges to it and
/// answers once every new instance is healthy.
public struct EndpointConfiguration: ControlConfiguration {
    public typealias Status = EndpointStatus
    public static let collection = ControlCollection.endpoints

    public var name: String
    public var variants: [VariantConfiguration]
    /// Seconds a new instance may take to answer /ping and a probe inference.
    public var healthTimeout: Double
    public var dataCapture: CaptureConfiguration?
    /// Set for a multi-model endpoint (then `variants` is empty).
    public var multiModel: MultiModelConfiguration?

    public init(name: String, variants: [VariantConfiguration], healthTimeout: Double, dataCapture: CaptureConfiguration? = nil,
                multiModel: MultiModelConfiguration? = nil) {
        self.name = name
        self.variants = variants
        self.healthTimeout = healthTimeout
        self.dataCapture = dataCapture
        self.multiModel = multiModel
    }
}

/// A multi-model endpoint: a folder of artifacts of one runtime, served by `instances` processes.
public struct MultiModelConfiguration: Sendable, Equatable, Codable {
    public var directory: String
    public var runtime: ModelRuntime
    public var cacheModels: Int
    public var cacheMemoryMB: Int?
    public var instances: Int
    /// A registered model with a command, serving the multi-model container API.
    public var server: String?
    public var serverSHA256: String?

    public init(directory: String, runtime: ModelRuntime, cacheModels: Int, cacheMemoryMB: Int? = nil, instances: Int,
                server: String? = nil, serverSHA256: String? = nil) {
        self.server = server
        self.serverSHA256 = serverSHA256
        self.directory = directory
        self.runtime = runtime
        self.cacheModels = cacheModels
        self.cacheMemoryMB = cacheMemoryMB
        self.instances = instances
    }
}

/// Data capture of an endpoint (SageMaker's DataCaptureConfig).
public struct CaptureConfiguration: Sendable, Equatable, Codable {
    public var samplePercent: Double
    public var captureInput: Bool
    public var captureOutput: Bool
    public var csvContentTypes: [String]
    public var jsonContentTypes: [String]

    public init(samplePercent: Double, captureInput: Bool, captureOutput: Bool, csvContentTypes: [String], jsonContentTypes: [String]) {
        self.samplePercent = samplePercent
        self.captureInput = captureInput
        self.captureOutput = captureOutput
        self.csvContentTypes = csvContentTypes
        self.jsonContentTypes = jsonContentTypes
    }
}

/// A variant names a registered model and the hash it expects, so that a model replaced in
/// between is noticed rather than served.
public struct VariantConfiguration: Sendable, Equatable, Codable {
    public var name: String
    public var model: String
    public var modelSHA256: String
    public var weight: Double
    public var instances: Int
    /// Set for a shadow variant: the percent of requests it receives a copy of.
    public var shadowSamplePercent: Double?
    /// Set for a variant rolled out progressively.
    public var rollout: RolloutConfiguration?

    public init(name: String, model: String, modelSHA256: String, weight: Double, instances: Int, shadowSamplePercent: Double? = nil,
                rollout: RolloutConfiguration? = nil) {
        self.rollout = rollout
        self.name = name
        self.model = model
        self.modelSHA256 = modelSHA256
        self.weight = weight
        self.instances = instances
        self.shadowSamplePercent = shadowSamplePercent
    }
}

/// A progressive rollout: the shares (percent) the variant moves through, the time at each, the
/// limits that roll it back, and what happens when a step sees too little traffic to be judged.
public struct RolloutConfiguration: Sendable, Equatable, Codable {
    /// What a step that has not seen `minRequests` requests `maxWaitSeconds` after its bake does.
    public enum TooLittleTraffic: String, Sendable, Codable, CaseIterable {
        /// The variant gets no traffic, the others their weights (the default: a step no one
        /// judged is not a step passed).
        case rollBack = "roll_back"
        /// The rollout stops where it is: the variant keeps the step's share, nothing advances.
        case halt
        /// The step keeps waiting for traffic, with no limit.
        case stay
    }

    public var steps: [Double]
    public var bakeSeconds: Double
    public var maxErrorRate: Double?
    public var maxP99LatencyMs: Double?
    public var minRequests: Int
    /// How long a step waits for `minRequests` once its bake time is over.
    public var maxWaitSeconds: Double
    public var onTooLittleTraffic: TooLittleTraffic

    public init(steps: [Double], bakeSeconds: Double, maxErrorRate: Double?, maxP99LatencyMs: Double?, minRequests: Int,
                maxWaitSeconds: Double = 600, onTooLittleTraffic: TooLittleTraffic = .rollBack) {
        self.steps = steps
        self.bakeSeconds = bakeSeconds
        self.maxErrorRate = maxErrorRate
        self.maxP99LatencyMs = maxP99LatencyMs
        self.minRequests = minRequests
        self.maxWaitSeconds = maxWaitSeconds
        self.onTooLittleTraffic = onTooLittleTraffic
    }
}

/// One model-server process.
public struct InstanceStatus: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable { case starting, healthy, restarting, draining, failed }
    public var id: String
    public var pid: Int32
    public var port: Int
    public var state: State
    public var restarts: Int
    /// Unix seconds.
    public var startedAt: Double
    public var lastExit: String?

    public init(id: String, pid: Int32, port: Int, state: State, restarts: Int, startedAt: Double, lastExit: String?) {
        self.id = id
        self.pid = pid
        self.port = port
        self.state = state
        self.restarts = restarts
        self.startedAt = startedAt
        self.lastExit = lastExit
    }
}

/// Where a rollout stands.
public struct RolloutStatus: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        case progressing
        case completed
        case rolledBack = "rolled_back"
        /// Stopped where it was (too little traffic, and the stack said halt).
        case halted
    }

    public var config: RolloutConfiguration
    public var state: State
    /// The current step (0-based) while progressing.
    public var step: Int?
    /// The variant's share of traffic now, in percent.
    public var share: Double
    public var reason: String?
    /// What happened, oldest first.
    public var history: [String]

    public init(config: RolloutConfiguration, state: State, step: Int?, share: Double, reason: String?, history: [String]) {
        self.config = config
        self.state = state
        self.step = step
        self.share = share
        self.reason = reason
        self.history = history
    }
}

/// A variant's counters since its endpoint was created.
public struct VariantMetricsSummary: Sendable, Equatable, Codable {
    public var invocations: UInt64
    public var errors4xx: UInt64
    public var errors5xx: UInt64
    public var modelErrors: UInt64
    public var meanModelLatencyMs: Double?
    public var meanOverheadLatencyMs: Double?
    /// Upper estimates from the latency histogram's buckets (Prometheus's `le` bounds).
    public var p50LatencyMs: Double?
    public var p99LatencyMs: Double?

    public init(invocations: UInt64, errors4xx: UInt64, errors5xx: UInt64, modelErrors: UInt64,
                meanModelLatencyMs: Double?, meanOverheadLatencyMs: Double?, p50LatencyMs: Double? = nil, p99LatencyMs: Double? = nil) {
        self.p50LatencyMs = p50LatencyMs
        self.p99LatencyMs = p99LatencyMs
        self.invocations = invocations
        self.errors4xx = errors4xx
        self.errors5xx = errors5xx
        self.modelErrors = modelErrors
        self.meanModelLatencyMs = meanModelLatencyMs
        self.meanOverheadLatencyMs = meanOverheadLatencyMs
    }
}

public struct VariantStatus: Sendable, Equatable, Codable {
    public var name: String
    public var model: String
    public var modelSHA256: String
    public var weight: Double
    public var desiredInstances: Int
    public var instances: [InstanceStatus]
    public var metrics: VariantMetricsSummary?
    public var shadowSamplePercent: Double?
    public var rollout: RolloutStatus?

    public init(name: String, model: String, modelSHA256: String, weight: Double, desiredInstances: Int, instances: [InstanceStatus],
                metrics: VariantMetricsSummary? = nil, shadowSamplePercent: Double? = nil, rollout: RolloutStatus? = nil) {
        self.rollout = rollout
        self.name = name
        self.model = model
        self.modelSHA256 = modelSHA256
        self.weight = weight
        self.desiredInstances = desiredInstances
        self.instances = instances
        self.metrics = metrics
        self.shadowSamplePercent = shadowSamplePercent
    }
}

/// An endpoint as the host runs it: the configuration it converged to, its instances and counters.
public struct EndpointStatus: Sendable, Equatable, Codable {
    public var name: String
    /// What the endpoint runs, as last put: observe reads its plan attributes from here.
    public var configuration: EndpointConfiguration
    public var variants: [VariantStatus]
    /// Data capture: records written or queued, records dropped because the queue was full.
    public var captured: UInt64?
    public var captureDropped: UInt64?
    /// How each shadow variant compares with production.
    public var shadows: [ShadowComparison]?

    public var multiModel: MultiModelConfiguration? { configuration.multiModel }

    public init(name: String, configuration: EndpointConfiguration, captured: UInt64? = nil, captureDropped: UInt64? = nil,
                shadows: [ShadowComparison]? = nil, variants: [VariantStatus]) {
        self.name = name
        self.configuration = configuration
        self.variants = variants
        self.captured = captured
        self.captureDropped = captureDropped
        self.shadows = shadows
    }
}

public struct LatencyPercentiles: Sendable, Equatable, Codable {
    public var p50: Double?
    public var p90: Double?
    public var p99: Double?

    public init(p50: Double?, p90: Double?, p99: Double?) {
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
    }
}

/// A shadow variant against production, over the requests both answered.
public struct ShadowComparison: Sendable, Equatable, Codable {
    public var shadow: String
    public var sent: UInt64
    public var compared: UInt64
    /// Answers identical byte for byte.
    public var agreements: UInt64
    /// Answers whose numbers could be compared one to one.
    public var numericPairs: UInt64
    public var meanAbsoluteDifference: Double?
    public var shadowErrors: UInt64
    public var productionErrors: UInt64
    public var productionLatencyMs: LatencyPercentiles
    public var shadowLatencyMs: LatencyPercentiles

    public init(shadow: String, sent: UInt64, compared: UInt64, agreements: UInt64, numericPairs: UInt64, meanAbsoluteDifference: Double?,
                shadowErrors: UInt64, productionErrors: UInt64, productionLatencyMs: LatencyPercentiles, shadowLatencyMs: LatencyPercentiles) {
        self.shadow = shadow
        self.sent = sent
        self.compared = compared
        self.agreements = agreements
        self.numericPairs = numericPairs
        self.meanAbsoluteDifference = meanAbsoluteDifference
        self.shadowErrors = shadowErrors
        self.productionErrors = productionErrors
        self.productionLatencyMs = productionLatencyMs
        self.shadowLatencyMs = shadowLatencyMs
    }
}
