import Atomics
import EnvironmentAPI
import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// The functions collection: every function's current pool (read by the front door and the
/// gateway on every call), which pool a worker process belongs to, and the queue of asynchronous
/// (`Event`) invocations with Lambda's retries, which wait on the host's clock. A configuration
/// change that only touches the pool (concurrency, timeout, async settings) re-configures it in
/// place; one that changes what a worker runs builds a new pool and retires the old one.
final class FunctionService: EnvironmentService, @unchecked Sendable {
    static let region = ProcessInfo.processInfo.environment["AWS_REGION"] ?? "us-east-1"
    static let accountID = "000000000000"

    static func arn(_ name: String) -> String { "arn:aws:lambda:\(region):\(accountID):function:\(name)" }

    let name = "functions"
    let directory: String
    let group: EventLoopGroup
    let spawner: ProcessSpawner
    let supervisor: Supervisor
    var clock: any HostClock { supervisor.clock }
    /// The AWS URL workers call back on (`AWS_ENDPOINT_URL`).
    private let awsPort = NIOLockedValueBox(0)
    private let pools = NIOLockedValueBox<[String: FunctionPool]>([:])
    private let byPID = NIOLockedValueBox<[Int32: FunctionPool]>([:])
    /// Events waiting for a retry, by function.
    private let asyncQueued = NIOLockedValueBox<[String: Int]>([:])
    private let asyncFailed = NIOLockedValueBox<[String: UInt64]>([:])
    /// Work due at a time on the host's clock: retries of events.
    private let scheduled = NIOLockedValueBox<[(due: Date, work: @Sendable () -> Void)]>([])
    /// Serializes puts and deletes of the collection.
    private let changes = AsyncSerial()
    /// Provisioned concurrency a scaling policy manages, by function: it wins over the PUT's.
    private let managed = NIOLockedValueBox<[String: Int]>([:])
    /// Each function's configuration as the stack put it (a released managed count goes back to it).
    private let requested = NIOLockedValueBox<[String: FunctionConfiguration]>([:])
    let requestIDs = RequestIDs()

    init(directory: String, group: EventLoopGroup, spawner: ProcessSpawner, supervisor: Supervisor) {
        self.directory = directory
        self.group = group
        self.spawner = spawner
        self.supervisor = supervisor
    }

    func setAWSPort(_ port: Int) { awsPort.withLockedValue { $0 = port } }

    func register(on router: ControlRouter) {
        router.on(FunctionConfiguration.self, put: { [self] c in try await changes.run { try await self.put(c) } },
                  delete: { [self] name in await changes.run { self.delete(name) } })
    }

    /// Sets (or, with nil, releases) the provisioned concurrency a scaling policy manages, and
    /// re-configures the function's pool to it: more workers warm before this returns, surplus
    /// idle ones stop. Released, the function goes back to the stack's value.
    func setManaged(_ name: String, count: Int?) async throws {
        try await changes.run {
            self.managed.withLockedValue { $0[name] = count }
            guard let stack = self.requested.withLockedValue({ $0[name] }) else { return }
            _ = try await self.put(stack)
        }
    }

    /// Provisioned concurrency as it runs, warm provisioned workers, and workers running an event.
    func capacity(_ name: String) -> (provisioned: Int, warm: Int, busy: Int, invocations: UInt64)? {
        guard let pool = pool(name) else { return nil }
        let (warm, busy) = pool.counts()
        return (pool.config.provisionedConcurrency, warm, busy, pool.invocations.load(ordering: .relaxed))
    }

    func pool(_ name: String) -> FunctionPool? { pools.withLockedValue { $0[name] } }

    func set(_ pool: FunctionPool?, for name: String) -> FunctionPool? {
        pools.withLockedValue { table in
            let old = table[name]
            table[name] = pool
            return old
        }
    }

    var all: [FunctionPool] { pools.withLockedValue { Array($0.values) } }

    /// Exits of processes not (yet) known as workers: a worker may exit before its pool registers it.
    private let unknownExits = NIOLockedValueBox<[Int32: Int32]>([:])

    func processExited(pid: Int32, status: Int32) async { _ = workerExited(pid: pid, status: status) }

    func register(_ pid: Int32, _ pool: FunctionPool?) {
        let early: Int32? = byPID.withLockedValue { table in
            guard let pool else { table[pid] = nil; return nil }
            if let status = unknownExits.withLockedValue({ $0.removeValue(forKey: pid) }) { return status }
            table[pid] = pool
            return nil
        }
        if let early, let pool { pool.processExited(pid: pid, status: early) }
    }

    /// True when the process was a known function worker; otherwise the exit is kept for `register`.
    func workerExited(pid: Int32, status: Int32) -> Bool {
        let pool: FunctionPool? = byPID.withLockedValue { table in
            if let pool = table.removeValue(forKey: pid) { return pool }
            unknownExits.withLockedValue { $0[pid] = status }
            return nil
        }
        guard let pool else { return false }
        pool.processExited(pid: pid, status: status)
        return true
    }

    /// A synchronous invocation of the current pool.
    func invoke(_ name: String, payload: ByteBuffer, clientContext: String? = nil, requestID: String? = nil,
                completion: @escaping @Sendable (Invocation, InvocationResult) -> Void) -> Bool {
        guard let pool = pool(name) else { return false }
        pool.invoke(Invocation(requestID: requestID ?? requestIDs.next(), payload: payload, clientContext: clientContext, completion: completion))
        return true
    }

    // MARK: asynchronous invocations

    /// Queues an `Event` invocation: it runs now, and a failed run (error, timeout, crash) is
    /// retried after the function's retry delay up to its retry count; a throttled one waits and
    /// tries again until the event is older than its maximum age. Events that never succeed are
    /// kept in `logs/functions.{name}/failed-events.jsonl` (an on-failure destination).
    func enqueue(_ name: String, payload: ByteBuffer, requestID: String) {
        asyncQueued.withLockedValue { $0[name, default: 0] += 1 }
        attempt(name, payload: payload, requestID: requestID, attempt: 0, received: clock.now())
    }

    private func attempt(_ name: String, payload: ByteBuffer, requestID: String, attempt: Int, received: Date) {
        guard let pool = pool(name) else {
            done(name, payload: payload, requestID: requestID, attempts: attempt, error: "function \(name) was deleted")
            return
        }
        let config = pool.config
        _ = invoke(name, payload: payload, requestID: requestID) { [self] _, result in
            switch result {
            case .success:
                done(name, payload: nil, requestID: requestID, attempts: attempt + 1, error: nil)
            case .throttled, .unavailable:
                if clock.now().timeIntervalSince(received) > config.maxEventAge {
                    done(name, payload: payload, requestID: requestID, attempts: attempt, error: "event older than \(formatSeconds(config.maxEventAge)) while throttled")
                } else {
                    later(min(1, max(config.retryDelay, 0.05))) { self.attempt(name, payload: payload, requestID: requestID, attempt: attempt, received: received) }
                }
            case .functionError(let body, _):
                if attempt < config.maxRetries && clock.now().timeIntervalSince(received) < config.maxEventAge {
                    later(config.retryDelay * Double(attempt + 1)) {
                        self.attempt(name, payload: payload, requestID: requestID, attempt: attempt + 1, received: received)
                    }
                } else {
                    done(name, payload: payload, requestID: requestID, attempts: attempt + 1, error: String(buffer: body))
                }
            }
        }
    }

    /// Runs `work` once the host's clock has moved `seconds` on.
    private func later(_ seconds: Double, _ work: @escaping @Sendable () -> Void) {
        let due = clock.now().addingTimeInterval(seconds)
        scheduled.withLockedValue { $0.append((due, work)) }
        supervisor.wake(self)
    }

    func reconcile(now: Date) async -> Date? {
        let (ready, next): ([@Sendable () -> Void], Date?) = scheduled.withLockedValue { items in
            let ready = items.filter { $0.due <= now }.map(\.work)
            items.removeAll { $0.due <= now }
            return (ready, items.map(\.due).min())
        }
        for work in ready { work() }
        return next
    }

    /// One line of `failed-events.jsonl`: an event that never succeeded (an on-failure destination).
    struct FailedEvent: Encodable {
        var requestId: String
        var function: String
        var attempts: Int
        var time: String
        var error: String
        var payload: String
    }

    /// Told of every asynchronous invocation that never succeeded (the host puts it on the event
    /// bus in Lambda's on-failure shape); set before the host runs.
    var onFailure: ((_ function: String, _ requestID: String, _ attempts: Int, _ error: String, _ payload: String) -> Void)?

    private func done(_ name: String, payload: ByteBuffer?, requestID: String, attempts: Int, error: String?) {
        asyncQueued.withLockedValue { $0[name, default: 1] -= 1 }
        guard let error, let payload else { return }
        onFailure?(name, requestID, attempts, error, String(buffer: payload))
        asyncFailed.withLockedValue { $0[name, default: 0] += 1 }
        let record = FailedEvent(requestId: requestID, function: Self.arn(name), attempts: attempts,
                                 time: ISO8601DateFormatter.lambda.string(from: clock.now()), error: error, payload: String(buffer: payload))
        guard var line = try? JSONEncoder().encode(record) else { return }
        line.append(UInt8(ascii: "\n"))
        let folder = "\(directory)/logs/functions.\(name)"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let fd = open(folder + "/failed-events.jsonl", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    func status(_ name: String) -> FunctionStatus? {
        guard let pool = pool(name) else { return nil }
        return FunctionStatus(name: name, configuration: pool.config, arn: Self.arn(name), workers: pool.status(),
                              invocations: pool.invocations.load(ordering: .relaxed), errors: pool.errors.load(ordering: .relaxed),
                              throttles: pool.throttles.load(ordering: .relaxed), timeouts: pool.timeouts.load(ordering: .relaxed),
                              asyncQueued: asyncQueued.withLockedValue { $0[name] ?? 0 },
                              asyncFailed: asyncFailed.withLockedValue { $0[name] ?? 0 })
    }

    /// The event's share of a worker's log (what `LogType: Tail` returns): at most the last 4 KB.
    static func logTail(path: String, from offset: off_t) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        let end = lseek(fd, 0, SEEK_END)
        let start = max(offset, end - 4096)
        guard end > start else { return "" }
        var bytes = [UInt8](repeating: 0, count: Int(end - start))
        let n = pread(fd, &bytes, bytes.count, start)
        return String(decoding: bytes.prefix(max(0, n)), as: UTF8.self)
    }

    // MARK: converging

    /// Converges a function. What a worker runs unchanged: the pool is re-configured in place
    /// (more or fewer workers, new limits). Otherwise a new pool starts its provisioned workers
    /// (warm before this returns) and is swapped in; the old one finishes what it runs and stops.
    func put(_ stack: FunctionConfiguration) async throws -> FunctionStatus {
        try Self.check(stack)
        requested.withLockedValue { $0[stack.name] = stack }
        var config = stack
        if let n = managed.withLockedValue({ $0[stack.name] }) { config.provisionedConcurrency = min(n, config.reservedConcurrency) }
        if let current = pool(config.name), !current.config.needsNewWorkers(for: config) {
            if current.config != config {
                if let failure = await current.reconfigure(config) {
                    throw ControlError(message: "function '\(config.name)' could not take its new settings: \(failure)", terminal: false)
                }
                HostLog.write("function \(config.name): re-configured in place (\(config.provisionedConcurrency) provisioned, up to \(config.reservedConcurrency), timeout \(formatSeconds(config.timeout)))")
            }
            return status(config.name)!
        }
        let program: String, arguments: [String]
        var environment = ChildEnvironment.base
        if let handler = config.handler {
            let bootstrap: String
            do { bootstrap = try PythonBootstrap.install(in: directory) } catch {
                throw ControlError(message: "cannot write the Python runtime into \(directory)/data/runtime: \(error)", terminal: true)
            }
            guard let python = Executables.find("python3", in: config.workingDirectory) else {
                throw ControlError(message: "function '\(config.name)' needs python3, which is not on PATH", terminal: true)
            }
            (program, arguments) = (python, [bootstrap])
            environment["_HANDLER"] = handler
            environment["PYTHONUNBUFFERED"] = "1"
            environment["PYTHONDONTWRITEBYTECODE"] = "1"
        } else {
            guard let first = config.command.first, let path = Executables.find(first, in: config.workingDirectory) else {
                throw ControlError(message: "the command of function '\(config.name)' names '\(config.command.first ?? "")', which is not an executable file here or on PATH", terminal: true)
            }
            (program, arguments) = (path, Array(config.command.dropFirst()))
            environment["PYTHONUNBUFFERED"] = "1"
        }
        // What a Lambda worker finds in its environment.
        let lambda: [String: String] = [
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": String(config.memoryMB),
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/\(config.name)",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3",
            "AWS_REGION": Self.region,
            "AWS_DEFAULT_REGION": Self.region,
            "AWS_ACCESS_KEY_ID": "mlgwlocal",
            "AWS_SECRET_ACCESS_KEY": "mlgwlocal",
            "AWS_SESSION_TOKEN": "mlgwlocal",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:\(awsPort.withLockedValue { $0 })",
            "LAMBDA_TASK_ROOT": config.workingDirectory,
            "LAMBDA_RUNTIME_DIR": directory + "/data/runtime",
            "TZ": ":UTC",
        ]
        environment.merge(lambda) { $1 }
        environment.merge(config.environment) { $1 }
        let pool = FunctionPool(config: config, arn: Self.arn(config.name), directory: directory, group: group,
                                program: program, arguments: arguments, environment: environment,
                                spawn: { [self] program, arguments, env, dir, log in
                                    try await spawner.spawn(program, arguments: arguments, environment: env, workingDirectory: dir, logPath: log, for: self)
                                },
                                register: { [self] pid, pool in register(pid, pool) })
        if let failure = await pool.start() {
            _ = pool.retire()
            pool.killAll()
            throw ControlError(message: "function '\(config.name)' did not start: \(failure)", terminal: true)
        }
        let old = set(pool, for: config.name)
        if let old { pool.adopt(old.retire()) }
        HostLog.write("function \(config.name): \(old == nil ? "started" : "replaced") (code \(config.codeSHA256.prefix(12)), \(config.provisionedConcurrency) provisioned, up to \(config.reservedConcurrency))")
        return status(config.name)!
    }

    /// What the host checks again, whatever the stack's validation did.
    static func check(_ c: FunctionConfiguration) throws {
        func bad(_ what: String) -> ControlError { ControlError(message: "function \(c.name): \(what)", terminal: true) }
        guard c.timeout.isFinite, c.timeout > 0, c.timeout <= 900 else { throw bad("timeout \(c.timeout)s is not between 0 and 15 minutes") }
        guard c.initTimeout.isFinite, c.initTimeout > 0, c.initTimeout <= 86_400 else { throw bad("init timeout \(c.initTimeout)s is out of range") }
        guard (0...1_000).contains(c.provisionedConcurrency), (1...1_000).contains(c.reservedConcurrency) else { throw bad("concurrency is out of range") }
        guard (0...10).contains(c.maxRetries), c.retryDelay.isFinite, c.retryDelay >= 0, c.retryDelay <= 86_400,
              c.maxEventAge.isFinite, c.maxEventAge > 0, c.maxEventAge <= 86_400 else { throw bad("async settings are out of range") }
    }

    func delete(_ name: String) {
        requested.withLockedValue { $0[name] = nil }
        if let old = set(nil, for: name) {
            for inv in old.retire() { inv.complete(.unavailable("function \(name) was deleted")) }
        }
        HostLog.write("function \(name): deleted")
    }

    func describe(into snapshot: inout EnvironmentSnapshot) async {
        snapshot.functions = pools.withLockedValue { $0.keys.sorted() }.compactMap(status)
    }

    /// Graceful: no new events; busy workers finish theirs (up to their timeout, at most 10 s),
    /// then every worker stops.
    func shutdown() async {
        let all = pools.withLockedValue { table -> [FunctionPool] in
            let all = Array(table.values)
            table = [:]
            return all
        }
        for pool in all { for inv in pool.retire() { inv.complete(.unavailable("the environment is stopping")) } }
        let deadline = Date().addingTimeInterval(min(10, all.map { $0.config.timeout }.max() ?? 0))
        while Date() < deadline, all.contains(where: { $0.hasBusyWorkers }) {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        for pool in all { pool.killAll() }
    }
}

/// Runs async operations one at a time, in the order they arrive.
actor AsyncSerial {
    private var tail: Task<Void, Never>?

    func run<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let previous = tail
        let task = Task { () async throws -> T in
            await previous?.value
            return try await operation()
        }
        tail = Task { _ = try? await task.value }
        return try await task.value
    }

    func run(_ operation: @escaping @Sendable () async -> Void) async {
        _ = try? await run { () async throws -> Int in await operation(); return 0 }
    }
}
