import ArgumentParser
import Foundation
import Providers
import Reconciler
import Spec

struct Destroy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove everything the environment holds, dependents first, and check that nothing is left.",
        discussion: """
        Works from the state alone: the stack file may have changed, fail to validate, lack a \
        sensitive variable or be gone (then name the stack with --stack NAME; 'mlgw-deploy env \
        list' shows what is deployed).
        """)

    @OptionGroup var options: StackOptions

    @Flag(name: .customLong("auto-approve"), help: "Destroy without asking (needed when not on a terminal).")
    var autoApprove = false

    @Option(name: .customLong("lock-timeout"), help: "Wait this long for another command's lock (e.g. 30s).")
    var lockTimeout: String = "0s"

    func run() async throws {
        let loaded = try StackLoading.deployed(options)
        try await Locking.withLock(loaded.store, command: "destroy", timeout: parseDuration(lockTimeout) ?? 0) {
            let recorded = try await StackLoading.readState(loaded.store, name: loaded.name)
            let plan = Planner.destroyPlan(stack: loaded.name, environment: options.env, prior: recorded)
            Console.out(Console.colorPlan(plan.renderText()))
            let prior = recorded ?? StackState(stack: loaded.name, environment: options.env, lineage: UUID().uuidString.lowercased())
            if plan.hasChanges && !autoApprove {
                try Confirm.ask("Destroy everything in environment '\(options.env)'?")
            }
            let started = Date()
            var state = prior
            do {
                if plan.hasChanges {
                    // Deletes need none of the stack's settings: the state says what to remove.
                    state = try await ApplyEngine(provider: loaded.provider, store: loaded.store).apply(
                        plan, state: prior, local: LocalSettings(), emit: ProgressView(json: false).emit)
                }
                // Also stops a host that an interrupted apply started before it recorded anything.
                try await loaded.provider.finish(state)
                state.outputs = [:]
                state.environmentAttributes = [:]
                try await loaded.store.write(state)
            } catch {
                Console.err("error: \(error)")
                throw ExitCode(1)
            }
            let leftovers = Leftovers.find(prior: prior, folder: loaded.folder)
            guard leftovers.isEmpty else {
                Console.err("error: destroy left things behind:\n  " + leftovers.joined(separator: "\n  "))
                throw ExitCode(1)
            }
            Console.out("Destroy complete! \(plan.summary.destroy) destroyed in \(String(format: "%.2f", Date().timeIntervalSince(started)))s. No process, listening port or data of environment '\(options.env)' remains (state and logs stay in \(loaded.folder.path)).")
        }
    }
}

/// What a destroyed environment must not have: a live process or a listening port it recorded,
/// a running host, data files.
enum Leftovers {
    static func find(prior: StackState, folder: EnvironmentFolder) -> [String] {
        var found: [String] = []
        var processes = prior.resources.values.flatMap(\.processes)
        if let pid = prior.environmentAttributes["host_pid"].flatMap(Int32.init) {
            processes.append(ProcessRecord(role: "environment host", variant: nil, pid: pid, port: 0, startedAt: 0))
        }
        for p in processes where ProcessProbe.isAlive(p.pid) {
            found.append("process \(p.pid) (\(p.role)) is still running")
        }
        var ports = processes.map(\.port).filter { $0 > 0 }
        for key in ["aws_endpoint_url", "gateway_url"] {
            if let url = prior.environmentAttributes[key], let port = url.split(separator: ":").last.flatMap({ Int($0) }) { ports.append(port) }
        }
        for port in Set(ports).sorted() where ProcessProbe.isListening(port: port) {
            found.append("port \(port) still accepts connections")
        }
        if FileManager.default.fileExists(atPath: folder.data) { found.append("data folder \(folder.data) still exists") }
        if FileManager.default.fileExists(atPath: folder.infoPath) { found.append("\(folder.infoPath) still exists") }
        return found
    }
}
