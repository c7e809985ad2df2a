import Atomics
import EnvironmentAPI
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One event on its way to a worker and back.
final class Invocation: @unchecked Sendable {
    let requestID: String
    let payload: ByteBuffer
    let clientContext: String?
    let traceID: String
    var deadlineEpochMs: Int64 = 0
    /// Where the worker's log stood when the event was handed over (for `LogType: Tail`).
    var logOffset: off_t = 0
    var startNanos: UInt64 = 0
    var timer: Scheduled<Void>?
    /// Called exactly once, from whichever thread finishes the invocation.
    let completion: @Sendable (Invocation, InvocationResult) -> Void

    init(requestID: String, payload: ByteBuffer, clientContext: String?, completion: @escaping @Sendable (Invocation, InvocationResult) -> Void) {
        self.requestID = requestID
        self.payload = payload
        self.clientContext = clientContext
        let hex = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        self.traceID = "Root=1-\(String(Int(Date().timeIntervalSince1970), radix: 16))-\(String(repeating: "0", count: 24 - min(24, hex.count)))\(hex.prefix(24));Sampled=0"
        self.completion = completion
    }

    func complete(_ result: InvocationResult) { completion(self, result) }
}

enum InvocationResult: Sendable {
    /// The handler's result.
    case success(ByteBuffer, log: String?)
    /// The handler failed, timed out or its worker died: Lambda's 200 with X-Amz-Function-Error.
    case functionError(ByteBuffer, log: String?)
    /// Every worker the function may have is busy.
    case throttled
    /// No worker could be started (spawn failed, initialisation failed).
    case unavailable(String)

}

/// One worker process and its Runtime API port. Mutated under its pool's lock.
final class Worker: @unchecked Sendable {
    enum State: String { case starting, idle, busy, finishing, dead }

    let id: String
    unowned let pool: FunctionPool
    let logPath: String
    var listener: Channel?
    var port = 0
    var pid: Int32 = 0
    var state = State.starting
    /// The pending `next` long poll of an idle worker.
    var waiting: ((Invocation) -> Void)?
    var current: Invocation?
    var invocations: UInt64 = 0
    var logFD: Int32 = -1
    var initError: String?
    var retiring = false
    /// One of the function's provisioned workers (`AWS_LAMBDA_INITIALIZATION_TYPE`), or one
    /// started on demand beyond them.
    let provisioned: Bool

    init(id: String, pool: FunctionPool, logPath: String, provisioned: Bool) {
        self.id = id
        self.pool = pool
        self.logPath = logPath
        self.provisioned = provisioned
    }
}

/// The workers of one function configuration: starts them (provisioned ones at once, more on
/// demand up to the reserved concurrency), hands each event to an idle one, enforces the timeout,
/// and turns errors, timeouts and crashes into Lambda's answers. A configuration change builds a
/// new pool; the old one retires (busy workers finish their event, then stop).
final class FunctionPool: @unchecked Sendable {
    /// The configuration the pool was made for: what its workers run never changes.
    let initial: FunctionConfiguration
    let arn: String
    let directory: String
    let group: EventLoopGroup
    /// Starts a worker process: program, arguments, environment, working directory, log path.
    let spawn: @Sendable (String, [String], [String: String], String?, String) async throws -> Int32
    /// Tells the host which pool a worker's process belongs to (for exit reports).
    let register: @Sendable (Int32, FunctionPool?) -> Void
    let environment: [String: String]
    let program: String
    let arguments: [String]

    private let lock = NIOLock()
    /// The limits now in force (concurrency, timeout, async settings): changed in place.
    private var current: FunctionConfiguration
    private var workers: [Worker] = []
    private var queue: [Invocation] = []
    private var inflight = 0
    private var counter = 0
    private var warmWaiters: [(count: Int, done: (String?) -> Void)] = []
    private var retired = false
    /// Initialisation failures in a row: after three, queued events fail instead of starting more.
    private var initFailures = 0
    /// Why the last worker failed to start (Lambda's error JSON), and when: after three failures in
    /// a row, calls get that error at once for 10 s instead of each starting a worker that fails
    /// the same way.
    private var lastStartFailure: (reason: String, at: Double)?

    let invocations = ManagedAtomic<UInt64>(0)
    let errors = ManagedAtomic<UInt64>(0)
    let throttles = ManagedAtomic<UInt64>(0)
    let timeouts = ManagedAtomic<UInt64>(0)

    init(config: FunctionConfiguration, arn: String, directory: String, group: EventLoopGroup,
         program: String, arguments: [String], environment: [String: String],
         spawn: @escaping @Sendable (String, [String], [String: String], String?, String) async throws -> Int32,
         register: @escaping @Sendable (Int32, FunctionPool?) -> Void) {
        self.initial = config
        self.current = config
        self.arn = arn
        self.directory = directory
        self.group = group
        self.spawn = spawn
        self.program = program
        self.arguments = arguments
        self.environment = environment
        self.register = register
    }

    // MARK: starting

    /// The limits now in force.
    var config: FunctionConfiguration { lock.withLock { current } }

    /// Whether a worker is running an event.
    var hasBusyWorkers: Bool { lock.withLock { workers.contains { $0.state == .busy } } }

    /// Workers ready or running an event, and workers running an event.
    func counts() -> (warm: Int, busy: Int) {
        lock.withLock {
            (workers.filter { !$0.retiring && ($0.state == .idle || $0.state == .busy) }.count,
             workers.filter { $0.state == .busy }.count)
        }
    }

    /// Starts the provisioned workers and waits until each asks for its first event; nil when
    /// they are warm, else why they are not.
    func start() async -> String? {
        let n = config.provisionedConcurrency
        return n > 0 ? await warm(spawning: n, until: n) : nil
    }

    /// Takes new limits in place: provisions more workers (warm before this returns), or stops
    /// idle workers beyond a lower reserved concurrency, or beyond a lower provisioned
    /// concurrency (busy ones stop when they finish).
    func reconfigure(_ new: FunctionConfiguration) async -> String? {
        let (grow, surplus): (Int, [Worker]) = lock.withLock {
            let lowered = new.provisionedConcurrency < current.provisionedConcurrency
            current = new
            let alive = workers.filter { $0.state != .dead && !$0.retiring }
            var surplus: [Worker] = []
            let keep = lowered ? min(new.reservedConcurrency, new.provisionedConcurrency) : new.reservedConcurrency
            if alive.count > keep {
                surplus = Array(alive.filter { $0.state == .idle }.prefix(alive.count - keep))
                for w in surplus { w.retiring = true; w.waiting = nil }
            }
            return (max(0, new.provisionedConcurrency - alive.count), surplus)
        }
        for w in surplus where w.pid > 0 { kill(w.pid, SIGTERM) }
        return grow > 0 ? await warm(spawning: grow, until: new.provisionedConcurrency) : nil
    }

    /// Spawns `k` workers and waits until `target` workers are ready.
    private func warm(spawning k: Int, until target: Int) async -> String? {
        let initTimeout = config.initTimeout
        let outcome: String? = await withCheckedContinuation { continuation in
            let once = NIOLockedValueBox(false)
            let finish: (String?) -> Void = { result in
                if once.withLockedValue({ let first = !$0; $0 = true; return first }) { continuation.resume(returning: result) }
            }
            lock.withLock { warmWaiters.append((target, finish)) }
            for _ in 0..<k { spawnWorker() }
            group.next().scheduleTask(in: .nanoseconds(Int64(initTimeout * 1e9))) {
                finish("\(k) provisioned worker(s) did not become ready within \(formatSeconds(initTimeout))")
            }
        }
        return outcome
    }

    /// Adds a worker: a Runtime API listener, then the process.
    @discardableResult
    func spawnWorker() -> Worker? {
        let worker: Worker = lock.withLock {
            counter += 1
            // Provisioned while fewer than the function's provisioned concurrency are (a
            // replacement of a provisioned worker is one too); on demand beyond them.
            let provisioned = workers.filter { $0.provisioned && $0.state != .dead && !$0.retiring }.count < current.provisionedConcurrency
            let w = Worker(id: "\(initial.name)-\(initial.codeSHA256.prefix(6))-\(counter)", pool: self,
                           logPath: "\(directory)/logs/functions.\(initial.name)/\(initial.codeSHA256.prefix(12))-\(counter).log",
                           provisioned: provisioned)
            workers.append(w)
            return w
        }
        HTTPServer.bindLater(group: group, port: 0) { _ in RuntimeAPIHandler(worker: worker) }.whenComplete { result in
            switch result {
            case .failure(let error):
                self.workerGone(worker, reason: "cannot open a Runtime API port: \(error)")
            case .success(let listener):
                worker.listener = listener
                worker.port = listener.localAddress?.port ?? 0
                self.launch(worker)
            }
        }
        return worker
    }

    private func launch(_ worker: Worker) {
        var env = environment
        env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:\(worker.port)"
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = "local/[$LATEST]\(worker.id)"
        env["AWS_LAMBDA_INITIALIZATION_TYPE"] = worker.provisioned ? "provisioned-concurrency" : "on-demand"
        try? FileManager.default.createDirectory(atPath: (worker.logPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        worker.logFD = open(worker.logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        Task {
            do {
                let pid = try await spawn(program, arguments, env, initial.workingDirectory, worker.logPath)
                let alive: Bool = lock.withLock {
                    worker.pid = pid
                    return worker.state != .dead && !worker.retiring
                }
                register(pid, self)
                if !alive { kill(pid, SIGKILL) }
            } catch {
                workerGone(worker, reason: "\(error)")
            }
        }
    }

    // MARK: the Runtime API

    /// A worker asks for its next event: given at once when one waits, else when one arrives.
    func next(_ worker: Worker, deliver: @escaping (Invocation) -> Void) {
        var warmed: [(String?) -> Void] = []
        var stop = false
        let invocation: Invocation? = lock.withLock {
            guard worker.state != .dead else { return nil }
            if worker.state == .starting {
                initFailures = 0
                warmed = warmedWaiters()
            }
            if worker.retiring || retired {
                stop = true
                return nil
            }
            // Fewer may run at once since the pool was re-configured: this one stops.
            if queue.isEmpty, workers.filter({ $0.state != .dead && !$0.retiring }).count > current.reservedConcurrency {
                worker.retiring = true
                stop = true
                return nil
            }
            if !queue.isEmpty {
                let inv = queue.removeFirst()
                assign(inv, to: worker)
                return inv
            }
            worker.state = .idle
            worker.waiting = deliver
            return nil
        }
        for w in warmed { w(nil) }
        if stop { stopWorker(worker) }
        if let invocation { deliver(invocation) }
    }

    /// Warm waiters whose count of ready workers is reached. Under the lock.
    private func warmedWaiters() -> [(String?) -> Void] {
        let ready = workers.filter { $0.state != .starting && $0.state != .dead }.count + 1
        var out: [(String?) -> Void] = []
        warmWaiters.removeAll { w in
            if ready >= w.count { out.append(w.done); return true }
            return false
        }
        return out
    }

    /// Under the lock: the event goes to this worker now.
    private func assign(_ inv: Invocation, to worker: Worker) {
        worker.state = .busy
        worker.waiting = nil
        worker.current = inv
        worker.invocations += 1
        inv.startNanos = DispatchTime.now().uptimeNanoseconds
        inv.deadlineEpochMs = Int64((Date().timeIntervalSince1970 + current.timeout) * 1000)
        if worker.logFD >= 0 {
            inv.logOffset = lseek(worker.logFD, 0, SEEK_END)
            writeLog(worker, "START RequestId: \(inv.requestID) Version: $LATEST\n")
        }
        let timeout = current.timeout
        inv.timer = group.next().scheduleTask(in: .nanoseconds(Int64(timeout * 1e9))) { [weak self] in
            self?.timedOut(inv, worker: worker)
        }
    }

    private func writeLog(_ worker: Worker, _ text: String) {
        var t = text
        t.withUTF8 { _ = write(worker.logFD, $0.baseAddress, $0.count) }
    }

    /// `/response` or `/error` for the worker's current event; false when the id is not current.
    func finish(_ worker: Worker, requestID: String, body: ByteBuffer, failed: Bool, errorType: String?) -> Bool {
        let inv: Invocation? = lock.withLock {
            guard let inv = worker.current, inv.requestID == requestID else { return nil }
            worker.current = nil
            worker.state = .finishing
            inflight -= 1
            return inv
        }
        guard let inv else { return false }
        inv.timer?.cancel()
        let log = report(worker, inv, status: nil)
        if failed {
            errors.wrappingIncrement(ordering: .relaxed)
            var b = body
            if b.readableBytes == 0 {
                b = JSONBody.encode(LambdaErrorBody(errorType: errorType ?? "Unhandled", errorMessage: "Unhandled"))
            }
            inv.complete(.functionError(b, log: log))
        } else {
            inv.complete(.success(body, log: log))
        }
        return true
    }

    /// The END and REPORT lines, and the event's share of the log when the caller asked for it.
    private func report(_ worker: Worker, _ inv: Invocation, status: String?) -> String? {
        guard worker.logFD >= 0 else { return nil }
        let ms = Double(DispatchTime.now().uptimeNanoseconds - inv.startNanos) / 1e6
        var text = ""
        if let status { text += status + "\n" }
        text += "END RequestId: \(inv.requestID)\nREPORT RequestId: \(inv.requestID)\tDuration: \(String(format: "%.2f", ms)) ms\tBilled Duration: \(Int(ms.rounded(.up))) ms\tMemory Size: \(initial.memoryMB) MB\tMax Memory Used: \(Self.peakMemoryMB(of: worker.pid)) MB\t\n"
        writeLog(worker, text)
        return worker.logPath
    }

    /// The worker process's peak resident memory so far (`VmHWM`), in MB rounded up, as Lambda's
    /// "Max Memory Used" covers the execution environment's life; 0 when it cannot be read.
    static func peakMemoryMB(of pid: Int32) -> Int {
        guard pid > 0, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kB = line.split(separator: " ").compactMap({ Int($0) }).first else { return 0 }
        return (kB + 1023) / 1024
    }

    /// The runtime reported that it could not initialise; its process exits next.
    func initFailed(_ worker: Worker, body: ByteBuffer, errorType: String?) {
        lock.withLock { worker.initError = String(buffer: body) }
    }

    // MARK: invoking

    /// Runs one event: on an idle worker now, on a new worker when the function may have more,
    /// else throttled.
    func invoke(_ inv: Invocation) {
        invocations.wrappingIncrement(ordering: .relaxed)
        var deliver: ((Invocation) -> Void)?
        var grow = false
        var refused: InvocationResult?
        lock.withLock {
            if retired {
                refused = .unavailable("function \(initial.name) is being replaced; retry")
                return
            }
            guard inflight < current.reservedConcurrency else {
                refused = .throttled
                return
            }
            if let worker = workers.first(where: { $0.state == .idle }) {
                deliver = worker.waiting
                assign(inv, to: worker)
                inflight += 1
                return
            }
            if initFailures >= 3, let last = lastStartFailure, Date().timeIntervalSince1970 - last.at < 10 {
                refused = .functionError(ByteBuffer(string: last.reason), log: nil)
                return
            }
            inflight += 1
            queue.append(inv)
            let comingSoon = workers.filter { $0.state == .starting || $0.state == .finishing }.count
            let alive = workers.filter { $0.state != .dead }.count
            grow = queue.count > comingSoon && alive < current.reservedConcurrency
        }
        if let refused {
            if case .throttled = refused { throttles.wrappingIncrement(ordering: .relaxed) }
            if case .functionError = refused { errors.wrappingIncrement(ordering: .relaxed) }
            inv.complete(refused)
            return
        }
        if let deliver { deliver(inv) }
        if grow { spawnWorker() }
    }

    func timedOut(_ inv: Invocation, worker: Worker) {
        let pid: Int32? = lock.withLock {
            guard worker.current === inv else { return nil }
            worker.current = nil
            worker.state = .dead
            inflight -= 1
            return worker.pid
        }
        guard let pid else { return }
        timeouts.wrappingIncrement(ordering: .relaxed)
        errors.wrappingIncrement(ordering: .relaxed)
        if pid > 0 { kill(pid, SIGKILL) }
        let stamp = ISO8601DateFormatter.lambda.string(from: Date())
        let message = "\(stamp) \(inv.requestID) Task timed out after \(String(format: "%.2f", config.timeout)) seconds"
        let log = report(worker, inv, status: message)
        inv.complete(.functionError(JSONBody.encode(LambdaErrorBody(errorMessage: message)), log: log))
        // The worker's exit (reported by the reaper) starts a replacement when one is needed.
    }

    // MARK: exits and retirement

    /// The reaper saw a worker's process exit.
    func processExited(pid: Int32, status: Int32) {
        let worker: Worker? = lock.withLock { workers.first { $0.pid == pid } }
        guard let worker else { return }
        workerGone(worker, reason: ChildReaper.describe(status), exitStatus: status)
    }

    /// A worker is gone: its event fails as Lambda reports a crashed runtime, waiters learn it,
    /// and a replacement starts when the pool needs one.
    func workerGone(_ worker: Worker, reason: String, exitStatus: Int32? = nil) {
        var failedInvocation: Invocation?
        var failedWarm: [(String?) -> Void] = []
        var failQueued: [Invocation] = []
        var replace = false
        let initError: String? = lock.withLock {
            let wasStarting = worker.state == .starting
            failedInvocation = worker.current
            if failedInvocation != nil { inflight -= 1 }
            worker.current = nil
            worker.waiting = nil
            worker.state = .dead
            workers.removeAll { $0 === worker }
            guard !retired && !worker.retiring else { return nil }
            if wasStarting {
                initFailures += 1
                let failure = worker.initError
                    ?? JSONBody.string(LambdaErrorBody(errorType: "Runtime.ExitError", errorMessage: "Runtime exited before it was ready: \(reason)"))
                lastStartFailure = (failure, Date().timeIntervalSince1970)
                failedWarm = warmWaiters.map(\.done)
                warmWaiters = []
                if initFailures >= 3 || workers.allSatisfy({ $0.state == .dead }) && worker.initError != nil {
                    failQueued = queue
                    inflight -= queue.count
                    queue = []
                }
            }
            let alive = workers.count
            replace = failQueued.isEmpty && (alive < current.provisionedConcurrency || queue.count > workers.filter { $0.state == .starting }.count)
                && initFailures < 3
            return worker.initError
        }
        worker.listener?.close(promise: nil)
        if worker.logFD >= 0 { close(worker.logFD); worker.logFD = -1 }
        if worker.pid > 0 { register(worker.pid, nil) }
        let why = initError.map { "the runtime failed to initialise: \($0)" } ?? "its process \(reason)"
        for w in failedWarm { w("worker \(worker.id) stopped before it was ready: \(why)\(logTail(worker.logPath))") }
        if let inv = failedInvocation {
            inv.timer?.cancel()
            errors.wrappingIncrement(ordering: .relaxed)
            let code = exitStatus.map { ($0 & 0x7f) == 0 ? "exit status \(($0 >> 8) & 0xff)" : "signal: \($0 & 0x7f)" } ?? reason
            let body = JSONBody.string(LambdaErrorBody(errorType: "Runtime.ExitError", errorMessage: "RequestId: \(inv.requestID) Error: Runtime exited with error: \(code)"))
            inv.complete(.functionError(ByteBuffer(string: body), log: worker.logPath))
        }
        for inv in failQueued {
            errors.wrappingIncrement(ordering: .relaxed)
            let body = initError ?? JSONBody.string(LambdaErrorBody(errorType: "Runtime.ExitError", errorMessage: "Runtime exited before it was ready: \(reason)"))
            inv.complete(.functionError(ByteBuffer(string: body), log: worker.logPath))
        }
        if replace { spawnWorker() }
    }

    func stopWorker(_ worker: Worker) {
        let pid = lock.withLock { () -> Int32 in
            worker.retiring = true
            return worker.pid
        }
        if pid > 0 { kill(pid, SIGTERM) } else { workerGone(worker, reason: "stopped") }
    }

    /// Stops taking events; queued ones are handed back (for the pool that replaces this one).
    /// Idle workers stop now, busy ones once they answer.
    func retire() -> [Invocation] {
        let (idle, queued): ([Worker], [Invocation]) = lock.withLock {
            retired = true
            let q = queue
            inflight -= queue.count
            queue = []
            for w in workers { w.retiring = true }
            return (workers.filter { $0.state == .idle || $0.state == .starting || $0.state == .finishing }, q)
        }
        for w in idle {
            lock.withLock { w.waiting = nil }
            if w.pid > 0 { kill(w.pid, SIGTERM) }
        }
        // Busy workers are stopped from `next` when they ask for more; stragglers are killed.
        group.next().scheduleTask(in: .nanoseconds(Int64((config.timeout + 5) * 1e9))) {
            let left = self.lock.withLock { self.workers.map(\.pid) }
            for pid in left where pid > 0 { kill(pid, SIGKILL) }
        }
        return queued
    }

    /// Takes events handed back by a retired pool.
    func adopt(_ invocations: [Invocation]) {
        for inv in invocations { invoke(inv) }
    }

    /// Kills every worker at once (environment shutdown).
    func killAll() {
        let pids: [Int32] = lock.withLock {
            retired = true
            return workers.map(\.pid)
        }
        for pid in pids where pid > 0 { kill(pid, SIGKILL) }
    }

    func status() -> [WorkerStatus] {
        lock.withLock { workers.map { WorkerStatus(id: $0.id, pid: $0.pid, state: WorkerStatus.State(rawValue: $0.state.rawValue) ?? .dead, invocations: $0.invocations) } }
    }

    func logTail(_ path: String) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        let lines = text.split(separator: "\n").suffix(10)
        return lines.isEmpty ? "" : "\n  last lines of \(path):\n    " + lines.joined(separator: "\n    ")
    }
}

extension ISO8601DateFormatter {
    /// 2026-11-26T13:00:00.123Z, as Lambda stamps its timeout message.
    static let lambda: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
}

func formatSeconds(_ s: Double) -> String {
    s == s.rounded() ? "\(Int(s))s" : String(format: "%.1fs", s)
}
