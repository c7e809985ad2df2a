import CShim
import EnvironmentAPI
import Foundation
import Reconciler

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
        try FileManager.default.createDirectory(atPath: folder.logs, withIntermediateDirectories: true)
        unlink(folder.infoPath)
        let fd = open(folder.hostLog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        defer { if fd >= 0 { close(fd) } }
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
                let tail = (try? String(contentsOfFile: folder.hostLog, encoding: .utf8))?.split(separator: "\n").suffix(5).joined(separator: "\n    ") ?? ""
                throw ProviderError("the environment host exited at start\(port != nil || gatewayPort != nil ? " (are its fixed ports free?)" : "")\n    \(tail)", terminal: port != nil || gatewayPort != nil)
            }
            try await Task.sleep(nanoseconds: 5_000_000)
        }
        kill(pid, SIGKILL)
        throw ProviderError("the environment host did not answer within 15 s; see \(folder.hostLog)")
    }

    /// What the host starts with: never this command's whole environment, which may hold a
    /// secret (an API key given through `from_env`). Only what running programs needs.
    static let passedToHost = ["PATH", "HOME", "LANG", "TMPDIR", "AWS_REGION"]

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
