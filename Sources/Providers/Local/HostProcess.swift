import CShim
import EnvironmentAPI
import Foundation
import Reconciler
import Spec

/// Starts, finds and stops the environment host process of one environment folder.
struct HostProcess: Sendable {
    var folder: EnvironmentFolder
    var executable: String

    /// The running host, if `environment.json` names a live process that answers.
    func running() -> EnvironmentInfo? {
        guard let data = FileManager.default.contents(atPath: folder.infoPath),
              let info = try? JSONDecoder().decode(EnvironmentInfo.self, from: data),
              ProcessProbe.isAlive(info.pid),
              let health = try? LoopbackHTTP.request("GET", port: info.controlPort, path: ControlPath.health, timeout: 2),
              health.status == 200 else { return nil }
        return info
    }

    /// Starts a host detached in its own session (it outlives this command) and waits until it
    /// answers. Its log goes to `logs/environment.log`.
    func start(port: Int?, gatewayPort: Int? = nil) async throws -> EnvironmentInfo {
        for (fixed, key) in [(port, "local.port"), (gatewayPort, "local.gateway_port")] {
            if let fixed, ProcessProbe.isListening(port: fixed) { throw portTaken(fixed, key: key) }
        }
        try FileManager.default.createDirectory(atPath: folder.logs, withIntermediateDirectories: true)
        unlink(folder.infoPath)
        let fd = open(folder.hostLog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ProviderError("cannot write the environment's log '\(folder.hostLog)': \(StateFileError.reason(errno))\n  hint: \(Self.diskHint(folder.path))", terminal: true)
        }
        defer { close(fd) }
        // What this start writes: an earlier failed start's lines are not repeated.
        let logStart = lseek(fd, 0, SEEK_END)
        var arguments = [executable, "serve", "environment", "--dir", folder.path]
        if let port { arguments += ["--port", String(port)] }
        if let gatewayPort { arguments += ["--gateway-port", String(gatewayPort)] }
        let environment = Self.hostEnvironment(ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let pid = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in mlgw_spawn(executable, argv, envp, nil, fd, 1, 0, 0) }
        }
        guard pid > 0 else { throw ProviderError("cannot start the environment host: \(String(cString: strerror(-pid)))") }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let info = running(), info.pid == pid { return info }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                let tail = Self.lines(of: folder.hostLog, from: logStart).suffix(5).joined(separator: "\n    ")
                for (fixed, key) in [(port, "local.port"), (gatewayPort, "local.gateway_port")] {
                    if let fixed, tail.contains("127.0.0.1:\(fixed) ") && tail.contains("address already in use") { throw portTaken(fixed, key: key) }
                }
                if tail.isEmpty, Self.freeBytes(folder.path).map({ $0 < 64 * 1024 }) == true {
                    throw ProviderError("the environment host exited at start: the disk holding \(folder.path) is full\n  hint: \(Self.diskHint(folder.path))", terminal: true)
                }
                throw ProviderError("the environment host exited at start\(port != nil || gatewayPort != nil ? " (are its fixed ports free?)" : "")\n    \(tail)", terminal: port != nil || gatewayPort != nil)
            }
            try await Task.sleep(nanoseconds: 5_000_000)
        }
        kill(pid, SIGKILL)
        throw ProviderError("the environment host did not answer within 15 s; see \(folder.hostLog)")
    }

    /// The lines a log got from `offset` on.
    static func lines(of path: String, from offset: off_t) -> [String] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        try? handle.seek(toOffset: UInt64(max(0, offset)))
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        return text.split(separator: "\n").map(String.init)
    }

    /// A fixed port someone holds: which of our environments, if one of them, and what to change.
    func portTaken(_ port: Int, key: String) -> ProviderError {
        let root = PathMath.directory(of: PathMath.directory(of: folder.path))
        var holder = "another program"
        for stack in ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted() {
            for environment in ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + stack)) ?? []).sorted() {
                let info = "\(root)/\(stack)/\(environment)/\(EnvironmentInfo.fileName)"
                guard let data = FileManager.default.contents(atPath: info), let e = try? JSONDecoder().decode(EnvironmentInfo.self, from: data),
                      ProcessProbe.isAlive(e.pid), e.awsPort == port || e.gatewayPort == port else { continue }
                holder = "environment '\(environment)' of stack '\(stack)' (host pid \(e.pid))"
            }
        }
        return ProviderError("port \(port) ('\(key)') is already in use by \(holder)\n  hint: give this environment another '\(key)' (for example from a variable: \(key.dropFirst(6)): \"${var.port}\" and --var port=N), leave it out to let the OS choose, or free the port", terminal: true)
    }

    /// Free bytes on the disk holding `path`.
    static func freeBytes(_ path: String) -> UInt64? {
        var fs = statvfs()
        guard statvfs(path, &fs) == 0 else { return nil }
        return UInt64(fs.f_bavail) * UInt64(fs.f_frsize)
    }

    static func diskHint(_ path: String) -> String {
        let free = freeBytes(path).map { " (\($0 / 1024) KB free)" } ?? ""
        return "free space on the disk holding \(path)\(free) and check that it is writable, or pass --state-dir (or MLGW_STATE_DIR) elsewhere"
    }

    /// What the host starts with: never this command's whole environment, which may hold a
    /// secret (an API key given through `from_env`). Only what running programs needs.
    /// What the host inherits: what its children inherit, and the region the AWS APIs report.
    static let passedToHost = InheritedEnvironment.names + ["AWS_REGION"]

    static func hostEnvironment(_ environment: [String: String]) -> [String: String] {
        environment.filter { passedToHost.contains($0.key) }
    }

    /// Asks the host to stop its instances and exit; kills it if it does not within 10 s.
    func stop() async {
        guard let data = FileManager.default.contents(atPath: folder.infoPath),
              let info = try? JSONDecoder().decode(EnvironmentInfo.self, from: data) else { return }
        _ = try? await LoopbackHTTP.send("POST", port: info.controlPort, path: ControlPath.shutdown, timeout: 2)
        let deadline = Date().addingTimeInterval(10)
        while ProcessProbe.isAlive(info.pid), Date() < deadline {
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        if ProcessProbe.isAlive(info.pid) {
            // Its model servers die with it (parent-death signal).
            kill(info.pid, SIGKILL)
        }
        // The leader of a multi-threaded process can show as a zombie while its other threads
        // still hold the sockets: wait until the ports are closed too.
        let portsDeadline = Date().addingTimeInterval(2)
        while ProcessProbe.isListening(port: info.awsPort) || ProcessProbe.isListening(port: info.controlPort)
                || info.gatewayPort.map(ProcessProbe.isListening(port:)) == true, Date() < portsDeadline {
            try? await Task.sleep(nanoseconds: 2_000_000)
        }
        unlink(folder.infoPath)
    }
}

/// Whether processes and ports are really gone, for observe, status and destroy's final check.
public enum ProcessProbe {
    /// True for a running process; a zombie (exited, not yet reaped) counts as gone.
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(close, offsetBy: 2)...].first
        return state != "Z" && state != "X"
    }

    public static func isListening(port: Int) -> Bool { LoopbackHTTP.isListening(port: port) }
}

/// Copying a file into the environment folder: into a temporary name, then renamed, so a copy
/// cut short is never taken for the artifact. Failures in the system's words.
enum FileCopy {
    /// nil when copied; otherwise why not.
    static func copy(_ source: String, to destination: String) -> String? {
        do { try FileManager.default.createDirectory(atPath: PathMath.directory(of: destination), withIntermediateDirectories: true) } catch {
            return "cannot create the folder: \(StateFileError.reason(errno))"
        }
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { return "cannot read it: \(StateFileError.reason(errno))" }
        defer { close(input) }
        let temp = destination + ".tmp-\(getpid())"
        let output = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { return StateFileError.reason(errno) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(input, &buffer, buffer.count)
            if n < 0 { if errno == EINTR { continue }; let e = errno; close(output); unlink(temp); return StateFileError.reason(e) }
            if n == 0 { break }
            var offset = 0
            while offset < n {
                let w = buffer.withUnsafeBytes { write(output, $0.baseAddress! + offset, n - offset) }
                if w < 0 { if errno == EINTR { continue }; let e = errno; close(output); unlink(temp); return StateFileError.reason(e) }
                offset += w
            }
        }
        let synced = fsync(output) == 0
        let e = errno
        close(output)
        guard synced else { unlink(temp); return StateFileError.reason(e) }
        guard rename(temp, destination) == 0 else { let e = errno; unlink(temp); return StateFileError.reason(e) }
        return nil
    }
}
