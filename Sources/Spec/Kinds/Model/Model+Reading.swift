import EnvironmentAPI

extension Model {
    static let laterKeys = ["multi_model"]

    static func read(_ entry: ResourceEntry, reader: inout NodeReader, in context: ReadContext) -> Model? {
        let what = "model '\(entry.name)'"
        guard let keys = reader.keys(entry.node, allowed: ["runtime", "artifact", "command", "environment", "startup_timeout", "probe", "description"],
                                     later: laterKeys, context: what) else { return nil }
        var model = Model(name: entry.name, workingDirectory: context.stackDirectory, contentSHA256: "", location: reader.location(entry.node))
        var failed = false
        if let d = keys["description"] {
            if let text = reader.literalString(d.value, what: "'description' of \(what)") { model.description = text } else { failed = true }
        }
        switch (keys["runtime"], keys["command"]) {
        case (nil, nil):
            reader.error(.missingKey("runtime", in: what, at: keys.location,
                                     hint: "add 'runtime: linear' and an 'artifact', or a 'command' that runs your own model server"))
            return nil
        case (.some, .some(let c)):
            reader.error(.runtimeAndCommand(what, at: c.keyLocation))
            return nil
        case (let r?, nil):
            if !readBuiltIn(&model, runtime: r, keys: keys, what: what, reader: &reader, in: context) { failed = true }
        case (nil, let c?):
            if !readServer(&model, command: c, keys: keys, what: what, reader: &reader, in: context) { failed = true }
        }
        return failed ? nil : model
    }

    /// A built-in runtime and its artifact file; false after recording why not.
    static func readBuiltIn(_ model: inout Model, runtime r: Entry, keys: Keys, what: String,
                            reader: inout NodeReader, in context: ReadContext) -> Bool {
        var ok = true
        for key in ["environment", "startup_timeout", "probe"] {
            if let e = keys[key] {
                reader.error(.serverOnlyKey(key, of: what, at: e.keyLocation))
                ok = false
            }
        }
        if let text = reader.literalString(r.value, what: "'runtime' of \(what)") {
            if let runtime = Runtime(rawValue: text) {
                model.runtime = runtime
            } else {
                reader.error(.unknownRuntime(text, of: what, suggestion: suggestion(for: text, among: Runtime.allCases.map(\.rawValue)),
                                             at: reader.location(r.value)))
                ok = false
            }
        } else { ok = false }
        guard let a = reader.require(keys, "artifact", hint: "add 'artifact: path/to/model.json'") else { return false }
        guard let path = reader.literalString(a.value, what: "'artifact' of \(what)") else { return false }
        let resolved = PathMath.resolve(path, against: model.workingDirectory)
        guard let hash = context.files.sha256(ofFileAt: resolved) else {
            reader.error(.missingFile(path, resolved: resolved, what: "artifact of \(what)", at: reader.location(a.value)))
            return false
        }
        (model.artifact, model.artifactPath, model.artifactSHA256, model.contentSHA256) = (path, resolved, hash, hash)
        // Read with the runtime's own loader now, so a bad artifact is this file's error at
        // validate, not a failed apply naming the environment's copy.
        if let runtime = model.runtime, let problem = context.files.artifactProblem(at: resolved, runtime: runtime) {
            reader.error(.artifactUnusable(path, runtime: runtime, of: what, problem: problem.replacingOccurrences(of: resolved, with: path),
                                           at: reader.location(a.value)))
            return false
        }
        return ok
    }

    /// A bring-your-own server: its command, environment, start-up timeout and probe.
    static func readServer(_ model: inout Model, command c: Entry, keys: Keys, what: String,
                           reader: inout NodeReader, in context: ReadContext) -> Bool {
        var ok = true
        if let a = keys["artifact"] {
            if !readServerArtifact(&model, a, what: what, reader: &reader, in: context) { ok = false }
        }
        if let command = reader.command(c.value, context: what, example: "[python3, serve.py]") { model.command = command } else { ok = false }
        if let e = keys["environment"] {
            if let env = EnvironmentValues.read(e.value, context: what, reader: &reader) {
                model.environment = env
                for entry in reader.mapping(e.value, what: "'environment' of \(what)") ?? [] where setByTheHost(model).contains(entry.key) {
                    reader.error(.environmentSetByTheHost(entry.key, of: what, at: entry.keyLocation))
                    ok = false
                }
            } else { ok = false }
        }
        if let t = keys["startup_timeout"] {
            if let seconds = reader.duration(t.value, what: "'startup_timeout' of \(what)", range: .positiveSeconds(atMost: 3600)) {
                model.startupTimeout = seconds
            } else { ok = false }
        }
        if let p = keys["probe"] {
            if let pk = reader.keys(p.value, allowed: ["content_type", "body"], context: "'probe' of \(what)") {
                var contentType = "text/csv"
                if let t = pk["content_type"] {
                    if let text = reader.literalString(t.value, what: "'probe.content_type' of \(what)") { contentType = text } else { ok = false }
                }
                if let b = reader.require(pk, "body", hint: "add 'body: \"1,2,3\"', a request your server answers") {
                    if let body = reader.string(b.value, what: "'probe.body' of \(what)") {
                        model.probe = Probe(contentType: contentType, body: body)
                    } else { ok = false }
                } else { ok = false }
            } else { ok = false }
        }
        guard ok, let command = model.command else { return false }
        // The server's identity includes the content of files its command names (a script), so
        // editing the script is a new model, as a new artifact is.
        var identity = commandIdentity(command, in: model.workingDirectory, files: context.files)
        identity += model.environment.identity
        if let probe = model.probe { identity.append("probe=\(probe.contentType)\u{0}\(probe.body)") }
        if let t = model.startupTimeout { identity.append("startup_timeout=\(t)") }
        if let a = model.artifactSHA256 { identity.append("artifact=\(a)") }
        model.contentSHA256 = SHA256.hex(of: identity.joined(separator: "\n"))
        return true
    }

    /// Variables the host sets for a server, which its `environment` cannot.
    static func setByTheHost(_ model: Model) -> [String] {
        ["SAGEMAKER_BIND_TO_PORT"] + (model.artifact != nil ? ["SM_MODEL_DIR"] : [])
    }

    /// A server's artifact: a file, a folder, or a `.tar.gz` / `.tgz` the provider unpacks into the
    /// model's folder, as SageMaker unpacks `model.tar.gz` into `/opt/ml/model`.
    static func readServerArtifact(_ model: inout Model, _ a: Entry, what: String,
                                   reader: inout NodeReader, in context: ReadContext) -> Bool {
        guard let path = reader.literalString(a.value, what: "'artifact' of \(what)") else { return false }
        let resolved = PathMath.resolve(path, against: model.workingDirectory)
        let hash: String
        if context.files.isDirectory(resolved) {
            hash = context.files.sha256(ofDirectory: resolved)
        } else if let file = context.files.sha256(ofFileAt: resolved) {
            hash = file
        } else {
            reader.error(.missingFile(path, resolved: resolved, what: "artifact of \(what)", at: reader.location(a.value)))
            return false
        }
        (model.artifact, model.artifactPath, model.artifactSHA256) = (path, resolved, hash)
        return true
    }
}
