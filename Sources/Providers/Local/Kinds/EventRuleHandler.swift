import EnvironmentAPI
import Foundation
import Reconciler
import Spec

/// Event rules: the host's bus matches them against every event and fires their schedules on
/// the environment's clock.
struct EventRuleHandler: KindHandler {
    typealias Definition = EventRule

    func running(in snapshot: EnvironmentSnapshot) -> [String: EventRuleConfiguration] {
        Dictionary(snapshot.eventRules.map { ($0.configuration.name, $0.configuration) }, uniquingKeysWith: { $1 })
    }

    func put(_ spec: ResourceSpec, _ configuration: EventRuleConfiguration, context: HandlerContext) async throws -> ResourceState {
        let status = try await context.client.put(configuration)
        return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: spec.dependencies,
                             outputs: ["arn": status.arn], processes: [])
    }

    func processRows(in snapshot: EnvironmentSnapshot, now: Double) -> [[String]] {
        snapshot.eventRules.map { r in
            ["event_rules.\(r.configuration.name)", "-", "-", String(snapshot.pid), String(snapshot.awsPort),
             r.configuration.enabled ? "enabled" : "disabled", "-", "-"]
        }
    }

    func statusSections(in snapshot: EnvironmentSnapshot) -> [StatusSection] {
        guard !snapshot.eventRules.isEmpty else { return [] }
        var rows: [[String]] = [["EVENT RULE", "TRIGGER", "MATCHED", "DELIVERED", "FAILED", "PENDING", "LAST FIRED", "NEXT FIRING"]]
        func time(_ t: Double?) -> String { t.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0)) } ?? "-" }
        for r in snapshot.eventRules {
            let c = r.configuration
            let trigger = c.schedule.map { $0 + (c.timeZone.map { " \($0)" } ?? "") } ?? "pattern"
            rows.append([c.name + (c.enabled ? "" : " (disabled)"), trigger, String(r.matched), String(r.delivered), String(r.failed),
                         String(r.pending), time(r.lastFired), time(r.nextFiring)])
        }
        var title = "event rules (EventBridge PutEvents at http://127.0.0.1:\(snapshot.awsPort))"
        if let clock = snapshot.clock, clock.ahead > 0 {
            title += "; the environment's clock is \(formatAhead(clock.ahead)) ahead: \(time(clock.now))"
        }
        return [StatusSection(title: title + ":", rows: rows)]
    }

    func formatAhead(_ s: Double) -> String {
        if s >= 86_400 { return String(format: "%.1f days", s / 86_400) }
        if s >= 3_600 { return String(format: "%.1f hours", s / 3_600) }
        return String(format: "%.0f s", s)
    }
}
