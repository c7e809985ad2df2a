import Spec

/// A process the local provider started for a resource.
public struct ProcessRecord: Sendable, Equatable, Codable {
    /// What the process does: "model-server", "environment".
    public var role: String
    /// For model servers: the variant the instance serves.
    public var variant: String?
    public var pid: Int32
    public var port: Int
    public var startedAt: Double

    public init(role: String, variant: String?, pid: Int32, port: Int, startedAt: Double) {
        self.role = role
        self.variant = variant
        self.pid = pid
        self.port = port
        self.startedAt = startedAt
    }
}

/// What the last apply made of one resource.
public struct ResourceState: Sendable, Equatable, Codable {
    public var address: ResourceAddress
    /// The attributes as applied: the "before" of the next plan.
    public var attributes: Attributes
    public var dependencies: [ResourceAddress]
    /// Values known only after apply (`url`, the model's stored artifact): what `${...}` references read.
    public var outputs: [String: String]
    public var processes: [ProcessRecord]

    // No copy of the spec: attributes say everything a later update or delete needs, and a spec
    // (with its source locations) doubled the state's size and the no-op plan's read time.
    public init(address: ResourceAddress, attributes: Attributes, dependencies: [ResourceAddress],
                outputs: [String: String] = [:], processes: [ProcessRecord] = []) {
        self.address = address
        self.attributes = attributes
        self.dependencies = dependencies
        self.outputs = outputs
        self.processes = processes
    }
}

/// An output's value after apply. Sensitive values keep only a fingerprint.
public struct OutputValue: Sendable, Equatable, Codable {
    public var value: String?
    public var sensitive: Bool
    public var knownAfterApply: Bool

    public init(value: String?, sensitive: Bool, knownAfterApply: Bool = false) {
        self.value = value
        self.sensitive = sensitive
        self.knownAfterApply = knownAfterApply
    }
}

/// Everything an environment holds, as last recorded. Terraform's `states.State`.
public struct StackState: Sendable, Equatable, Codable {
    public var stack: String
    public var environment: String
    /// Random at first write; a saved plan only applies to the lineage it was made from.
    public var lineage: String
    /// Bumped at every write.
    public var serial: Int
    /// `aws_endpoint_url` and friends, once the environment runs.
    public var environmentAttributes: [String: String]
    /// By address; encoded as a list sorted by address.
    public var resources: [ResourceAddress: ResourceState]
    public var outputs: [String: OutputValue]

    public init(stack: String, environment: String, lineage: String) {
        self.stack = stack
        self.environment = environment
        self.lineage = lineage
        self.serial = 0
        self.environmentAttributes = [:]
        self.resources = [:]
        self.outputs = [:]
    }

    public func resource(_ address: ResourceAddress) -> ResourceState? { resources[address] }

    public mutating func set(_ resource: ResourceState) { resources[resource.address] = resource }

    public mutating func remove(_ address: ResourceAddress) { resources[address] = nil }

    /// Resources in address order.
    public var sortedResources: [ResourceState] { resources.values.sorted { $0.address < $1.address } }

    enum CodingKeys: String, CodingKey {
        case stack, environment, lineage, serial, resources, outputs
        case environmentAttributes = "environment_attributes"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        stack = try c.decode(String.self, forKey: .stack)
        environment = try c.decode(String.self, forKey: .environment)
        lineage = try c.decode(String.self, forKey: .lineage)
        serial = try c.decode(Int.self, forKey: .serial)
        environmentAttributes = try c.decode([String: String].self, forKey: .environmentAttributes)
        let list = try c.decode([ResourceState].self, forKey: .resources)
        resources = Dictionary(list.map { ($0.address, $0) }, uniquingKeysWith: { _, last in last })
        outputs = try c.decode([String: OutputValue].self, forKey: .outputs)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(stack, forKey: .stack)
        try c.encode(environment, forKey: .environment)
        try c.encode(lineage, forKey: .lineage)
        try c.encode(serial, forKey: .serial)
        try c.encode(environmentAttributes, forKey: .environmentAttributes)
        try c.encode(sortedResources, forKey: .resources)
        try c.encode(outputs, forKey: .outputs)
    }
}
