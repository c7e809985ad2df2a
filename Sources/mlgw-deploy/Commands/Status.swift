import ArgumentParser
import EnvironmentAPI
import Foundation
import Providers
import Reconciler

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every resource's processes: pids, ports, health, restarts, uptime.",
        discussion: "Exit codes: 0 the environment runs, 3 it does not (a CI script can tell), 1 error. Works from the state: a stack file that does not load, or --stack NAME, will do.")

    @OptionGroup var options: StackOptions

    @Flag(name: .long, help: "Print as JSON.")
    var json = false

    func run() async throws {
        let loaded = try StackLoading.deployed(options)
        let state = try await StackLoading.readState(loaded.store, name: loaded.name)
        let snapshot = await loaded.provider.snapshot()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            struct View: Encodable {
                var stack: String
                var environment: String
                var running: Bool
                var aws_endpoint_url: String?
                var recorded: [String]
                var host: EnvironmentSnapshot?
            }
            let view = View(stack: loaded.name, environment: options.env, running: snapshot != nil,
                            aws_endpoint_url: snapshot.map { "http://127.0.0.1:\($0.awsPort)" },
                            recorded: state?.sortedResources.map(\.address.description) ?? [], host: snapshot)
            encoder.outputFormatting.insert(.withoutEscapingSlashes)
            Console.out(String(decoding: try encoder.encode(view), as: UTF8.self))
            if snapshot == nil { throw ExitCode(3) }
            return
        }
        guard let snapshot else {
            let n = state?.resources.count ?? 0
            Console.out("environment '\(options.env)' of stack '\(loaded.name)' is not running" + (n > 0 ? " (state records \(n) resources: run plan to see the drift, or destroy to clear it)" : ""))
            throw ExitCode(3)
        }
        let now = Date().timeIntervalSince1970
        Console.out("environment '\(options.env)' of stack '\(loaded.name)': host pid \(snapshot.pid), up \(uptime(now - snapshot.startedAt)), aws url http://127.0.0.1:\(snapshot.awsPort)\n")
        // Every kind adds its own rows and sections (Providers' handlers): none is left out.
        let (rows, sections) = LocalProvider.status(of: snapshot, now: now)
        Console.table([["RESOURCE", "VARIANT", "INSTANCE", "PID", "PORT", "STATE", "RESTARTS", "UPTIME"]] + rows)
        for section in sections {
            Console.out("\n" + section.title)
            if !section.rows.isEmpty { Console.table(section.rows) }
            for line in section.lines { Console.out(line) }
        }
    }
}
