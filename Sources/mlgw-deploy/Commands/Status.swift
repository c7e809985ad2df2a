import ArgumentParser
import EnvironmentAPI
import Foundation
import Providers
import Reconciler

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show every resource's processes: pids, ports, health, restarts, uptime.")

    @OptionGroup var options: StackOptions

    @Flag(name: .long, help: "Print as JSON.")
    var json = false

    func run() async throws {
        let loaded = try StackLoading.load(options)
        let state = try await StackLoading.readState(loaded.store, stack: loaded.stack)
        let snapshot = await loaded.provider.snapshot()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            struct View: Encodable {
                var stack: String
                var environment: String
                var running: Bool
                var aws_endpoint_url: String?
                var recorded: [String]
                var host: EnvironmentSnapshot?
            }
            let view = View(stack: loaded.stack.name, environment: options.env, running: snapshot != nil,
                            aws_endpoint_url: snapshot.map { "http://127.0.0.1:\($0.awsPort)" },
                            recorded: state?.sortedResources.map(\.address.description) ?? [], host: snapshot)
            Console.out(String(decoding: try encoder.encode(view), as: UTF8.self))
            return
        }
        guard let snapshot else {
            let n = state?.resources.count ?? 0
            Console.out("environment '\(options.env)' of stack '\(loaded.stack.name)' is not running" + (n > 0 ? " (state records \(n) resources: run plan to see the drift)" : ""))
            return
        }
        let now = Date().timeIntervalSince1970
        Console.out("environment '\(options.env)' of stack '\(loaded.stack.name)': host pid \(snapshot.pid), up \(uptime(now - snapshot.startedAt)), aws url http://127.0.0.1:\(snapshot.awsPort)\n")
        var rows: [[String]] = [["RESOURCE", "VARIANT", "INSTANCE", "PID", "PORT", "STATE", "RESTARTS", "UPTIME"]]
        for m in snapshot.models {
            rows.append(["models.\(m.name)", "-", "-", "-", "-", "registered", "-", "-"])
        }
        for e in snapshot.endpoints {
            for v in e.variants {
                for i in v.instances {
                    rows.append(["endpoints.\(e.name)", "\(v.name) (w=\(formatNumber(v.weight)))", i.id, String(i.pid), String(i.port),
                                 i.state.rawValue + (i.lastExit.map { i.restarts > 0 ? " (last: \($0))" : "" } ?? ""),
                                 String(i.restarts), uptime(now - i.startedAt)])
                }
            }
        }
        for f in snapshot.functions ?? [] {
            for w in f.workers {
                rows.append(["functions.\(f.name)", "-", w.id, String(w.pid), "-", w.state, "-", "-"])
            }
            if f.workers.isEmpty { rows.append(["functions.\(f.name)", "-", "-", "-", "-", "no workers (start on demand)", "-", "-"]) }
        }
        table(rows)
        if let functions = snapshot.functions, !functions.isEmpty {
            Console.out("\nfunctions (Lambda Invoke at http://127.0.0.1:\(snapshot.awsPort)):")
            var fRows: [[String]] = [["FUNCTION", "INVOCATIONS", "ERRORS", "TIMEOUTS", "THROTTLES", "ASYNC QUEUED", "ASYNC FAILED"]]
            for f in functions {
                fRows.append([f.name, String(f.invocations), String(f.errors), String(f.timeouts), String(f.throttles), String(f.asyncQueued), String(f.asyncFailed)])
            }
            table(fRows)
        }
        if let routes = snapshot.routes, !routes.isEmpty {
            Console.out("\ngateway routes (http://127.0.0.1:\(snapshot.gatewayPort ?? 0)/STAGE/...):")
            var rRows: [[String]] = [["STAGE", "ROUTE", "REQUESTS", "4XX", "5XX", "P50", "P99"]]
            for r in routes {
                rRows.append([r.stage, r.route, String(r.requests), String(r.errors4xx), String(r.errors5xx),
                              r.latencyMs.p50.map { String(format: "%.2f ms", $0) } ?? "-", r.latencyMs.p99.map { String(format: "%.2f ms", $0) } ?? "-"])
            }
            table(rRows)
        }
        for e in snapshot.endpoints {
            for v in e.variants {
                guard let r = v.rollout else { continue }
                let where_ = r.step.map { "step \($0 + 1) of \(r.config.steps.count), " } ?? ""
                Console.out("\nrollout of endpoints.\(e.name) variant '\(v.name)': \(r.state.replacingOccurrences(of: "_", with: " ")), \(where_)\(formatNumber(r.share))% of traffic")
                if let reason = r.reason { Console.out("  why: \(reason)") }
                for h in r.history { Console.out("  \(h)") }
            }
        }
        let traffic = snapshot.endpoints.flatMap { e in e.variants.compactMap { v in v.metrics.map { (e.name, v.name, $0) } } }
        guard !traffic.isEmpty else { return }
        Console.out("\ntraffic since the endpoint was created (Prometheus: http://127.0.0.1:\(snapshot.awsPort)/metrics):")
        var metricRows: [[String]] = [["ENDPOINT", "VARIANT", "INVOCATIONS", "4XX", "5XX", "MODEL ERRORS", "MODEL LATENCY", "OVERHEAD"]]
        for (e, v, m) in traffic {
            metricRows.append([e, v, String(m.invocations), String(m.errors4xx), String(m.errors5xx), String(m.modelErrors),
                               m.meanModelLatencyMs.map { String(format: "%.3f ms", $0) } ?? "-",
                               m.meanOverheadLatencyMs.map { String(format: "%.3f ms", $0) } ?? "-"])
        }
        table(metricRows)
    }

    func table(_ rows: [[String]]) {
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
        for row in rows {
            Console.out(row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
    }

    func uptime(_ seconds: Double) -> String {
        let s = Int(max(0, seconds))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m"
    }

    func formatNumber(_ d: Double) -> String { d == d.rounded() ? String(Int(d)) : String(d) }
}
