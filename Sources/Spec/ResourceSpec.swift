import EnvironmentAPI

/// One resource as the stack wants it: the kind's value, the configuration the environment is
/// asked to run, and what the planner compares with what exists (flattened attributes, and which
/// of them a running resource reports).
public struct ResourceSpec: Sendable, Equatable, Codable {
    /// The kind's value, as read from the stack.
    public let body: any ResourceDefinition
    /// What the environment should run; the provider fills in what is known only after apply.
    public let configuration: any ControlConfiguration
    /// Flattened attributes, the unit of diffing and of plan rendering.
    public var attributes: Attributes
    /// The paths of `attributes` that observing a running resource reports.
    public let observablePaths: Set<String>

    init<D: ReadableDefinition>(_ body: D, in index: ResourceIndex, local: LocalSettings) {
        let configuration = body.configuration(in: index, local: local)
        let running = D.runningAttributes(of: configuration)
        self.body = body
        self.configuration = configuration
        self.attributes = running.merging(body.declaredAttributes) { running, _ in running }
        self.observablePaths = Set(running.keys)
    }

    public var kind: ResourceKind { type(of: body).kind }
    public var address: ResourceAddress { ResourceAddress(kind, body.name) }
    public var dependencies: [ResourceAddress] { body.dependencies }
    public var location: SourceLocation? { body.location }

    /// The kind's value as its own type.
    public func value<T: ResourceDefinition>(as type: T.Type) -> T? { body as? T }

    /// The configuration as its own type.
    public func configuration<C: ControlConfiguration>(as type: C.Type) -> C? { configuration as? C }

    /// Why a replacement is needed, in words for the plan; nil when `before` can be updated in place.
    public func replacementReason(from before: Attributes) -> String? {
        let changed = Set(before.keys).union(attributes.keys).filter { before[$0] != attributes[$0] }.sorted()
        guard !changed.isEmpty else { return nil }
        return type(of: body).replacementReason(changed: changed, before: before, after: attributes)
    }

    /// Whether changing `path` alone replaces the resource rather than updating it in place.
    public func isReplacing(_ path: String) -> Bool { type(of: body).replacementReason(changed: [path]) != nil }

    /// A short explanation shown beside a changed attribute (what the change costs at apply).
    public func note(forChangedAttribute path: String) -> String? {
        if isReplacing(path) { return "forces replacement" }
        return type(of: body).note(forChangedAttribute: path)
    }

    public static func == (a: ResourceSpec, b: ResourceSpec) -> Bool {
        a.kind == b.kind && a.body.isEqual(to: b.body) && a.attributes == b.attributes && a.observablePaths == b.observablePaths
            && a.configuration.isEqual(to: b.configuration)
    }

    enum CodingKeys: String, CodingKey { case kind, body, configuration, attributes, observable }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try c.decode(ResourceKind.self, forKey: .kind)
        body = try kind.definition.init(from: c.superDecoder(forKey: .body))
        configuration = try kind.definition.configurationType.init(from: c.superDecoder(forKey: .configuration))
        attributes = try c.decode(Attributes.self, forKey: .attributes)
        observablePaths = try c.decode(Set<String>.self, forKey: .observable)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try body.encode(to: c.superEncoder(forKey: .body))
        try configuration.encode(to: c.superEncoder(forKey: .configuration))
        try c.encode(attributes, forKey: .attributes)
        try c.encode(observablePaths.sorted(), forKey: .observable)
    }
}

extension ControlConfiguration {
    func isEqual(to other: any ControlConfiguration) -> Bool { (other as? Self) == self }
}

extension ResourceDefinition {
    /// The type of the kind's configuration, for decoding it.
    public static var configurationType: any ControlConfiguration.Type { Configuration.self }
}
