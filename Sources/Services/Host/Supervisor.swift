import EnvironmentAPI
import Foundation
import NIOConcurrencyHelpers

/// Drives every service from one timer, in the controller-runtime style: each reconcile returns
/// when the service wants its next look; the supervisor sleeps until the soonest of those (or
/// until a service asks for an early look) and looks again. A service is looked at at least every
/// `resync` seconds, so a missed wake-up costs a delay, never a stall. Exits of child processes
/// are fanned out to the service that started each process.
actor Supervisor {
    let clock: any HostClock
    let resync: Double
    private var services: [any EnvironmentService] = []
    private var due: [ObjectIdentifier: Date] = [:]
    private var stopped = false
    /// Services that asked for a look since their last one.
    private var pokes = Set<ObjectIdentifier>()
    private var sleeper: CheckedContinuation<Void, Never>?
    private var timer: Task<Void, Never>?

    init(clock: any HostClock, resync: Double = 5) {
        self.clock = clock
        self.resync = resync
    }

    func add(_ service: any EnvironmentService) { services.append(service) }

    var all: [any EnvironmentService] { services }

    /// Looks at every service now and then whenever one is due, until `stop`.
    func run() async {
        while !stopped {
            await tick()
            let now = clock.now()
            let next = due.values.min() ?? now.addingTimeInterval(resync)
            await sleep(seconds: max(0, next.timeIntervalSince(now)))
        }
    }

    /// One pass: every service whose look is due (or that asked for one) reconciles.
    func tick() async {
        let now = clock.now()
        for service in services {
            let id = ObjectIdentifier(service)
            guard pokes.contains(id) || (due[id] ?? .distantPast) <= now else { continue }
            // A poke that arrives while the service reconciles stays, for the next pass.
            pokes.remove(id)
            let next = await service.reconcile(now: now)
            due[id] = min(next ?? now.addingTimeInterval(resync), now.addingTimeInterval(resync))
        }
    }

    /// Every service wants a look (the environment's clock moved).
    nonisolated func wakeAll() {
        Task { await self.markAllDue() }
    }

    private func markAllDue() {
        for s in services { markDue(ObjectIdentifier(s)) }
    }

    /// A service wants a look soon (its state changed).
    nonisolated func wake(_ service: any EnvironmentService) {
        let id = ObjectIdentifier(service)
        Task { await self.markDue(id) }
    }

    private func markDue(_ id: ObjectIdentifier) {
        pokes.insert(id)
        if let sleeper {
            self.sleeper = nil
            timer?.cancel()
            sleeper.resume()
        }
    }

    private func sleep(seconds: Double) async {
        guard pokes.isEmpty, !stopped else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            sleeper = continuation
            let nanos = UInt64(min(seconds, resync) * 1e9)
            timer = Task { [weak self] in
                try? await Task.sleep(nanoseconds: nanos)
                await self?.fire()
            }
        }
    }

    private func fire() {
        guard let sleeper else { return }
        self.sleeper = nil
        sleeper.resume()
    }

    func stop() {
        stopped = true
        fire()
    }
}

/// Which service started each child process, so that the reaper's report of its exit goes to
/// that service. The spawner records a process as soon as it exists; an exit reaped before that
/// (a process that died at once) is kept until the process is recorded.
final class ChildProcesses: @unchecked Sendable {
    private let lock = NIOLock()
    private var owners: [Int32: any EnvironmentService] = [:]
    private var early: [Int32: Int32] = [:]

    /// Records that `pid` belongs to `owner`; its exit status when it already exited.
    func record(_ pid: Int32, owner: any EnvironmentService) -> Int32? {
        lock.withLock {
            if let status = early.removeValue(forKey: pid) { return status }
            owners[pid] = owner
            return nil
        }
    }

    /// The owner of a process that exited, or nil when it is not recorded yet (kept for `record`).
    func exited(_ pid: Int32, status: Int32) -> (any EnvironmentService)? {
        lock.withLock {
            if let owner = owners.removeValue(forKey: pid) { return owner }
            early[pid] = status
            // A child nobody records (none today) must not grow this without bound.
            if early.count > 1024 { early.removeAll() }
            return nil
        }
    }
}
