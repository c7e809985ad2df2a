import ArgumentParser
import Foundation
import Reconciler
import Spec

struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make the environment match the stack (or execute a saved plan), and wait until it is healthy.",
        usage: "mlgw-deploy apply <stack-or-plan-file> [--env <env>] [--var <name=value> ...] [--var-file <file> ...] [--state-dir <dir>] [--auto-approve] [--json] [--lock-timeout <duration>] [--parallelism <n>] [--allow-data-loss]",
        discussion: """
        The argument is a stack (a YAML file, or a folder of them), or a plan file written by \
        'mlgw-deploy plan --out FILE': apply then executes exactly that plan, without asking, and \
        only if the stack files, variables, state and what runs are as they were when it was \
        planned (else it says what changed). Give sensitive variables again: a plan file never \
        holds them.
        """)

    @OptionGroup var options: StackOptions

    @Flag(name: .customLong("auto-approve"), help: "Apply without asking (needed when not on a terminal).")
    var autoApprove = false

    @Flag(name: .customLong("allow-data-loss"), help: "Let a change delete stored data (a feature group replaced or removed, with its records).")
    var allowDataLoss = false

    @Flag(name: .long, help: "Print progress and the result as JSON lines.")
    var json = false

    @Option(name: .customLong("lock-timeout"), help: "Wait this long for another command's lock (e.g. 30s, 2m).")
    var lockTimeout: String = "0s"

    @Option(name: .long, help: "Most changes applied at once.")
    var parallelism: Int = 8

    func validate() throws {
        guard parseDuration(lockTimeout) != nil else { throw ValidationError("--lock-timeout '\(lockTimeout)' is not a duration such as 30s or 2m") }
        guard parallelism >= 1 else { throw ValidationError("--parallelism must be at least 1") }
    }

    func run() async throws {
        // A saved plan: execute exactly it, or refuse if anything it was made from changed.
        if let file = options.stack, let data = FileManager.default.contents(atPath: absolute(file)), let saved = SavedPlan.decode(data) {
            try await applySaved(saved)
            return
        }
        let loaded = try StackLoading.load(options)
        try await Locking.withLock(loaded.store, command: "apply", timeout: parseDuration(lockTimeout)!) {
            let prepared = try await PlanRun.make(loaded, destroy: false)
            try await execute(prepared.plan, loaded: loaded, prior: prepared.prior, askFirst: !autoApprove)
        }
    }

    func applySaved(_ saved: SavedPlan) async throws {
        var opts = options
        opts.stateDir = saved.stateDirectory
        opts.env = saved.plan.environment
        let loaded = try StackLoading.load(opts, paths: saved.stackPaths, assignments: saved.variableAssignments.merging(options.assignments) { $1 },
                                           variableFiles: saved.variableFiles)
        try await Locking.withLock(loaded.store, command: "apply \(options.stack ?? "")", timeout: parseDuration(lockTimeout)!) {
            let now = try await PlanRun.make(loaded, destroy: saved.plan.mode == .destroy, fingerprints: true)
            let differences = saved.staleness(now: now.fingerprints!, observed: now.observed)
            guard differences.isEmpty else {
                Console.err("error: the saved plan '\(options.stack ?? "")' is stale: \(differences.joined(separator: "; "))\n  hint: run 'mlgw-deploy plan --out FILE' again and review the new plan")
                throw ExitCode(1)
            }
            guard let plan = saved.restoringDefinitions(from: loaded.stack) else {
                Console.err("error: the saved plan '\(options.stack ?? "")' names a resource the stack no longer defines\n  hint: run 'mlgw-deploy plan --out FILE' again")
                throw ExitCode(1)
            }
            try await execute(plan, loaded: loaded, prior: now.prior, askFirst: false)
        }
    }

    func execute(_ plan: Reconciler.Plan, loaded: LoadedStack, prior: StackState?, askFirst: Bool) async throws {
        if !json { Console.out(Console.colorPlan(plan.renderText())) }
        let losing = plan.mode == .apply ? plan.dataLosingChanges : []
        if !losing.isEmpty && !allowDataLoss {
            Console.err("error: this apply would delete stored data, and nothing was changed:\n"
                + losing.map { "  \($0.address): \($0.dataLoss!)" }.joined(separator: "\n")
                + "\n  hint: keep the schema (features may only be added in place), or apply again with --allow-data-loss")
            throw ExitCode(1)
        }
        var state = prior ?? StackState(stack: loaded.stack.name, environment: loaded.stack.environment, lineage: UUID().uuidString.lowercased())
        if plan.hasChanges && askFirst {
            try Confirm.ask("Apply these changes to environment '\(plan.environment)'?")
        }
        let started = Date()
        if plan.hasChanges {
            let engine = ApplyEngine(provider: loaded.provider, store: loaded.store, parallelism: parallelism)
            do {
                state = try await engine.apply(plan, state: state, local: loaded.stack.local, emit: ProgressView(json: json).emit)
            } catch {
                ProgressView(json: json).failure("\(error)")
                throw ExitCode(1)
            }
        }
        if plan.mode == .apply {
            state.outputs = Outputs.evaluate(loaded.stack, state: state)
            do { try await loaded.store.write(state) } catch {
                Console.err("error: \(error)")
                throw ExitCode(1)
            }
        }
        let s = plan.summary
        let seconds = Date().timeIntervalSince(started)
        if json {
            ProgressView.line(["type": "apply_complete", "add": s.add, "change": s.change, "replace": s.replace, "destroy": s.destroy,
                               "seconds": (seconds * 1000).rounded() / 1000])
        } else {
            Console.out("Apply complete! Resources: \(s.add) added, \(s.change) changed, \(s.replace) replaced, \(s.destroy) destroyed (\(String(format: "%.2f", seconds))s).")
            OutputView.print(state.outputs)
        }
    }
}

enum Confirm {
    /// Asks for "yes" on a terminal; refuses without one (CI must say --auto-approve).
    static func ask(_ question: String) throws {
        guard Console.stdinIsTerminal else {
            Console.err("error: not on a terminal, so nobody can confirm\n  hint: pass --auto-approve, or apply a saved plan file")
            throw ExitCode(1)
        }
        Console.out("\(question)\n  Only 'yes' will be accepted.\n\n  Enter a value: ", terminator: "")
        guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
            Console.out("Cancelled; nothing was changed.")
            throw ExitCode(1)
        }
    }
}

enum Locking {
    static func withLock(_ store: StateStore, command: String, timeout: Double, _ body: () async throws -> Void) async throws {
        do {
            try await store.lock(command: command, timeout: timeout)
        } catch {
            Console.err("error: \(error)")
            throw ExitCode(1)
        }
        do {
            try await body()
        } catch {
            await store.unlock()
            throw error
        }
        await store.unlock()
    }
}

/// Apply progress, one line per event: text for people, JSON lines for machines.
struct ProgressView: Sendable {
    var json: Bool

    static let verbs: [Action: (String, String)] = [
        .create: ("creating", "created"), .update: ("updating", "updated"), .replace: ("replacing", "replaced"),
        .delete: ("destroying", "destroyed"), .noChange: ("checking", "checked"),
    ]

    func emit(_ event: ApplyEvent) {
        switch event {
        case .started(let a, let action):
            json ? Self.line(["type": "change_start", "address": a.description, "action": action.rawValue])
                 : Console.out("\(a): \(Self.verbs[action]!.0)...")
        case .finished(let a, let action, let seconds):
            json ? Self.line(["type": "change_complete", "address": a.description, "action": action.rawValue, "seconds": (seconds * 1000).rounded() / 1000])
                 : Console.out("\(a): \(Self.verbs[action]!.1) after \(String(format: "%.2f", seconds))s")
        case .failed(let a, let action, let message):
            json ? Self.line(["type": "change_errored", "address": a.description, "action": action.rawValue, "message": message])
                 : Console.err("\(a): \(Self.verbs[action]!.0) failed: \(message)")
        case .skipped(let a, let action):
            json ? Self.line(["type": "change_skipped", "address": a.description, "action": action.rawValue])
                 : Console.err("\(a): not \(Self.verbs[action]!.1) (an earlier change failed)")
        }
    }

    func failure(_ message: String) {
        json ? Self.line(["type": "apply_errored", "message": message]) : Console.err("error: \(message)")
    }

    static func line(_ object: [String: Any]) {
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
            Console.out(String(decoding: data, as: UTF8.self))
        }
    }
}

enum OutputView {
    static func print(_ outputs: [String: OutputValue]) {
        guard !outputs.isEmpty else { return }
        Console.out("\nOutputs:")
        let width = outputs.keys.map(\.count).max() ?? 0
        for name in outputs.keys.sorted() {
            Console.out("  \(name.padding(toLength: width, withPad: " ", startingAt: 0)) = \(display(outputs[name]!))")
        }
    }

    static func display(_ v: OutputValue) -> String {
        if v.sensitive { return "(sensitive value)" }
        if v.knownAfterApply { return "(not known yet)" }
        return v.value ?? ""
    }
}
