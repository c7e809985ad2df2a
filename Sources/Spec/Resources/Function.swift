import EnvironmentAPI
import Yams

/// A Lambda-style function: a handler run by worker processes that speak the Lambda Runtime API.
/// `runtime: python3` runs `handler: path/to/file.function` under the bootstrap that ships with
/// mlgw-deploy; `command` runs any program that implements the Runtime API client itself (for
/// instance `python3 -m awslambdaric file.handler`). Every change updates the function in place:
/// new workers start, in-flight calls finish on the old ones.
public struct Function: Sendable, Equatable, Codable {
    public enum Runtime: String, Sendable, Codable, CaseIterable {
        case python3
    }

    /// Asynchronous (`Event`) invocations: how often a failed event is retried, and how long an
    /// event may wait, as Lambda's function event invoke config.
    public struct AsyncSettings: Sendable, Equatable, Codable {
        public var maxRetries: Int = 2
        /// Lambda waits about a minute before the first retry and two before the second; the
        /// local default is shorter so test environments see retries happen.
        public var retryDelay: Double = 1
        public var maxEventAge: Double = 21_600
    }

    public var name: String
    public var runtime: Runtime?
    /// `path/to/file.function`, relative to `code`.
    public var handler: String?
    public var command: [String]?
    /// The folder the handler is read from: the workers' working directory and LAMBDA_TASK_ROOT.
    public var codeDirectory: String
    /// As written, for the plan; nil when it defaults to the stack's folder.
    public var code: String?
    public var environment: EnvironmentValues
    public var timeout: Double = 3
    public var memoryMB: Int = 128
    public var provisionedConcurrency: Int = 0
    public var reservedConcurrency: Int = 10
    public var async = AsyncSettings()
    /// What identifies the function's code: the files under `code` when given, else the handler's
    /// file and the files its command names.
    public var codeSHA256: String
    public var description: String?
    public var location: SourceLocation?

    public var address: ResourceAddress { ResourceAddress(.function, name) }
    public var references: [ResourceAddress] { environment.references }

    public var attributes: Attributes {
        var a: Attributes = [:]
        if let runtime { a["runtime"] = .string(runtime.rawValue) }
        if let handler { a["handler"] = .string(handler) }
        if let command { a["command"] = .string(command.map(shellQuoted).joined(separator: " ")) }
        if let code { a["code"] = .string(code) }
        a["code_sha256"] = .string(codeSHA256)
        a.merge(environment.attributes) { $1 }
        a["timeout"] = .number(timeout)
        a["memory"] = .number(Double(memoryMB))
        a["provisioned_concurrency"] = .number(Double(provisionedConcurrency))
        a["reserved_concurrency"] = .number(Double(reservedConcurrency))
        a["async.max_retries"] = .number(Double(async.maxRetries))
        a["async.retry_delay"] = .number(async.retryDelay)
        a["async.max_event_age"] = .number(async.maxEventAge)
        return a
    }

    static func note(for path: String) -> String? {
        if path.hasSuffix("_concurrency") || path.hasPrefix("async.") { return "in place, no restart" }
        return "new workers start, in-flight calls finish on the old ones"
    }

    static func read(name: String, node: Node, stackDirectory: String, reader: inout NodeReader,
                     files: any SpecFileSystem, resolve: ([String]) -> Resolution) -> Function? {
        let context = "function '\(name)'"
        guard let entries = reader.mapping(node, what: context) else { return nil }
        let keys = reader.checkKeys(entries, allowed: ["runtime", "handler", "command", "code", "environment", "timeout", "memory",
                                                       "provisioned_concurrency", "reserved_concurrency", "async", "description"],
                                    context: context)
        var f = Function(name: name, codeDirectory: stackDirectory, environment: EnvironmentValues(), codeSHA256: "",
                         location: reader.location(node))
        var ok = true
        f.description = keys["description"].flatMap { reader.literalString($0.value, what: "'description' of \(context)") }
        if let c = keys["code"] {
            if let path = reader.literalString(c.value, what: "'code' of \(context)") {
                let resolved = PathMath.resolve(path, against: stackDirectory)
                if files.isDirectory(resolved) {
                    (f.code, f.codeDirectory) = (path, resolved)
                } else {
                    reader.error(Diagnostic(at: reader.location(c.value), "'code' of \(context) names '\(path)', which is not a folder (looked at \(resolved))",
                                            hint: "name the folder holding the function's code, relative to the stack file"))
                    ok = false
                }
            } else { ok = false }
        }
        var identity: [String] = []
        switch (keys["runtime"], keys["command"]) {
        case (nil, nil):
            reader.error(.missingKey("runtime", in: context, at: reader.location(node),
                                     hint: "add 'runtime: python3' and 'handler: path/to/file.handler', or a 'command' that speaks the Lambda Runtime API"))
            return nil
        case (.some, .some):
            reader.error(Diagnostic(at: keys["command"]!.keyLocation, "\(context) has both 'runtime' and 'command'",
                                    hint: "use 'runtime' + 'handler' for the bundled Python runtime, or 'command' for your own runtime client, not both"))
            return nil
        case (let r?, nil):
            guard let text = reader.literalString(r.value, what: "'runtime' of \(context)") else { return nil }
            guard let runtime = Runtime(rawValue: text) else {
                reader.error(Diagnostic(at: reader.location(r.value), "unknown runtime '\(text)' for \(context)",
                                        hint: "use runtime: python3, or run your own runtime client with 'command'"))
                return nil
            }
            f.runtime = runtime
            guard let h = keys["handler"] else {
                reader.error(.missingKey("handler", in: context, at: reader.location(node), hint: "add 'handler: path/to/file.handler'"))
                return nil
            }
            guard let handler = reader.literalString(h.value, what: "'handler' of \(context)") else { return nil }
            guard let dot = handler.lastIndex(of: "."), dot != handler.startIndex, handler.index(after: dot) != handler.endIndex else {
                reader.error(Diagnostic(at: reader.location(h.value), "'handler' of \(context) is '\(handler)', not FILE.FUNCTION",
                                        hint: "write the file's path without '.py', a dot, and the function's name: 'app/score.handler'"))
                return nil
            }
            let file = String(handler[..<dot]) + ".py"
            let resolved = PathMath.resolve(file, against: f.codeDirectory)
            guard let hash = files.sha256(ofFileAt: resolved) else {
                reader.error(.missingFile(file, resolved: resolved, what: "handler file of \(context)", at: reader.location(h.value)))
                return nil
            }
            f.handler = handler
            identity.append("handler \(handler)=\(hash)")
        case (nil, let c?):
            if let h = keys["handler"] {
                reader.error(Diagnostic(at: h.keyLocation, "'handler' of \(context) only goes with 'runtime'",
                                        hint: "pass the handler to your runtime client in 'command', as awslambdaric takes it"))
                ok = false
            }
            guard let command = reader.command(c.value, context: context, example: "[python3, -m, awslambdaric, app.handler]", resolve: resolve) else { return nil }
            f.command = command
            identity += commandIdentity(command, in: f.codeDirectory, files: files)
        }
        if f.code != nil { identity.append("code=\(files.sha256(ofDirectory: f.codeDirectory))") }
        f.codeSHA256 = SHA256.hex(of: identity.joined(separator: "\n"))
        if let e = keys["environment"] {
            if let env = EnvironmentValues.read(e.value, context: context, reader: &reader, resolve: resolve) { f.environment = env } else { ok = false }
        }
        if let t = keys["timeout"] {
            if let seconds = reader.duration(t.value, what: "'timeout' of \(context)", resolve: resolve) {
                if seconds >= 0.1 && seconds <= 900 { f.timeout = seconds }
                else { reader.error(.outOfRange("'timeout' of \(context)", value: seconds, range: "between 0.1 and 900 seconds", at: reader.location(t.value))); ok = false }
            } else { ok = false }
        }
        func count(_ key: String, range: ClosedRange<Int>) -> Int? {
            guard let e = keys[key] else { return nil }
            guard let n = reader.integer(e.value, what: "'\(key)' of \(context)", resolve: resolve) else { ok = false; return nil }
            guard range.contains(n) else {
                reader.error(.outOfRange("'\(key)' of \(context)", value: Double(n), range: "between \(range.lowerBound) and \(range.upperBound)", at: reader.location(e.value)))
                ok = false
                return nil
            }
            return n
        }
        if let m = count("memory", range: 128...10_240) { f.memoryMB = m }
        if let p = count("provisioned_concurrency", range: 0...64) { f.provisionedConcurrency = p }
        if let r = count("reserved_concurrency", range: 1...256) { f.reservedConcurrency = r }
        if keys["reserved_concurrency"] == nil { f.reservedConcurrency = max(f.reservedConcurrency, f.provisionedConcurrency) }
        if ok, f.provisionedConcurrency > f.reservedConcurrency {
            reader.error(Diagnostic(at: keys["provisioned_concurrency"]?.keyLocation,
                                    "\(context) provisions \(f.provisionedConcurrency) workers but reserves only \(f.reservedConcurrency)",
                                    hint: "raise 'reserved_concurrency' to at least \(f.provisionedConcurrency), or provision fewer"))
            ok = false
        }
        if let a = keys["async"], let entries = reader.mapping(a.value, what: "'async' of \(context)") {
            let ak = reader.checkKeys(entries, allowed: ["max_retries", "retry_delay", "max_event_age"], context: "'async' of \(context)")
            if let r = ak["max_retries"], let n = reader.integer(r.value, what: "'async.max_retries' of \(context)", resolve: resolve) {
                if (0...2).contains(n) { f.async.maxRetries = n }
                else { reader.error(.outOfRange("'async.max_retries' of \(context)", value: Double(n), range: "between 0 and 2 (as Lambda)", at: reader.location(r.value))); ok = false }
            }
            for (key, path) in [("retry_delay", \AsyncSettings.retryDelay), ("max_event_age", \AsyncSettings.maxEventAge)] {
                guard let e = ak[key] else { continue }
                if let s = reader.duration(e.value, what: "'async.\(key)' of \(context)", resolve: resolve), s >= 0 { f.async[keyPath: path] = s } else { ok = false }
            }
        }
        return ok ? f : nil
    }
}
