import EnvironmentAPI
import Foundation
import Reconciler
import Spec

/// Functions: the workers run the handler with the bundled Python runtime, or the function's own
/// command; apply returns once the provisioned ones are warm.
struct FunctionHandler: KindHandler {
    typealias Definition = Function

    func running(in snapshot: EnvironmentSnapshot) -> [String: FunctionConfiguration] {
        Dictionary(snapshot.functions.map { ($0.name, $0.configuration) }, uniquingKeysWith: { $1 })
    }

    func put(_ spec: ResourceSpec, _ configuration: FunctionConfiguration, context: HandlerContext) async throws -> ResourceState {
        guard let f = spec.function else { throw ProviderError("\(spec.address) is not a function", terminal: true) }
        var config = configuration
        config.environment = try DeferredValues.resolve(f.environment.deferred, known: f.environment.values,
                                                        owner: "function '\(f.name)'", context: context.apply)
        let status = try await context.client.put(config, timeout: config.initTimeout * 2 + 30)
        let processes = status.workers.map { ProcessRecord(role: "function-worker", variant: nil, pid: $0.pid, port: 0, startedAt: Date().timeIntervalSince1970) }
        return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: spec.dependencies,
                             outputs: ["arn": status.arn], processes: processes)
    }

    func processRows(in snapshot: EnvironmentSnapshot, now: Double) -> [[String]] {
        var rows: [[String]] = []
        for f in snapshot.functions {
            for w in f.workers { rows.append(["functions.\(f.name)", "-", w.id, String(w.pid), "-", w.state.rawValue, "-", "-"]) }
            if f.workers.isEmpty { rows.append(["functions.\(f.name)", "-", "-", "-", "-", "no workers (start on demand)", "-", "-"]) }
        }
        return rows
    }

    func statusSections(in snapshot: EnvironmentSnapshot) -> [StatusSection] {
        guard !snapshot.functions.isEmpty else { return [] }
        var rows: [[String]] = [["FUNCTION", "INVOCATIONS", "ERRORS", "TIMEOUTS", "THROTTLES", "ASYNC QUEUED", "ASYNC FAILED"]]
        for f in snapshot.functions {
            rows.append([f.name, String(f.invocations), String(f.errors), String(f.timeouts), String(f.throttles), String(f.asyncQueued), String(f.asyncFailed)])
        }
        return [StatusSection(title: "functions (Lambda Invoke at http://127.0.0.1:\(snapshot.awsPort)):", rows: rows)]
    }
}
