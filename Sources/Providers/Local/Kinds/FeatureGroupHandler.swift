import EnvironmentAPI
import Foundation
import Reconciler
import Spec

/// Feature groups: the host keeps their stores in the environment's data folder and loads the
/// `load:` files when a group is applied; apply returns once they are loaded.
struct FeatureGroupHandler: KindHandler {
    typealias Definition = FeatureGroup

    func running(in snapshot: EnvironmentSnapshot) -> [String: FeatureGroupConfiguration] {
        Dictionary(snapshot.featureGroups.map { ($0.configuration.name, $0.configuration) }, uniquingKeysWith: { $1 })
    }

    func storedData(in snapshot: EnvironmentSnapshot) -> [String: String] {
        var out: [String: String] = [:]
        for g in snapshot.featureGroups { out[g.configuration.name] = g.storedData }
        return out
    }

    func put(_ spec: ResourceSpec, _ configuration: FeatureGroupConfiguration, context: HandlerContext) async throws -> ResourceState {
        // Loading is bounded by the files' size; a generous timeout, since a large warm-up is legitimate.
        _ = try await context.client.put(configuration, timeout: 600)
        return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: spec.dependencies,
                             outputs: ["arn": FeatureGroupConfiguration.arn(configuration.name)], processes: [])
    }

    func processRows(in snapshot: EnvironmentSnapshot, now: Double) -> [[String]] {
        snapshot.featureGroups.map { g in
            ["feature_groups.\(g.configuration.name)", "-", "-", String(snapshot.pid), String(snapshot.awsPort), "serving", "-", "-"]
        }
    }

    func statusSections(in snapshot: EnvironmentSnapshot) -> [StatusSection] {
        guard !snapshot.featureGroups.isEmpty else { return [] }
        var rows: [[String]] = [["FEATURE GROUP", "ONLINE RECORDS", "ONLINE SIZE", "OFFLINE ROWS", "OFFLINE SIZE", "LAST WRITE", "LOAD"]]
        for g in snapshot.featureGroups {
            let last = g.lastWrite.map { FeatureRecords.iso8601($0.rounded(.down)) } ?? "-"
            rows.append([g.configuration.name, g.configuration.online ? FeatureLoadResult.grouped(g.onlineRecords) : "(no online store)",
                         g.configuration.online ? byteSize(g.onlineBytes) + (g.configuration.usesPostgres ? " (PostgreSQL)" : "") : "-",
                         g.configuration.offline ? FeatureLoadResult.grouped(g.offlineRows) : "(no offline store)",
                         byteSize(g.offlineBytes), last, g.load?.summary ?? "-"])
        }
        return [StatusSection(title: "feature groups (featurestore-runtime at http://127.0.0.1:\(snapshot.awsPort)):", rows: rows)]
    }

    func byteSize(_ n: Int) -> String {
        if n >= 1 << 30 { return String(format: "%.1f GiB", Double(n) / Double(1 << 30)) }
        if n >= 1 << 20 { return String(format: "%.1f MiB", Double(n) / Double(1 << 20)) }
        if n >= 1 << 10 { return String(format: "%.1f KiB", Double(n) / Double(1 << 10)) }
        return "\(n) B"
    }
}
