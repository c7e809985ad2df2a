import ArgumentParser
import EnvironmentAPI
import Foundation
import Providers
import Reconciler

struct Env: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "env", abstract: "The environments under the state folder.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every environment of every stack under the state folder: running or not, resources, ports, since when.",
            discussion: "A stale environment (its state records resources but its host is not running) can be destroyed with 'mlgw-deploy destroy --stack NAME --env ENV'.")

        @Option(name: .customLong("state-dir"), help: "Where environments keep state, logs and data (default: $MLGW_STATE_DIR or ./.mlgw).")
        var stateDir: String?

        @Flag(name: .long, help: "Print as JSON.")
        var json = false

        struct Row: Encodable {
            var stack: String
            var environment: String
            /// running, stale (the state records resources, no host runs), empty
            var state: String
            var running: Bool
            var resources: Int
            var hostPID: Int32?
            var awsPort: Int?
            var gatewayPort: Int?
            /// Unix seconds: when the host started, or when the state was last written.
            var since: Double?
            var folder: String
        }

        func run() async throws {
            let root = absolute(stateDir ?? ProcessInfo.processInfo.environment["MLGW_STATE_DIR"] ?? ".mlgw")
            var rows: [Row] = []
            let stacks = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
            for stack in stacks {
                let environments = ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + stack)) ?? []).sorted()
                for environment in environments {
                    let folder = EnvironmentFolder(stateDirectory: root, stack: stack, environment: environment)
                    let stateFile = folder.path + "/state.json"
                    guard FileManager.default.fileExists(atPath: stateFile) || FileManager.default.fileExists(atPath: folder.infoPath) else { continue }
                    let provider = LocalProvider(folder: folder, executable: selfExecutable)
                    let state = try? await StateStore(directory: folder.path).read()
                    let host = provider.runningHost()
                    let resources = state?.resources.count ?? 0
                    let modified = (try? FileManager.default.attributesOfItem(atPath: stateFile)[.modificationDate] as? Date)?.timeIntervalSince1970
                    rows.append(Row(stack: stack, environment: environment,
                                    state: host != nil ? "running" : (resources > 0 || provider.recordedHost() != nil ? "stale" : "empty"),
                                    running: host != nil, resources: resources, hostPID: host?.pid, awsPort: host?.awsPort,
                                    gatewayPort: host?.gatewayPort, since: host?.startedAt ?? modified, folder: folder.path))
                }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                encoder.keyEncodingStrategy = .convertToSnakeCase
                Console.out(String(decoding: try encoder.encode(rows), as: UTF8.self))
                return
            }
            guard !rows.isEmpty else {
                Console.out("no environments under \(root)")
                return
            }
            let stamp = ISO8601DateFormatter()
            var table: [[String]] = [["STACK", "ENV", "STATE", "RESOURCES", "AWS PORT", "GATEWAY PORT", "SINCE"]]
            for r in rows {
                table.append([r.stack, r.environment, r.state, String(r.resources), r.awsPort.map(String.init) ?? "-",
                              r.gatewayPort.map(String.init) ?? "-", r.since.map { stamp.string(from: Date(timeIntervalSince1970: $0)) } ?? "-"])
            }
            let widths = (0..<table[0].count).map { c in table.map { $0[c].count }.max()! }
            for row in table {
                Console.out(row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  "))
            }
            if let stale = rows.first(where: { $0.state == "stale" }) {
                Console.out("\nA stale environment's host is not running; remove what its state records with:\n  mlgw-deploy destroy --stack \(stale.stack) --env \(stale.environment)")
            }
        }
    }
}
