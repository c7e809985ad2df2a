import ArgumentParser
import EnvironmentAPI
import Foundation

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reports on what the environment saw.", subcommands: [Shadow.self])

    struct Shadow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "How each shadow variant compares with production: agreement, mean absolute difference, latency, errors.")

        @OptionGroup var options: StackOptions

        @Argument(help: "Only this endpoint.")
        var endpoint: String?

        @Flag(name: .long, help: "Print as JSON.")
        var json = false

        func run() async throws {
            var options = self.options, endpoint = self.endpoint
            options.shiftingPositional(into: &endpoint)
            let loaded = try StackLoading.deployed(options)
            guard let snapshot = await loaded.provider.snapshot() else {
                Console.err("error: environment '\(options.env)' of stack '\(loaded.name)' is not running\n  hint: apply the stack first")
                throw ExitCode(1)
            }
            let endpoints = snapshot.endpoints.filter { endpoint == nil || $0.name == endpoint }
            if let endpoint, endpoints.isEmpty {
                Console.err("error: no endpoint '\(endpoint)' runs in environment '\(options.env)'")
                throw ExitCode(1)
            }
            let rows = endpoints.flatMap { e in (e.shadows ?? []).map { (e.name, $0) } }
            if json {
                struct Row: Encodable { var endpoint: String; var comparison: ShadowComparison }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                Console.out(String(decoding: try encoder.encode(rows.map { Row(endpoint: $0.0, comparison: $0.1) }), as: UTF8.self))
                return
            }
            guard !rows.isEmpty else {
                Console.out("no shadow variants\(endpoint.map { " on endpoint '\($0)'" } ?? "") in environment '\(options.env)'")
                return
            }
            func ms(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "-" }
            for (e, c) in rows {
                let agreement = c.compared == 0 ? "-" : String(format: "%.1f%%", Double(c.agreements) / Double(c.compared) * 100)
                Console.out("""
                endpoints.\(e): shadow '\(c.shadow)' against production
                  requests copied       \(c.sent)
                  compared              \(c.compared)
                  identical answers     \(c.agreements) (\(agreement))
                  mean abs difference   \(c.meanAbsoluteDifference.map { String(format: "%.6g", $0) } ?? "-") over \(c.numericPairs) numeric answers
                  errors                shadow \(c.shadowErrors), production \(c.productionErrors)
                  latency ms (p50/p90/p99)  production \(ms(c.productionLatencyMs.p50))/\(ms(c.productionLatencyMs.p90))/\(ms(c.productionLatencyMs.p99)), shadow \(ms(c.shadowLatencyMs.p50))/\(ms(c.shadowLatencyMs.p90))/\(ms(c.shadowLatencyMs.p99))
                  outputs kept in       \(loaded.folder.path)/shadow/\(e)/\(c.shadow)/

                """)
            }
        }
    }
}
