/// Everything the host runs, for observe and `status`: each service describes its own part.
/// Collections a host does not report decode as empty.
public struct EnvironmentSnapshot: Sendable, Equatable, Codable {
    public var pid: Int32
    public var awsPort: Int
    public var gatewayPort: Int?
    public var startedAt: Double
    public var models: [ModelRegistration] = []
    public var featureGroups: [FeatureGroupStatus] = []
    public var endpoints: [EndpointStatus] = []
    public var functions: [FunctionStatus] = []
    public var stages: [StageConfiguration] = []
    public var apiKeys: [APIKeyConfiguration] = []
    public var usagePlans: [UsagePlanConfiguration] = []
    public var routes: [RouteMetricsSummary] = []
    public var eventRules: [EventRuleStatus] = []
    public var monitors: [MonitorStatus] = []
    public var scalingPolicies: [ScalingPolicyStatus] = []
    /// The environment's clock (nil from a host without an event bus).
    public var clock: ClockStatus?

    public init(pid: Int32, awsPort: Int, gatewayPort: Int? = nil, startedAt: Double) {
        self.pid = pid
        self.awsPort = awsPort
        self.gatewayPort = gatewayPort
        self.startedAt = startedAt
    }

    enum CodingKeys: String, CodingKey {
        case pid, awsPort, gatewayPort, startedAt, models, featureGroups, endpoints, functions, stages, apiKeys, usagePlans, routes, eventRules, monitors, scalingPolicies, clock
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pid = try c.decode(Int32.self, forKey: .pid)
        awsPort = try c.decode(Int.self, forKey: .awsPort)
        gatewayPort = try c.decodeIfPresent(Int.self, forKey: .gatewayPort)
        startedAt = try c.decode(Double.self, forKey: .startedAt)
        models = try c.decodeIfPresent([ModelRegistration].self, forKey: .models) ?? []
        featureGroups = try c.decodeIfPresent([FeatureGroupStatus].self, forKey: .featureGroups) ?? []
        endpoints = try c.decodeIfPresent([EndpointStatus].self, forKey: .endpoints) ?? []
        functions = try c.decodeIfPresent([FunctionStatus].self, forKey: .functions) ?? []
        stages = try c.decodeIfPresent([StageConfiguration].self, forKey: .stages) ?? []
        apiKeys = try c.decodeIfPresent([APIKeyConfiguration].self, forKey: .apiKeys) ?? []
        usagePlans = try c.decodeIfPresent([UsagePlanConfiguration].self, forKey: .usagePlans) ?? []
        routes = try c.decodeIfPresent([RouteMetricsSummary].self, forKey: .routes) ?? []
        eventRules = try c.decodeIfPresent([EventRuleStatus].self, forKey: .eventRules) ?? []
        monitors = try c.decodeIfPresent([MonitorStatus].self, forKey: .monitors) ?? []
        scalingPolicies = try c.decodeIfPresent([ScalingPolicyStatus].self, forKey: .scalingPolicies) ?? []
        clock = try c.decodeIfPresent(ClockStatus.self, forKey: .clock)
    }
}

/// `environment.json` in the environment folder: how to reach a running host.
public struct EnvironmentInfo: Sendable, Equatable, Codable {
    public var pid: Int32
    public var controlPort: Int
    public var awsPort: Int
    public var startedAt: Double
    /// The gateway's port (every stage at /{stage}).
    public var gatewayPort: Int?

    public init(pid: Int32, controlPort: Int, awsPort: Int, startedAt: Double, gatewayPort: Int? = nil) {
        self.pid = pid
        self.controlPort = controlPort
        self.awsPort = awsPort
        self.startedAt = startedAt
        self.gatewayPort = gatewayPort
    }

    public static let fileName = "environment.json"
}
