import Atomics
import EnvironmentAPI
import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// Every function of the environment: the current pool of each (read by the front door and the
/// gateway on every call), which pool a worker process belongs to, and the queue of asynchronous
/// (`Event`) invocations with Lambda's retries.
final class FunctionHost: @unchecked Sendable {
    static let region = ProcessInfo.processInfo.environment["AWS_REGION"] ?? "us-east-1"
    static let accountID = "000000000000"

    static func arn(_ name: String) -> String { "arn:aws:lambda:\(region):\(accountID):function:\(name)" }

    let directory: String
    private let pools = NIOLockedValueBox<[String: FunctionPool]>([:])
    private let byPID = NIOLockedValueBox<[Int32: FunctionPool]>([:])
    /// Events waiting for a retry, by function.
    private let asyncQueued = NIOLockedValueBox<[String: Int]>([:])
    private let asyncFailed = NIOLockedValueBox<[String: UInt64]>([:])
    let requestIDs = RequestIDs()

    init(directory: String) {
        self.directory = directory
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

    func register(_ pid: Int32, _ pool: FunctionPool?) {
        let early: Int32? = byPID.withLockedValue { table in
            guard let pool else { table[pid] = nil; return nil }
            if let status = unknownExits.withLockedValue({ $0.removeValue(forKey: pid) }) { return status }
            table[pid] = pool
            return nil
        }
        if let early, let pool { pool.processExited(pid: pid, status: early) }
    }

    /// True when the process was a function worker.
    func processExited(pid: Int32, status: Int32) -> Bool {
        let pool: FunctionPool? = byPID.withLockedValue { table in
            if let pool = table.removeValue(forKey: pid) { return pool }
            unknownExits.withLockedValue { exits in
                if exits.count > 256 { exits.removeAll() }
                exits[pid] = status
            }
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
        attempt(name, payload: payload, requestID: requestID, attempt: 0, received: Date())
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
                if Date().timeIntervalSince(received) > config.maxEventAge {
                    done(name, payload: payload, requestID: requestID, attempts: attempt, error: "event older than \(formatSeconds(config.maxEventAge)) while throttled")
                } else {
                    later(min(1, max(config.retryDelay, 0.05))) { self.attempt(name, payload: payload, requestID: requestID, attempt: attempt, received: received) }
                }
            case .functionError(let body, _):
                if attempt < config.maxRetries && Date().timeIntervalSince(received) < config.maxEventAge {
                    later(config.retryDelay * Double(attempt + 1)) {
                        self.attempt(name, payload: payload, requestID: requestID, attempt: attempt + 1, received: received)
                    }
                } else {
                    done(name, payload: payload, requestID: requestID, attempts: attempt + 1, error: String(buffer: body))
                }
            }
        }
    }

    private func later(_ seconds: Double, _ work: @escaping @Sendable () -> Void) {
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: work)
    }

    private func done(_ name: String, payload: ByteBuffer?, requestID: String, attempts: Int, error: String?) {
        asyncQueued.withLockedValue { $0[name, default: 1] -= 1 }
        guard let error, let payload else { return }
        asyncFailed.withLockedValue { $0[name, default: 0] += 1 }
        let record = "{\"requestId\":\(jsonString(requestID)),\"function\":\(jsonString(Self.arn(name))),\"attempts\":\(attempts),"
            + "\"time\":\(jsonString(ISO8601DateFormatter.lambda.string(from: Date()))),\"error\":\(jsonString(error)),"
            + "\"payload\":\(jsonString(String(buffer: payload)))}\n"
        let folder = "\(directory)/logs/functions.\(name)"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let fd = open(folder + "/failed-events.jsonl", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        var text = record
        text.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    func status(_ name: String) -> FunctionStatus? {
        guard let pool = pool(name) else { return nil }
        return FunctionStatus(name: name, codeSHA256: pool.config.codeSHA256, arn: Self.arn(name), workers: pool.status(),
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
}
