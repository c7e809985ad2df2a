import EnvironmentAPI

/// A named value the stack publishes after apply (`mlgw-deploy output NAME`).
public struct Output: Sendable, Equatable, Codable {
    public var name: String
    public var value: Template
    public var description: String?
    /// True when declared sensitive or derived from a sensitive variable: shown as `(sensitive value)`.
    public var sensitive: Bool
    public var location: SourceLocation?
}

/// One file the stack was read from, with a hash of its content (what a saved plan checks).
public struct StackFile: Sendable, Equatable, Codable {
    public var path: String
    public var sha256: String
}

/// Settings for the local provider.
public struct LocalSettings: Sendable, Equatable, Codable {
    /// Fixed port for the environment's AWS-compatible URL; nil lets the OS choose.
    public var port: Int?
    /// Fixed port for the gateway; nil lets the OS choose.
    public var gatewayPort: Int?
    /// How long apply waits for a model server to become healthy.
    public var healthTimeoutSeconds: Double = 60

    public init(port: Int? = nil, healthTimeoutSeconds: Double = 60) {
        self.port = port
        self.healthTimeoutSeconds = healthTimeoutSeconds
    }
}

/// A loaded, validated stack: everything plan needs, with no file left to read.
public struct Stack: Sendable, Equatable {
    public var name: String
    public var description: String?
    /// The environment this load is for (`--env`), which `${environment.name}` reads.
    public var environment: String
    public var files: [StackFile]
    public var variables: [String: ResolvedVariable]
    /// Sorted by address.
    public var resources: [ResourceSpec]
    public var outputs: [Output]
    public var local: LocalSettings
    /// Attributes of a resource that another resource owns at run time, by the owned resource.
    /// Each owned path with how the plan names its owner ("1..6, managed by scaling_policies.fraud").
    public var ownedAttributes: [ResourceAddress: [String: String]] = [:]

    public func resource(_ address: ResourceAddress) -> ResourceSpec? {
        resources.first { $0.address == address }
    }

    /// Variable values for hashing a saved plan: sensitive ones only as fingerprints.
    public var variableFingerprint: String {
        let parts = variables.keys.sorted().map { name -> String in
            let v = variables[name]!
            return "\(name)=\(v.declaration.sensitive ? SHA256.hex(of: "mlgw-sensitive:" + v.value.description) : v.value.description)"
        }
        return SHA256.hex(of: parts.joined(separator: "\n"))
    }
}
