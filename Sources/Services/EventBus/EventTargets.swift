import EnvironmentAPI
import Events
import Foundation

/// Sending one event's input to a target that is not in the host's own memory: an endpoint
/// (InvokeEndpoint through the front door, so routing, metrics and capture see it), a loopback
/// URL, or a command (the input on its standard input). Each returns nil when delivered, or why
/// not. Blocking; the bus runs them on its delivery queue.
enum EventTargets {
    static func input(of t: EventTargetConfiguration) -> TargetInput {
        switch t.input {
        case .event: return .event
        case .constant:
            // A mapping or list was written as JSON text; a string is sent as it is.
            guard let text = t.inputText else { return .constant(.null) }
            return (try? JSONParser.parse(text)).map { .constant($0) } ?? .text(text)
        case .path: return JSONPath(t.inputText ?? "$").map { .path($0) } ?? .event
        case .transformer:
            var paths: [String: JSONPath] = [:]
            for (k, v) in t.inputPaths { if let p = JSONPath(v) { paths[k] = p } }
            return .transformer(paths: paths, template: t.template ?? "")
        }
    }

    static func send(_ body: String, to t: EventTargetConfiguration, rule: String, awsPort: Int, directory: String) -> String? {
        switch t.kind {
        case .endpoint:
            return post(body, port: awsPort, path: "/endpoints/\(t.target)/invocations", contentType: t.contentType, timeout: 60, what: "endpoint \(t.target)")
        case .url:
            guard let url = LoopbackURL(t.target) else { return "\(t.target) is not a loopback URL" }
            return post(body, port: url.port, path: url.path, contentType: "application/json", timeout: t.timeout, what: t.target)
        case .command:
            return run(t.command, input: body, directory: t.workingDirectory, timeout: t.timeout, rule: rule, logFolder: directory + "/logs")
        case .function, .log:
            return "not a blocking target"
        }
    }

    static func post(_ body: String, port: Int, path: String, contentType: String, timeout: Double, what: String) -> String? {
        do {
            let r = try LoopbackHTTP.request("POST", port: port, path: path, headers: ["content-type": contentType], body: Array(body.utf8), timeout: timeout)
            if (200..<300).contains(r.status) { return nil }
            return "\(what) answered \(r.status): \(r.text.prefix(200))"
        } catch {
            return "\(what): \(error)"
        }
    }

    /// Runs `command` with the input on its standard input; its output goes to
    /// `logs/event-rules.RULE.log`. Delivered when it exits 0 within the timeout.
    static func run(_ command: [String], input: String, directory: String?, timeout: Double, rule: String, logFolder: String) -> String? {
        guard let first = command.first else { return "empty command" }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [first] + command.dropFirst()
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        env["MLGW_EVENT_RULE"] = rule
        p.environment = env
        let stdin = Pipe()
        p.standardInput = stdin
        let logPath = "\(logFolder)/event-rules.\(rule).log"
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        if let log = FileHandle(forWritingAtPath: logPath) {
            log.seekToEndOfFile()
            p.standardOutput = log
            p.standardError = log
        }
        do { try p.run() } catch { return "cannot run \(first): \(error.localizedDescription)" }
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try? stdin.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(2_000) }
        if p.isRunning {
            p.terminate()
            usleep(100_000)
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
            return "\(command.joined(separator: " ")) ran longer than \(formatSeconds(timeout))"
        }
        p.waitUntilExit()
        return p.terminationStatus == 0 ? nil : "\(command.joined(separator: " ")) exited with status \(p.terminationStatus)"
    }
}

