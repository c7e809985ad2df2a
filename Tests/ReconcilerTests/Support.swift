import EnvironmentAPI
import Foundation
import Reconciler
import Spec
import Testing

/// Files for tests: any path ending in `.json` or `.py` exists, with a hash derived from its path.
struct FakeFiles: SpecFileSystem {
    func sha256(ofFileAt absolutePath: String) -> String? {
        absolutePath.hasSuffix(".json") || absolutePath.hasSuffix(".py") ? SHA256.hex(of: (absolutePath as NSString).lastPathComponent) : nil
    }
    func isDirectory(_ absolutePath: String) -> Bool { absolutePath.hasSuffix("-models") }
}

func loadStack(_ yaml: String, environment: String = "default") throws -> Stack {
    let (stack, d) = StackLoader.load([StackSource(path: "stack.yaml", absolutePath: "/fx/stack.yaml", text: yaml)],
                                      environment: environment, files: FakeFiles())
    guard let stack else { throw TestFailure(message: d.all.map(\.description).joined(separator: "\n")) }
    return stack
}

struct TestFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// The state an apply of `stack` would record, without a provider.
func recordedState(of stack: Stack) -> StackState {
    var state = StackState(stack: stack.name, environment: stack.environment, lineage: "test-lineage")
    for r in stack.resources {
        state.set(ResourceState(address: r.address, attributes: r.attributes, dependencies: r.dependencies))
    }
    return state
}

/// What a provider would observe if everything recorded runs as recorded.
func observedAsRecorded(_ state: StackState) -> Observation {
    Observation(resources: state.resources.mapValues { ObservedResource(attributes: $0.attributes) })
}

/// A provider that records the calls it gets, and can be told to fail one address.
actor FakeProvider: Provider {
    enum Call: Hashable, CustomStringConvertible {
        case create(String), update(String), delete(String)
        var description: String {
            switch self {
            case .create(let a): return "create \(a)"
            case .update(let a): return "update \(a)"
            case .delete(let a): return "delete \(a)"
            }
        }
    }

    var calls: [Call] = []
    var failing: Set<String> = []
    var finished = false

    init(failing: Set<String> = []) { self.failing = failing }

    func observe(_ state: StackState?) async throws -> Observation { state.map(observedAsRecorded) ?? Observation() }
    func prepare(_ plan: Plan, context: ApplyContext) async throws -> [String: String] { ["aws_endpoint_url": "http://fake"] }

    func create(_ spec: ResourceSpec, context: ApplyContext) async throws -> ResourceState {
        calls.append(.create(spec.address.description))
        if failing.contains(spec.address.description) { throw ProviderError("injected failure") }
        for d in spec.dependencies where context.resources[d] == nil {
            throw ProviderError("\(spec.address) created before its dependency \(d)")
        }
        return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: spec.dependencies,
                             outputs: ["url": "http://fake/\(spec.address.name)"])
    }

    func update(_ current: ResourceState, to spec: ResourceSpec, context: ApplyContext) async throws -> ResourceState {
        calls.append(.update(spec.address.description))
        return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: spec.dependencies)
    }

    func delete(_ current: ResourceState, context: ApplyContext) async throws {
        calls.append(.delete(current.address.description))
    }

    func finish(_ state: StackState) async throws { finished = true }
}

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "mlgw-test-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
