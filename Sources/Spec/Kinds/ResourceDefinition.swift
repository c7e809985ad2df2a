import EnvironmentAPI

/// One kind of resource as every layer that plans it sees it: what it depends on, the
/// attributes it is planned with, and the rules for changing them. Each kind is a folder under
/// `Spec/Kinds/`, and `ResourceKind.definition` is the one list of kinds: nothing else in the
/// reconciler or the provider switches over kinds.
///
/// Invariant: the attributes a resource is planned with are `runningAttributes(of:)` its
/// configuration plus what only the stack knows; observing a running resource produces the same
/// paths from the configuration the environment reports, with the same code, so desired and
/// observed cannot drift apart.
public protocol ResourceDefinition: Sendable, Codable, Equatable {
    /// What the environment is asked to run for one resource of this kind.
    associatedtype Configuration: ControlConfiguration

    static var kind: ResourceKind { get }
    /// Where the kind's resources are declared: `["models"]`, or `["gateway", "stages"]`.
    static var section: [String] { get }
    /// For messages: "model", "API key".
    static var singular: String { get }
    /// The attributes `${kind.name.attribute}` may read (`name` is known at plan time, the rest after apply).
    static var referenceableAttributes: [String] { get }

    var name: String { get }
    var location: SourceLocation? { get set }
    /// Resources that must be applied before this one, and deleted after it.
    var dependencies: [ResourceAddress] { get }
    /// Attributes of other resources that this one changes at run time (as a scaling policy owns
    /// a variant's instance count), each with how the plan names its owner ("1..6, managed by
    /// scaling_policies.fraud"): the planner neither shows them as drift nor resets them.
    var ownedAttributes: [ResourceAddress: [String: String]] { get }
    /// What a recorded resource of this kind owned, from its recorded attributes: when it is
    /// removed, the plan says those attributes go back to the stack.
    static func ownedAttributes(recorded attributes: Attributes) -> [ResourceAddress: Set<String>]

    /// The attributes a running resource vouches for, read from the configuration it runs.
    static func runningAttributes(of configuration: Configuration) -> Attributes
    /// Why changing `paths` (sorted) replaces the resource, in words for the plan; nil when the
    /// change is made in place.
    static func replacementReason(changed paths: [String]) -> String?
    /// The same, knowing both sides (a feature group's added feature is in place, a removed one
    /// is not); by default the paths decide.
    static func replacementReason(changed paths: [String], before: Attributes, after: Attributes) -> String?
    /// Whether the resource holds data (records) that replacing or removing it deletes: the
    /// plan says so and apply asks for `--allow-data-loss`.
    static var keepsData: Bool { get }
    /// What changing `path` in place costs at apply, shown beside it in the plan.
    static func note(forChangedAttribute path: String) -> String?
    /// What a reviewer should weigh in an update from `before` to `after` (nil: created or
    /// removed), in words for the risk section of a pull request's plan: traffic moved between
    /// variants, instances replaced or drained. Replacements, removals, data loss and changed
    /// secrets are found for every kind by the plan itself.
    static func reviewRisks(before: Attributes?, after: Attributes?) -> [String]
}

extension ResourceDefinition {
    public var address: ResourceAddress { ResourceAddress(Self.kind, name) }
    public var ownedAttributes: [ResourceAddress: [String: String]] { [:] }
    public static func ownedAttributes(recorded attributes: Attributes) -> [ResourceAddress: Set<String>] { [:] }
    public static var keepsData: Bool { false }
    public static func reviewRisks(before: Attributes?, after: Attributes?) -> [String] { [] }
    public static func replacementReason(changed paths: [String], before: Attributes, after: Attributes) -> String? {
        replacementReason(changed: paths)
    }

    func isEqual(to other: any ResourceDefinition) -> Bool { (other as? Self) == self }
}

/// How a kind is read from a stack file and turned into a plannable resource. Internal to Spec:
/// the other layers only see `ResourceDefinition`.
protocol ReadableDefinition: ResourceDefinition {
    /// Reads one resource. Returns nil only after recording at least one error (the loader checks).
    static func read(_ entry: ResourceEntry, reader: inout NodeReader, in context: ReadContext) -> Self?
    /// Checks that need the other resources' values, once every resource is read.
    func check(in index: ResourceIndex, into diagnostics: inout Diagnostics)
    /// What the environment should run, as far as the stack decides it; values known only after
    /// apply are filled in by the provider.
    func configuration(in index: ResourceIndex, local: LocalSettings) -> Configuration
    /// Attributes only the stack knows (paths as written, environment values as written).
    var declaredAttributes: Attributes { get }
    /// JSON Schema (draft 2020-12) of one resource of this kind.
    static var schema: String { get }
    /// Named schemas the kind's schema refers to as `#/$defs/NAME`.
    static var schemaDefinitions: [String: String] { get }
}

extension ReadableDefinition {
    func check(in index: ResourceIndex, into diagnostics: inout Diagnostics) {}
    var declaredAttributes: Attributes { [:] }
    static var schemaDefinitions: [String: String] { [:] }
}

extension ResourceKind {
    /// The one list of kinds: each kind's definition. Adding a kind is a case of `ResourceKind`
    /// and a line here; the compiler and `KindRegistryTests` point at everything else.
    var readable: any ReadableDefinition.Type {
        switch self {
        case .model: return Model.self
        case .featureGroup: return FeatureGroup.self
        case .endpoint: return Endpoint.self
        case .function: return Function.self
        case .stage: return Stage.self
        case .apiKey: return APIKey.self
        case .usagePlan: return UsagePlan.self
        case .eventRule: return EventRule.self
        case .monitor: return Monitor.self
        case .scalingPolicy: return ScalingPolicy.self
        }
    }

    public var definition: any ResourceDefinition.Type { readable }

    /// Where the kind's resources sit in a stack file.
    public var section: [String] { definition.section }

    /// Singular, for messages: "model", "endpoint".
    public var singular: String { definition.singular }
}

/// One resource's declaration in a stack file: its name, its definition, where its key is.
struct ResourceEntry {
    var name: String
    var node: Node
    var keyLocation: SourceLocation?
}

/// What a kind's reader may know besides the node it reads: the stack file's folder, the files
/// on disk, every address the stack declares (so a reference is checked where it is written, even
/// when the rest of its resource fails to read), and the gateway's authorizers.
struct ReadContext {
    let stackDirectory: String
    let files: any SpecFileSystem
    let declared: Set<ResourceAddress>
    let namesByKind: [ResourceKind: [String]]
    let authorizers: [String: JWTAuthorizer]
    /// Variables without a value (already reported), whose uses are not checked further.
    let unsetVariables: Set<String>

    /// True when the stack declares `address`; otherwise records `message(suggestion)`.
    func checkDeclared(_ address: ResourceAddress, reader: inout NodeReader, message: (String?) -> Diagnostic) -> Bool {
        guard !declared.contains(address) else { return true }
        reader.error(message(suggestion(for: address.name, among: namesByKind[address.kind] ?? [])))
        return false
    }
}

/// Every resource a stack declares, for checks and attributes that look at other resources.
struct ResourceIndex {
    var values: [ResourceAddress: any ReadableDefinition]

    func value<T: ReadableDefinition>(_ type: T.Type, named name: String) -> T? {
        values[ResourceAddress(T.kind, name)] as? T
    }
}
