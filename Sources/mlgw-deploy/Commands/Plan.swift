import ArgumentParser
import Foundation
import EnvironmentAPI
import Providers
import Reconciler
import Spec

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the exact changes apply would make, after observing what runs.",
        discussion: "Exit codes: 0 success (with --detailed-exitcode: no changes), 1 error, 2 changes present (with --detailed-exitcode).")

    @OptionGroup var options: StackOptions

    @Option(name: .long, help: "Save the plan to this file; 'apply FILE' executes exactly it.")
    var out: String?

    @Flag(name: .long, help: "Print the plan as JSON (documented in docs/plan-json.md); the same as --format json.")
    var json = false

    @Option(name: .long, help: "text (default), json, or markdown (a pull-request comment: risks first, then each resource's diff).")
    var format: String?

    func validate() throws {
        if let format, !["text", "json", "markdown"].contains(format) {
            throw ValidationError("--format must be text, json or markdown, not '\(format)'")
        }
        if json, let format, format != "json" { throw ValidationError("--json and --format \(format) disagree; give one") }
    }

    @Flag(name: .customLong("detailed-exitcode"), help: "Exit 0 for no changes, 2 for changes, 1 for errors.")
    var detailedExitcode = false

    @Flag(name: .long, help: "Plan the destruction of everything the environment holds.")
    var destroy = false

    func run() async throws {
        // The state and the host's snapshot are read while the stack loads, for the stack the
        // files name; the load confirms the name (a wrong guess is read again, after it).
        let prefetch = PlanRun.prefetch(options)
        let loaded = try StackLoading.load(options)
        let prepared = try await PlanRun.make(loaded, destroy: destroy, fingerprints: out != nil, prefetched: prefetch)
        switch json ? "json" : format ?? "text" {
        case "json": Console.out(prepared.plan.renderJSON(), terminator: "")
        case "markdown": Console.out(prepared.plan.renderMarkdown(), terminator: "")
        default: Console.out(Console.colorPlan(prepared.plan.renderText()), terminator: "")
        }
        if let out {
            let saved = SavedPlan(stackPaths: loaded.sourcePaths, variableAssignments: sensitiveFree(options.assignments, stack: loaded.stack),
                                  variableFiles: options.variableFiles.map(absolute), stateDirectory: options.stateDirectory,
                                  fingerprints: prepared.fingerprints!, plan: prepared.plan, observed: prepared.observed)
            do {
                try saved.encoded().write(to: URL(fileURLWithPath: absolute(out)), options: .atomic)
            } catch {
                Console.err("error: cannot write plan file '\(out)': \(error)")
                throw ExitCode(1)
            }
            if !json && (format ?? "text") == "text" { Console.out("\nSaved the plan to \(out). Apply exactly it with: mlgw-deploy apply \(out)") }
        }
        if detailedExitcode && prepared.plan.hasChanges { throw ExitCode(2) }
    }

    /// Sensitive values are not written into plan files: apply reads them again.
    func sensitiveFree(_ assignments: [String: String], stack: Stack) -> [String: String] {
        assignments.filter { stack.variables[$0.key]?.declaration.sensitive != true }
    }
}

/// Observing and planning, shared by plan, apply and destroy.
struct PlanRun {
    var plan: Reconciler.Plan
    var prior: StackState?
    /// Only computed for saving or checking a plan file: hashing state costs time on every plan.
    var fingerprints: SavedPlan.Fingerprints?
    /// What the provider found running when the plan was made.
    var observed: Observation

    /// What a plan reads besides the stack: the state file and the host's snapshot.
    struct Prefetched: Sendable {
        var stack: String
        var environment: String
        var state: Result<StackState?, StateFileError>
        var snapshot: EnvironmentSnapshot?
    }

    /// Starts reading the state and the snapshot of the stack the files name (a `stack:` line at
    /// the top of one of them), without waiting for the stack to load; nil without such a line.
    static func prefetch(_ options: StackOptions) -> Task<Prefetched, Never>? {
        guard let file = options.stack, let paths = try? StackLoading.stackFiles(file), let name = StackLoading.declaredName(in: paths) else { return nil }
        let folder = EnvironmentFolder(stateDirectory: options.stateDirectory, stack: name, environment: options.env)
        let store = StateStore(directory: folder.path)
        let provider = LocalProvider(folder: folder, executable: selfExecutable)
        let environment = options.env
        return Task {
            async let snapshot = provider.snapshot()
            let state: Result<StackState?, StateFileError>
            do throws(StateFileError) { state = .success(try await store.read()) } catch { state = .failure(error) }
            return Prefetched(stack: name, environment: environment, state: state, snapshot: await snapshot)
        }
    }

    static func make(_ loaded: LoadedStack, destroy: Bool, fingerprints wanted: Bool = false, prefetched: Task<Prefetched, Never>? = nil) async throws -> PlanRun {
        let early = await prefetched?.value
        let prior: StackState?, running: EnvironmentSnapshot?
        if let early, early.stack == loaded.stack.name, early.environment == loaded.stack.environment {
            switch early.state {
            case .success(let state):
                prior = state
            case .failure(let error):
                Console.err("error: \(error)")
                throw ExitCode(1)
            }
            running = early.snapshot
        } else {
            // The host's snapshot is fetched (and decoded) while the state file is read and
            // decoded: the two are a no-op plan's largest costs, and neither needs the other.
            async let snapshot = loaded.provider.snapshot()
            prior = try await StackLoading.readState(loaded.store, stack: loaded.stack)
            running = await snapshot
        }
        if let prior, prior.stack != loaded.stack.name {
            Console.err("error: \(StateFileError.wrongStack(path: loaded.store.statePath, found: prior.stack, expected: loaded.stack.name))")
            throw ExitCode(1)
        }
        let observed = prior?.resources.isEmpty == false ? running.map(LocalProvider.observation(of:)) ?? Observation() : Observation()
        let plan = destroy
            ? Planner.destroyPlan(stack: loaded.stack.name, environment: loaded.stack.environment, prior: prior)
            : Planner.plan(stack: loaded.stack, prior: prior, observed: observed)
        var fingerprints: SavedPlan.Fingerprints?
        if wanted {
            fingerprints = SavedPlan.Fingerprints(
                stack: SavedPlan.stackFingerprint(loaded.stack), variables: loaded.stack.variableFingerprint,
                state: await loaded.store.fingerprint(), observation: observed.fingerprint)
        }
        return PlanRun(plan: plan, prior: prior, fingerprints: fingerprints, observed: observed)
    }
}
