import EnvironmentAPI
import Foundation
import Reconciler
import Spec

/// What a handler may use while it changes one resource: the apply's context, the host's
/// control API, the environment folder and the binary that runs the services.
struct HandlerContext: Sendable {
    var apply: ApplyContext
    var client: HostClient
    var folder: EnvironmentFolder
}

/// One kind of resource as the local provider runs it: where the host reports it in a snapshot,
/// how its configuration is completed and put, and how it shows in `status`. Handlers do what
/// they are told: they never re-diff and never print.
protocol KindHandler: Sendable {
    associatedtype Definition: ResourceDefinition

    /// The configuration the host runs for each resource of this kind, by name.
    func running(in snapshot: EnvironmentSnapshot) -> [String: Definition.Configuration]
    /// Completes what the stack decided (values known only after apply, stored copies) and
    /// converges the host to it.
    func put(_ spec: ResourceSpec, _ configuration: Definition.Configuration, context: HandlerContext) async throws -> ResourceState
    /// How long a delete may take (an endpoint drains its instances first).
    var deleteTimeout: Double { get }
    /// Rows of `status`'s process table for this kind.
    func processRows(in snapshot: EnvironmentSnapshot, now: Double) -> [[String]]
    /// Sections `status` prints after the process table (metrics, rollouts).
    func statusSections(in snapshot: EnvironmentSnapshot) -> [StatusSection]
    /// For a kind that keeps data: what each resource holds, in words (the plan shows what a
    /// replacement or removal deletes).
    func storedData(in snapshot: EnvironmentSnapshot) -> [String: String]
}

extension KindHandler {
    var deleteTimeout: Double { 10 }
    func statusSections(in snapshot: EnvironmentSnapshot) -> [StatusSection] { [] }
    func storedData(in snapshot: EnvironmentSnapshot) -> [String: String] { [:] }
}

/// A titled table (or lines) of `status`, for one kind.
public struct StatusSection: Sendable, Equatable {
    public var title: String
    public var rows: [[String]]
    public var lines: [String]

    public init(title: String, rows: [[String]] = [], lines: [String] = []) {
        self.title = title
        self.rows = rows
        self.lines = lines
    }
}

/// A handler with its kind's types erased, as the provider keeps them in one table.
struct AnyKindHandler: Sendable {
    let kind: ResourceKind
    let collection: ControlCollection
    let observe: @Sendable (EnvironmentSnapshot) -> [String: ObservedResource]
    let put: @Sendable (ResourceSpec, HandlerContext) async throws -> ResourceState
    let deleteTimeout: Double
    let processRows: @Sendable (EnvironmentSnapshot, Double) -> [[String]]
    let statusSections: @Sendable (EnvironmentSnapshot) -> [StatusSection]

    init<H: KindHandler>(_ handler: H) {
        kind = H.Definition.kind
        collection = H.Definition.Configuration.collection
        observe = { snapshot in
            // The same code that made the stack's attributes reads the running configuration.
            let stored = H.Definition.keepsData ? handler.storedData(in: snapshot) : [:]
            var observed: [String: ObservedResource] = [:]
            for (name, configuration) in handler.running(in: snapshot) {
                observed[name] = ObservedResource(attributes: H.Definition.runningAttributes(of: configuration), storedData: stored[name])
            }
            return observed
        }
        put = { spec, context in
            guard let configuration = spec.configuration(as: H.Definition.Configuration.self) else {
                throw ProviderError("\(spec.address) carries no \(H.Definition.Configuration.self)", terminal: true)
            }
            return try await handler.put(spec, configuration, context: context)
        }
        deleteTimeout = handler.deleteTimeout
        processRows = { handler.processRows(in: $0, now: $1) }
        statusSections = { handler.statusSections(in: $0) }
    }

    /// Every kind's handler, in kind order: the local provider's one table of kinds.
    static let all: [AnyKindHandler] = [
        AnyKindHandler(ModelHandler()), AnyKindHandler(FeatureGroupHandler()), AnyKindHandler(EndpointHandler()), AnyKindHandler(FunctionHandler()),
        AnyKindHandler(StageHandler()), AnyKindHandler(APIKeyHandler()), AnyKindHandler(UsagePlanHandler()),
        AnyKindHandler(EventRuleHandler()), AnyKindHandler(MonitorHandler()), AnyKindHandler(ScalingPolicyHandler()),
    ]

    static let byKind: [ResourceKind: AnyKindHandler] = Dictionary(uniqueKeysWithValues: all.map { ($0.kind, $0) })
}

/// Values known only after apply (an endpoint's URL, the environment's AWS URL), resolved from
/// what is applied now: the dependencies' recorded outputs and attributes, and the environment's.
enum DeferredValues {
    static func resolve(_ values: [String: Template], known: [String: String], owner: String, context: ApplyContext) throws -> [String: String] {
        var out = known
        for (key, template) in values { out[key] = try resolve(template, key: key, owner: owner, context: context) }
        return out
    }

    static func resolve(_ template: Template, key: String, owner: String, context: ApplyContext) throws -> String {
        let result = try? template.evaluate { path -> Resolution in
            if path.first == "environment", path.count == 2 {
                if path[1] == "name" { return .value(.string(context.environment), sensitive: false) }
                return context.environmentAttributes[path[1]].map { .value(.string($0), sensitive: false) } ?? .knownAfterApply
            }
            if path.first == "stack" { return .value(.string(context.stack), sensitive: false) }
            guard path.count == 3, let kind = ResourceKind(rawValue: path[0]) else { return .knownAfterApply }
            guard let state = context.resources[ResourceAddress(kind, path[1])] else { return .knownAfterApply }
            if path[2] == "name" { return .value(.string(path[1]), sensitive: false) }
            if let v = state.outputs[path[2]] { return .value(.string(v), sensitive: false) }
            if case .string(let s)? = state.attributes[path[2]] { return .value(.string(s), sensitive: false) }
            return .knownAfterApply
        }
        guard case .value(let v, _)? = result else {
            throw ProviderError("environment variable '\(key)' of \(owner) references a value that is not known yet", terminal: true)
        }
        return v.description
    }
}
