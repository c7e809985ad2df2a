import EnvironmentAPI
import Foundation
import Reconciler
import Spec

/// A stage's routes, CORS, limits and the authorizers it uses: swapped in place.
struct StageHandler: KindHandler {
    typealias Definition = Stage

    func running(in snapshot: EnvironmentSnapshot) -> [String: StageConfiguration] {
        Dictionary(snapshot.stages.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
    }

    func put(_ spec: ResourceSpec, _ configuration: StageConfiguration, context: HandlerContext) async throws -> ResourceState {
        _ = try await context.client.put(configuration)
        let base = context.apply.environmentAttributes["gateway_url"] ?? ""
        return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: spec.dependencies,
                             outputs: ["url": "\(base)/\(configuration.name)"])
    }

    func processRows(in snapshot: EnvironmentSnapshot, now: Double) -> [[String]] {
        snapshot.stages.map { ["stages.\($0.name)", "-", "-", "-", snapshot.gatewayPort.map(String.init) ?? "-", "\($0.routes.count) route\($0.routes.count == 1 ? "" : "s")", "-", "-"] }
    }

    func statusSections(in snapshot: EnvironmentSnapshot) -> [StatusSection] {
        guard !snapshot.routes.isEmpty else { return [] }
        var rows: [[String]] = [["STAGE", "ROUTE", "REQUESTS", "4XX", "5XX", "P50", "P99"]]
        for r in snapshot.routes {
            rows.append([r.stage, r.route, String(r.requests), String(r.errors4xx), String(r.errors5xx),
                         r.latencyMs.p50.map { String(format: "%.2f ms", $0) } ?? "-", r.latencyMs.p99.map { String(format: "%.2f ms", $0) } ?? "-"])
        }
        return [StatusSection(title: "gateway routes (http://127.0.0.1:\(snapshot.gatewayPort ?? 0)/STAGE/...):", rows: rows)]
    }
}

/// An API key: the host only ever receives its SHA-256.
struct APIKeyHandler: KindHandler {
    typealias Definition = APIKey

    func running(in snapshot: EnvironmentSnapshot) -> [String: APIKeyConfiguration] {
        Dictionary(snapshot.apiKeys.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
    }

    func put(_ spec: ResourceSpec, _ configuration: APIKeyConfiguration, context: HandlerContext) async throws -> ResourceState {
        _ = try await context.client.put(configuration)
        return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: spec.dependencies)
    }

    func processRows(in snapshot: EnvironmentSnapshot, now: Double) -> [[String]] {
        snapshot.apiKeys.map { ["api_keys.\($0.name)", "-", "-", "-", "-", $0.enabled ? "enabled" : "disabled", "-", "-"] }
    }
}

/// A usage plan: throttles and quota, applied in place (buckets and counts are kept).
struct UsagePlanHandler: KindHandler {
    typealias Definition = UsagePlan

    func running(in snapshot: EnvironmentSnapshot) -> [String: UsagePlanConfiguration] {
        Dictionary(snapshot.usagePlans.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
    }

    func put(_ spec: ResourceSpec, _ configuration: UsagePlanConfiguration, context: HandlerContext) async throws -> ResourceState {
        _ = try await context.client.put(configuration)
        return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: spec.dependencies)
    }

    func processRows(in snapshot: EnvironmentSnapshot, now: Double) -> [[String]] {
        snapshot.usagePlans.map { ["usage_plans.\($0.name)", "-", "-", "-", "-", "applied", "-", "-"] }
    }
}
