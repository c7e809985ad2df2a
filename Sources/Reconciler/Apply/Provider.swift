import Spec

/// What a handler may know while it changes one resource: the environment, and the recorded
/// state of everything already applied (a resource's dependencies are always there).
public struct ApplyContext: Sendable {
    public var stack: String
    public var environment: String
    public var local: LocalSettings
    public var resources: [ResourceAddress: ResourceState]
    public var environmentAttributes: [String: String]

    public init(stack: String, environment: String, local: LocalSettings,
                resources: [ResourceAddress: ResourceState], environmentAttributes: [String: String]) {
        self.stack = stack
        self.environment = environment
        self.local = local
        self.resources = resources
        self.environmentAttributes = environmentAttributes
    }
}

/// Where resources really live. The reconciler reaches the world only through this protocol:
/// `observe` before planning, the three verbs while applying. Implementations do what they are
/// told and decide nothing: they never re-diff and never print.
///
/// `create` must be idempotent: an apply killed after the provider made a resource but before the
/// state recorded it is followed by a plan that creates it again.
public protocol Provider: Sendable {
    /// What runs now for every resource the state records.
    func observe(_ state: StackState?) async throws -> Observation
    /// Readies the environment before the first change; returns its attributes (`aws_endpoint_url`).
    func prepare(_ plan: Plan, context: ApplyContext) async throws -> [String: String]
    func create(_ spec: ResourceSpec, context: ApplyContext) async throws -> ResourceState
    func update(_ current: ResourceState, to spec: ResourceSpec, context: ApplyContext) async throws -> ResourceState
    func delete(_ current: ResourceState, context: ApplyContext) async throws
    /// After the walk: stops the environment when nothing is left in it.
    func finish(_ state: StackState) async throws
}

/// A provider failure. `terminal` errors cannot be fixed by retrying (a bad artifact), others may
/// pass on a second apply (a port that was briefly taken).
public struct ProviderError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var terminal: Bool

    public init(_ message: String, terminal: Bool = false) {
        self.message = message
        self.terminal = terminal
    }

    public var description: String { message }
}
