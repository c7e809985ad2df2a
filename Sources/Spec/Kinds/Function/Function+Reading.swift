import EnvironmentAPI

extension Function {
    static func read(_ entry: ResourceEntry, reader: inout NodeReader, in context: ReadContext) -> Function? {
        let what = "function '\(entry.name)'"
        guard let keys = reader.keys(entry.node, allowed: ["runtime", "handler", "command", "code", "environment", "timeout", "memory",
                                                           "provisioned_concurrency", "reserved_concurrency", "async", "description"],
                                     context: what) else { return nil }
        var f = Function(name: entry.name, codeDirectory: context.stackDirectory, environment: EnvironmentValues(), codeSHA256: "",
                         location: reader.location(entry.node))
        var failed = false
        if let d = keys["description"] {
            if let text = reader.literalString(d.value, what: "'description' of \(what)") { f.description = text } else { failed = true }
        }
        if let c = keys["code"] {
            if let path = reader.literalString(c.value, what: "'code' of \(what)") {
                let resolved = PathMath.resolve(path, against: context.stackDirectory)
                if context.files.isDirectory(resolved) {
                    (f.code, f.codeDirectory) = (path, resolved)
                } else {
                    reader.error(.codeNotAFolder(path, resolved: resolved, of: what, at: reader.location(c.value)))
                    failed = true
                }
            } else { failed = true }
        }
        var identity: [String] = []
        switch (keys["runtime"], keys["command"]) {
        case (nil, nil):
            reader.error(.missingKey("runtime", in: what, at: keys.location,
                                     hint: "add 'runtime: python3' and 'handler: path/to/file.handler', or a 'command' that speaks the Lambda Runtime API"))
            failed = true
        case (.some, .some(let c)):
            reader.error(.functionRuntimeAndCommand(what, at: c.keyLocation))
            failed = true
        case (let r?, nil):
            if let text = reader.literalString(r.value, what: "'runtime' of \(what)") {
                if let runtime = Runtime(rawValue: text) { f.runtime = runtime } else {
                    reader.error(.unknownFunctionRuntime(text, of: what, suggestion: suggestion(for: text, among: Runtime.allCases.map(\.rawValue)),
                                                         at: reader.location(r.value)))
                    failed = true
                }
            } else { failed = true }
            if let h = reader.require(keys, "handler", hint: "add 'handler: path/to/file.handler'") {
                if let handler = reader.literalString(h.value, what: "'handler' of \(what)") {
                    if let dot = handler.lastIndex(of: "."), dot != handler.startIndex, handler.index(after: dot) != handler.endIndex {
                        let file = String(handler[..<dot]) + ".py"
                        let resolved = PathMath.resolve(file, against: f.codeDirectory)
                        if let hash = context.files.sha256(ofFileAt: resolved) {
                            f.handler = handler
                            identity.append("handler \(handler)=\(hash)")
                        } else {
                            reader.error(.missingFile(file, resolved: resolved, what: "handler file of \(what)", at: reader.location(h.value)))
                            failed = true
                        }
                    } else {
                        reader.error(.handlerNotFileFunction(handler, of: what, at: reader.location(h.value)))
                        failed = true
                    }
                } else { failed = true }
            } else { failed = true }
        case (nil, let c?):
            if let h = keys["handler"] {
                reader.error(.handlerWithCommand(what, at: h.keyLocation))
                failed = true
            }
            if let command = reader.command(c.value, context: what, example: "[python3, -m, awslambdaric, app.handler]") {
                f.command = command
                identity += commandIdentity(command, in: f.codeDirectory, files: context.files)
            } else { failed = true }
        }
        if f.code != nil { identity.append("code=\(context.files.sha256(ofDirectory: f.codeDirectory))") }
        f.codeSHA256 = SHA256.hex(of: identity.joined(separator: "\n"))
        if let e = keys["environment"] {
            if let env = EnvironmentValues.read(e.value, context: what, reader: &reader) { f.environment = env } else { failed = true }
        }
        if let t = keys["timeout"] {
            if let seconds = reader.duration(t.value, what: "'timeout' of \(what)", range: .seconds(0.1, 900)) { f.timeout = seconds } else { failed = true }
        }
        func count(_ key: String, range: ClosedRange<Int>) -> Int? {
            guard let e = keys[key] else { return nil }
            guard let n = reader.integer(e.value, what: "'\(key)' of \(what)", range: range) else { failed = true; return nil }
            return n
        }
        if let m = count("memory", range: 128...10_240) { f.memoryMB = m }
        let provisioned = count("provisioned_concurrency", range: 0...64)
        let reserved = count("reserved_concurrency", range: 1...256)
        if let provisioned { f.provisionedConcurrency = provisioned }
        if let reserved { f.reservedConcurrency = reserved } else { f.reservedConcurrency = max(f.reservedConcurrency, f.provisionedConcurrency) }
        if let provisioned, let reserved, provisioned > reserved {
            reader.error(.provisionedAboveReserved(what, provisioned: provisioned, reserved: reserved, at: keys["provisioned_concurrency"]?.keyLocation))
            failed = true
        }
        if let a = keys["async"] {
            if let ak = reader.keys(a.value, allowed: ["max_retries", "retry_delay", "max_event_age"], context: "'async' of \(what)") {
                if let r = ak["max_retries"] {
                    if let n = reader.integer(r.value, what: "'async.max_retries' of \(what)", range: 0...2) { f.async.maxRetries = n } else { failed = true }
                }
                if let e = ak["retry_delay"] {
                    if let s = reader.duration(e.value, what: "'async.retry_delay' of \(what)", range: .seconds(0, 3600)) { f.async.retryDelay = s } else { failed = true }
                }
                if let e = ak["max_event_age"] {
                    if let s = reader.duration(e.value, what: "'async.max_event_age' of \(what)", range: .positiveSeconds(atMost: 21_600)) { f.async.maxEventAge = s } else { failed = true }
                }
            } else { failed = true }
        }
        return failed ? nil : f
    }
}
