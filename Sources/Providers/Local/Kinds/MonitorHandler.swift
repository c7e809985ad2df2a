import EnvironmentAPI
import Foundation
import Reconciler
import Spec

/// Monitors: the host profiles the baseline when it receives the configuration, and runs each
/// monitor on its schedule.
struct MonitorHandler: KindHandler {
    typealias Definition = Monitor

    func running(in snapshot: EnvironmentSnapshot) -> [String: MonitorConfiguration] {
        Dictionary(snapshot.monitors.map { ($0.configuration.name, $0.configuration) }, uniquingKeysWith: { $1 })
    }

    func put(_ spec: ResourceSpec, _ configuration: MonitorConfiguration, context: HandlerContext) async throws -> ResourceState {
        // Profiling a large baseline CSV takes seconds: the host answers once it has.
        let status = try await context.client.put(configuration, timeout: 600)
        return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: spec.dependencies,
                             outputs: ["arn": status.arn], processes: [])
    }

    func processRows(in snapshot: EnvironmentSnapshot, now: Double) -> [[String]] {
        snapshot.monitors.map { m in
            ["monitors.\(m.configuration.name)", "-", "-", String(snapshot.pid), "-",
             m.configuration.enabled ? "scheduled" : "disabled", "-", "-"]
        }
    }

    func statusSections(in snapshot: EnvironmentSnapshot) -> [StatusSection] {
        guard !snapshot.monitors.isEmpty else { return [] }
        func time(_ t: Double?) -> String { t.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0)) } ?? "-" }
        var rows: [[String]] = [["MONITOR", "ENDPOINT", "SCHEDULE", "BASELINE", "RUNS", "LAST RUN", "VERDICT", "DRIFTED", "NEXT RUN"]]
        for m in snapshot.monitors {
            let c = m.configuration
            let verdict = m.lastRun.map { $0.status + ($0.violations > 0 ? " (\($0.violations) violations)" : "") } ?? "-"
            rows.append([c.name + (c.enabled ? "" : " (disabled)"), c.endpoint + (c.variant.map { "/\($0)" } ?? ""), c.schedule,
                         "\(m.baselineRows) rows", String(m.runs), time(m.lastRun?.time), verdict,
                         m.lastRun.map { $0.driftedFeatures.isEmpty ? "none" : $0.driftedFeatures.joined(separator: ",") } ?? "-", time(m.nextRun)])
        }
        return [StatusSection(title: "monitors (reports under data/monitors/NAME/runs/):", rows: rows)]
    }
}
