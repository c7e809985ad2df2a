/// One resource as the stack wants it: the kind-specific body plus what the planner needs to
/// compare it with what exists (flattened attributes and dependencies).
public struct ResourceSpec: Sendable, Equatable, Codable {
    public enum Body: Sendable, Equatable, Codable {
        case model(Model)
        case endpoint(Endpoint)
        case function(Function)
        case stage(Stage)
        case apiKey(APIKey)
        case usagePlan(UsagePlan)
    }

    public var body: Body
    /// Flattened attributes, the unit of diffing and of plan rendering.
    public var attributes: Attributes

    public init(_ body: Body, attributes: Attributes) {
        self.body = body
        self.attributes = attributes
    }

    public var address: ResourceAddress {
        switch body {
        case .model(let m): return m.address
        case .endpoint(let e): return e.address
        case .function(let f): return f.address
        case .stage(let s): return s.address
        case .apiKey(let k): return k.address
        case .usagePlan(let p): return p.address
        }
    }

    public var dependencies: [ResourceAddress] {
        switch body {
        case .model(let m): return m.references
        case .endpoint(let e): return e.dependencies
        case .function(let f): return f.references
        case .stage(let s): return s.dependencies
        case .apiKey(let k): return k.dependencies
        case .usagePlan: return []
        }
    }

    public var location: SourceLocation? {
        switch body {
        case .model(let m): return m.location
        case .endpoint(let e): return e.location
        case .function(let f): return f.location
        case .stage(let s): return s.location
        case .apiKey(let k): return k.location
        case .usagePlan(let p): return p.location
        }
    }

    /// Why a replacement is needed, in words for the plan; nil when `before` can be updated in place.
    public func replacementReason(from before: Attributes) -> String? {
        let changed = Set(before.keys).union(attributes.keys).filter(isReplacing).sorted().filter { before[$0] != attributes[$0] }
        guard !changed.isEmpty else { return nil }
        switch body {
        case .model: return "models are immutable: \(changed.joined(separator: ", ")) changed"
        default: return "\(changed.joined(separator: ", ")) changed"
        }
    }

    /// Whether changing `path` replaces the resource rather than updating it in place.
    public func isReplacing(_ path: String) -> Bool {
        switch body {
        case .model: return Model.isReplacing(path)
        default: return false
        }
    }

    /// A short explanation shown beside a changed attribute (what the change costs at apply).
    public func note(forChangedAttribute path: String) -> String? {
        if isReplacing(path) { return "forces replacement" }
        switch body {
        case .model: return nil
        case .endpoint: return Endpoint.note(for: path)
        case .function: return Function.note(for: path)
        case .stage, .apiKey, .usagePlan: return "in place, no restart"
        }
    }

    public var model: Model? { if case .model(let m) = body { return m } else { return nil } }
    public var endpoint: Endpoint? { if case .endpoint(let e) = body { return e } else { return nil } }
    public var function: Function? { if case .function(let f) = body { return f } else { return nil } }
}

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
