import EnvironmentAPI
import Foundation
import Reconciler
import Spec

/// Scaling policies: the host registers the target (its capacity brought inside the bounds at
/// once), then samples its metrics, evaluates the alarms and scales on the environment's clock.
struct ScalingPolicyHandler: KindHandler {
    typealias Definition = ScalingPolicy

    func running(in snapshot: EnvironmentSnapshot) -> [String: ScalingPolicyConfiguration] {
        Dictionary(snapshot.scalingPolicies.map { ($0.configuration.name, $0.configuration) }, uniquingKeysWith: { $1 })
    }

    func put(_ spec: ResourceSpec, _ configuration: ScalingPolicyConfiguration, context: HandlerContext) async throws -> ResourceState {
        // Bringing the capacity inside new bounds starts (or drains) instances before the answer.
        let status = try await context.client.put(configuration, timeout: 600)
        return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: spec.dependencies,
                             outputs: ["resource_id": status.resourceId], processes: [])
    }

    func processRows(in snapshot: EnvironmentSnapshot, now: Double) -> [[String]] {
        snapshot.scalingPolicies.map { p in
            ["scaling_policies.\(p.configuration.name)", "-", "-", String(snapshot.pid), "-",
             "\(p.runningCapacity)/\(p.desiredCapacity) (\(p.minCapacity)..\(p.maxCapacity))", "-", "-"]
        }
    }

    func statusSections(in snapshot: EnvironmentSnapshot) -> [StatusSection] {
        guard !snapshot.scalingPolicies.isEmpty else { return [] }
        func time(_ t: Double?) -> String { t.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0)) } ?? "-" }
        var rows: [[String]] = [["POLICY", "TARGET", "CAPACITY", "BOUNDS", "ALARMS", "LAST ACTIVITY", "NEXT SCHEDULED"]]
        var lines: [String] = []
        for p in snapshot.scalingPolicies {
            let alarms = p.alarms.map { "\($0.state)" }
            let counts = ["ALARM", "OK", "INSUFFICIENT_DATA"].compactMap { s in
                let n = alarms.filter { $0 == s }.count
                return n == 0 ? nil : "\(n) \(s)"
            }
            rows.append([p.configuration.name, p.resourceId, "\(p.runningCapacity) running, \(p.desiredCapacity) desired",
                         "\(p.minCapacity)..\(p.maxCapacity)", counts.joined(separator: ", "),
                         p.activities.first.map { "\(time($0.startTime)) \($0.fromCapacity)->\($0.toCapacity)" } ?? "-", time(p.nextScheduledAction)])
            for a in p.activities.prefix(3) {
                lines.append("  \(p.configuration.name) \(time(a.startTime)) \(a.statusCode): \(a.cause)")
            }
        }
        return [StatusSection(title: "scaling policies (all activities: mlgw-deploy scaling activities STACK):", rows: rows),
                StatusSection(title: "recent scaling activities:", lines: lines.isEmpty ? ["  none yet"] : lines)]
    }
}
