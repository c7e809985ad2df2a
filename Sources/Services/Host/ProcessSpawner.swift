import CShim
import EnvironmentAPI
import Foundation

/// Starts child processes from one long-lived thread. Children ask the kernel to kill them when
/// their parent *thread* exits (PR_SET_PDEATHSIG), so spawning from a pool thread that may retire
/// would kill them spuriously; this thread lives as long as the process. Each child is recorded
/// with the service that asked for it, so that its exit reaches that service.
final class ProcessSpawner: @unchecked Sendable {
    struct Request {
        var executable: String
        var arguments: [String]
        var environment: [String: String]
        var workingDirectory: String?
        var logPath: String
        var idlePriority = false
        var owner: any EnvironmentService
        var done: (Result<Int32, Error>) -> Void
    }

    let children = ChildProcesses()

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    private let condition = NSCondition()
    private var queue: [Request] = []

    init() {
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "mlgw-spawner"
        thread.start()
    }

    func spawn(_ executable: String, arguments: [String], environment: [String: String], workingDirectory: String? = nil,
               logPath: String, idlePriority: Bool = false, for owner: any EnvironmentService) async throws -> Int32 {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            queue.append(Request(executable: executable, arguments: arguments, environment: environment,
                                 workingDirectory: workingDirectory, logPath: logPath, idlePriority: idlePriority, owner: owner) {
                continuation.resume(with: $0)
            })
            condition.signal()
            condition.unlock()
        }
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let request = queue.removeFirst()
            condition.unlock()
            let result = Result { try Self.launch(request) }
            var early: (Int32, Int32)?
            if case .success(let pid) = result, let status = children.record(pid, owner: request.owner) { early = (pid, status) }
            request.done(result)
            if let (pid, status) = early {
                let owner = request.owner
                Task { await owner.processExited(pid: pid, status: status) }
            }
        }
    }

    static func launch(_ r: Request) throws -> Int32 {
        try FileManager.default.createDirectory(atPath: (r.logPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let fd = open(r.logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        defer { if fd >= 0 { close(fd) } }
        let argv = [r.executable] + r.arguments
        let envp = r.environment.map { "\($0.key)=\($0.value)" }
        let pid = withCStrings(argv) { a in
            withCStrings(envp) { e in
                mlgw_spawn(r.executable, a, e, r.workingDirectory, fd, 0, 1, r.idlePriority ? 1 : 0)
            }
        }
        guard pid > 0 else { throw SpawnError(description: "cannot start \(r.executable): \(String(cString: strerror(-pid)))") }
        return pid
    }
}

/// Reaps every child of the process on a dedicated thread and reports each exit.
final class ChildReaper: @unchecked Sendable {
    /// Reports each exit to the service that started the process.
    convenience init(children: ChildProcesses) {
        self.init { pid, status in
            guard let owner = children.exited(pid, status: status) else { return }
            Task { await owner.processExited(pid: pid, status: status) }
        }
    }

    init(onExit: @escaping @Sendable (Int32, Int32) -> Void) {
        let thread = Thread {
            while true {
                var status: Int32 = 0
                let pid = waitpid(-1, &status, 0)
                if pid > 0 {
                    onExit(pid, status)
                } else if errno == ECHILD {
                    usleep(20_000)
                }
            }
        }
        thread.name = "mlgw-reaper"
        thread.start()
    }

    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exited with code \((status >> 8) & 0xff)" }
        return "killed by signal \(signal)"
    }
}
