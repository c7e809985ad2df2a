import EnvironmentAPI
import Foundation
import Reconciler
import Spec

/// Endpoints: the host converges to the configuration and answers once every new instance is
/// healthy. Instance counts come from the planned attributes, so a count another resource owns
/// at run time is kept as it runs.
struct EndpointHandler: KindHandler {
    typealias Definition = Endpoint

    func running(in snapshot: EnvironmentSnapshot) -> [String: EndpointConfiguration] {
        Dictionary(snapshot.endpoints.map { ($0.name, $0.configuration) }, uniquingKeysWith: { $1 })
    }

    var deleteTimeout: Double { 60 }

    func put(_ spec: ResourceSpec, _ configuration: EndpointConfiguration, context: HandlerContext) async throws -> ResourceState {
        var config = configuration
        func count(_ path: String) -> Int? {
            if case .number(let n)? = spec.attributes[path], n.isFinite, n >= 0, n <= 1_000 { return Int(n) }
            return nil
        }
        for i in config.variants.indices {
            if let n = count("variants.\(config.variants[i].name).instances") { config.variants[i].instances = n }
        }
        if config.multiModel != nil, let n = count("instances") { config.multiModel!.instances = n }
        let status = try await context.client.put(config, timeout: max(config.healthTimeout, 600) * 2)
        let processes = status.variants.flatMap { v in
            v.instances.map { ProcessRecord(role: "model-server", variant: v.name, pid: $0.pid, port: $0.port, startedAt: $0.startedAt) }
        }
        let base = context.apply.environmentAttributes["aws_endpoint_url"] ?? ""
        return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: spec.dependencies,
                             outputs: ["url": "\(base)/endpoints/\(config.name)/invocations"], processes: processes)
    }

    func processRows(in snapshot: EnvironmentSnapshot, now: Double) -> [[String]] {
        var rows: [[String]] = []
        for e in snapshot.endpoints {
            for v in e.variants {
                for i in v.instances {
                    rows.append(["endpoints.\(e.name)", "\(v.name) (w=\(formatNumber(v.weight)))", i.id, String(i.pid), String(i.port),
                                 i.state.rawValue + (i.lastExit.map { i.restarts > 0 ? " (last: \($0))" : "" } ?? ""),
                                 String(i.restarts), uptime(now - i.startedAt)])
                }
            }
        }
        return rows
    }

    func statusSections(in snapshot: EnvironmentSnapshot) -> [StatusSection] {
        var sections: [StatusSection] = []
        for e in snapshot.endpoints {
            for v in e.variants {
                guard let r = v.rollout else { continue }
                let where_ = r.step.map { "step \($0 + 1) of \(r.config.steps.count), " } ?? ""
                var lines: [String] = []
                if let reason = r.reason { lines.append("  why: \(reason)") }
                lines += r.history.map { "  \($0)" }
                sections.append(StatusSection(title: "rollout of endpoints.\(e.name) variant '\(v.name)': \(r.state.rawValue.replacingOccurrences(of: "_", with: " ")), \(where_)\(formatNumber(r.share))% of traffic",
                                              lines: lines))
            }
        }
        let traffic = snapshot.endpoints.flatMap { e in e.variants.compactMap { v in v.metrics.map { (e.name, v.name, $0) } } }
        if !traffic.isEmpty {
            var rows: [[String]] = [["ENDPOINT", "VARIANT", "INVOCATIONS", "4XX", "5XX", "MODEL ERRORS", "MODEL LATENCY", "OVERHEAD"]]
            for (e, v, m) in traffic {
                rows.append([e, v, String(m.invocations), String(m.errors4xx), String(m.errors5xx), String(m.modelErrors),
                             m.meanModelLatencyMs.map { String(format: "%.3f ms", $0) } ?? "-",
                             m.meanOverheadLatencyMs.map { String(format: "%.3f ms", $0) } ?? "-"])
            }
            sections.append(StatusSection(title: "traffic since the endpoint was created (Prometheus: http://127.0.0.1:\(snapshot.awsPort)/metrics):", rows: rows))
        }
        return sections
    }
}

func formatNumber(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d) }

/// `42s`, `3m07s`, `2h05m`.
public func uptime(_ seconds: Double) -> String {
    let s = Int(max(0, min(seconds, 1e9)))
    if s < 60 { return "\(s)s" }
    if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
    return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m"
}
