import Foundation
import Spec

/// Carries out a plan: walks its changes in dependency order, runs independent ones concurrently
/// (at most `parallelism` at a time, as Terraform's walker does), and records every successful
/// change durably before going on (a journal line), because a partial apply must leave state
/// that says exactly what exists. The final state is written as one snapshot.
public struct ApplyEngine: Sendable {
    public var provider: any Provider
    public var store: StateStore
    public var parallelism: Int

    public init(provider: any Provider, store: StateStore, parallelism: Int = 8) {
        self.provider = provider
        self.store = store
        self.parallelism = max(1, parallelism)
    }

    /// Creates and updates wait for the changes of what they depend on; a delete waits for
    /// everything that depended on it to be deleted or to stop depending on it.
    public static func ordering(of plan: Plan) -> [ResourceAddress: Set<ResourceAddress>] {
        let byAddress = Dictionary(uniqueKeysWithValues: plan.changes.map { ($0.address, $0) })
        var priorDependents: [ResourceAddress: [ResourceAddress]] = [:]
        for c in plan.changes {
            for d in c.before?.dependencies ?? [] { priorDependents[d, default: []].append(c.address) }
        }
        var waits: [ResourceAddress: Set<ResourceAddress>] = [:]
        for c in plan.changes {
            var w = Set<ResourceAddress>()
            switch c.action {
            case .create, .update, .replace:
                for d in c.after?.dependencies ?? [] {
                    if let dc = byAddress[d], dc.action != .delete { w.insert(d) }
                }
            case .delete:
                for dependent in priorDependents[c.address] ?? [] where byAddress[dependent]?.action != .noChange {
                    w.insert(dependent)
                }
            case .noChange:
                break
            }
            waits[c.address] = w
        }
        return waits
    }

    /// Applies `plan` on top of `state` and returns the final state (also written to the store).
    public func apply(_ plan: Plan, state initial: StackState, local: LocalSettings,
                      emit: @escaping @Sendable (ApplyEvent) -> Void) async throws -> StackState {
        var state = initial
        // A handler sees only what its change depends on. Handing each task the whole resource
        // map would make every later state change copy it (copy-on-write): quadratic at 10,000.
        let context = { (state: StackState, change: Change?) -> ApplyContext in
            var needed: [ResourceAddress: ResourceState] = [:]
            for d in change?.after?.dependencies ?? [] { needed[d] = state.resources[d] }
            return ApplyContext(stack: plan.stack, environment: plan.environment, local: local,
                                resources: needed, environmentAttributes: state.environmentAttributes)
        }
        if plan.changes.contains(where: { $0.action != .delete }) {
            state.environmentAttributes = try await provider.prepare(plan, context: context(state, nil))
        }
        // A snapshot first: journal lines always apply on top of a state file.
        do {
            try await write(state)
        } catch {
            // The environment was readied but the state cannot say so: stop what nothing records.
            if initial.resources.isEmpty { try? await provider.finish(initial) }
            throw error
        }
        var waits = Self.ordering(of: plan)
        var dependents: [ResourceAddress: [ResourceAddress]] = [:]
        for (a, ws) in waits { for w in ws { dependents[w, default: []].append(a) } }
        let changes = Dictionary(uniqueKeysWithValues: plan.changes.map { ($0.address, $0) })
        // A queue: the first wave in address order, later ones in the order they became ready.
        var ready = waits.filter { $0.value.isEmpty }.map(\.key).sorted()
        var nextReady = 0
        var failures: [(ResourceAddress, String)] = []
        var done = Set<ResourceAddress>()

        enum Outcome: Sendable {
            case applied(ResourceAddress, ResourceState?, Double)
            case failed(ResourceAddress, String)
        }

        let provider = self.provider
        try await withThrowingTaskGroup(of: Outcome.self) { group in
            var running = 0
            func startReady() {
                while running < parallelism, failures.isEmpty, nextReady < ready.count {
                    let address = ready[nextReady]
                    nextReady += 1
                    let change = changes[address]!
                    let ctx = context(state, change)
                    running += 1
                    emit(.started(address, change.action))
                    group.addTask {
                        let start = DispatchTime.now().uptimeNanoseconds
                        do {
                            let result = try await Self.perform(change, provider: provider, context: ctx)
                            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                            return .applied(address, result, seconds)
                        } catch {
                            return .failed(address, "\(error)")
                        }
                    }
                }
            }
            startReady()
            while let outcome = try await group.next() {
                running -= 1
                switch outcome {
                case .applied(let address, let result, let seconds):
                    do {
                        if let result {
                            do {
                                try await store.append(.set(result))
                            } catch {
                                // What the state cannot record must not keep running.
                                if changes[address]!.action == .create { try? await provider.delete(result, context: context(state, nil)) }
                                throw error
                            }
                            state.set(result)
                        } else {
                            state.remove(address)
                            try await store.append(.remove(address))
                        }
                    } catch {
                        throw (error as? StateFileError).map(ApplyError.state) ?? error
                    }
                    emit(.finished(address, changes[address]!.action, seconds: seconds))
                    done.insert(address)
                    for d in (dependents[address] ?? []).sorted() {
                        waits[d]!.remove(address)
                        if waits[d]!.isEmpty { ready.append(d) }
                    }
                case .failed(let address, let message):
                    failures.append((address, message))
                    emit(.failed(address, changes[address]!.action, message: message))
                }
                startReady()
            }
        }
        for c in plan.changes where !done.contains(c.address) && !failures.contains(where: { $0.0 == c.address }) {
            emit(.skipped(c.address, c.action))
        }
        // The environment stops when nothing is left in it, even when the state cannot be written:
        // a host the state does not record must not keep running.
        var writeError: (any Error)?
        do { try await write(state) } catch { writeError = error }
        try await provider.finish(state)
        if let writeError { throw writeError }
        if !failures.isEmpty { throw ApplyError.changesFailed(failures.sorted { $0.0 < $1.0 }) }
        return state
    }

    static func perform(_ change: Change, provider: any Provider, context: ApplyContext) async throws -> ResourceState? {
        switch change.action {
        case .create:
            return try await provider.create(change.after!, context: context)
        case .update:
            return try await provider.update(change.before!, to: change.after!, context: context)
        case .replace:
            // Destroy, then create: a model's new artifact is a new model. Endpoint variants that
            // use it switch blue/green in their own update, which waits for this one.
            try await provider.delete(change.before!, context: context)
            return try await provider.create(change.after!, context: context)
        case .delete:
            try await provider.delete(change.before!, context: context)
            return nil
        case .noChange:
            return change.before
        }
    }

    func write(_ state: StackState) async throws {
        do {
            try await store.write(state)
        } catch {
            throw ApplyError.state(error)
        }
    }
}
