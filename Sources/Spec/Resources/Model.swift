import Yams

/// A trained model and what serves it (SageMaker's Model): either a built-in runtime with an
/// artifact file, or a bring-your-own server `command` that honours SageMaker's container contract
/// (listens on `SAGEMAKER_BIND_TO_PORT`, answers `GET /ping` and `POST /invocations`, stops on
/// SIGTERM). Models are immutable, as in SageMaker: any change but the artifact's path replaces it.
public struct Model: Sendable, Equatable, Codable {
    public enum Runtime: String, Sendable, Codable, CaseIterable {
        /// Linear or logistic regression from a JSON file of coefficients and an intercept.
        case linear
        /// Tree ensembles in XGBoost's own JSON format (`Booster.save_model("m.json")`).
        case xgboost
    }

    /// A request a new instance must answer with 2xx before it gets traffic.
    public struct Probe: Sendable, Equatable, Codable {
        public var contentType: String
        public var body: String
    }

    public var name: String
    /// The built-in runtime; nil for a bring-your-own server.
    public var runtime: Runtime?
    /// The artifact path as written in the stack, relative to the stack file's folder.
    public var artifact: String?
    /// The artifact's absolute path on this machine.
    public var artifactPath: String?
    /// SHA-256 of the artifact's content.
    public var artifactSHA256: String?
    /// A bring-your-own server: the program and its arguments, run in `workingDirectory`.
    public var command: [String]?
    /// Environment values known at plan time.
    public var environment: [String: String]
    /// Environment values that reference something known only after apply (an endpoint's URL,
    /// the environment's AWS URL), as written; the provider resolves them when it applies.
    public var deferredEnvironment: [String: Template] = [:]
    /// The written text of the deferred values, for the plan.
    public var deferredEnvironmentText: [String: String] = [:]
    /// Resources the model's environment references: dependency edges.
    public var references: [ResourceAddress] = []
    /// The stack file's folder: relative paths in `command` and `environment` work from there.
    public var workingDirectory: String
    /// How long a new instance may take to become healthy; the stack's `local.health_timeout` when nil.
    public var startupTimeout: Double?
    public var probe: Probe?
    /// What identifies the model's behaviour: the artifact's hash for a built-in runtime; for a
    /// server, a hash of its command, environment, probe and the content of files the command names.
    public var contentSHA256: String
    public var description: String?
    public var location: SourceLocation?

    public var address: ResourceAddress { ResourceAddress(.model, name) }

    public var attributes: Attributes {
        var a: Attributes = [:]
        if let runtime { a["runtime"] = .string(runtime.rawValue) }
        if let artifact { a["artifact"] = .string(artifact) }
        if let artifactSHA256 { a["artifact_sha256"] = .string(artifactSHA256) }
        if let command {
            a["command"] = .string(command.map(shellQuoted).joined(separator: " "))
            a["server_sha256"] = .string(contentSHA256)
            a.merge(EnvironmentValues(values: environment, deferredText: deferredEnvironmentText).attributes) { $1 }
            if let startupTimeout { a["startup_timeout"] = .number(startupTimeout) }
            if let probe {
                a["probe.content_type"] = .string(probe.contentType)
                a["probe.body"] = .string(probe.body)
            }
        }
        return a
    }

    /// Every attribute but the artifact's path (same content, new place) makes a new model.
    static func isReplacing(_ path: String) -> Bool { path != "artifact" }

    static let laterKeys = ["multi_model"]
    static let laterRuntimes: [String] = []

    static func read(name: String, node: Node, stackDirectory: String, reader: inout NodeReader,
                     files: any SpecFileSystem, resolve: ([String]) -> Resolution) -> Model? {
        let context = "model '\(name)'"
        guard let entries = reader.mapping(node, what: context) else { return nil }
        let keys = reader.checkKeys(entries, allowed: ["runtime", "artifact", "command", "environment", "startup_timeout", "probe", "description"],
                                    later: laterKeys, context: context)
        var model = Model(name: name, runtime: nil, artifact: nil, artifactPath: nil, artifactSHA256: nil, command: nil,
                          environment: [:], workingDirectory: stackDirectory, startupTimeout: nil, probe: nil,
                          contentSHA256: "", description: nil, location: reader.location(node))
        model.description = keys["description"].flatMap { reader.literalString($0.value, what: "'description' of \(context)") }
        var ok = true
        switch (keys["runtime"], keys["command"]) {
        case (nil, nil):
            reader.error(.missingKey("runtime", in: context, at: reader.location(node),
                                     hint: "add 'runtime: linear' and an 'artifact', or a 'command' that runs your own model server"))
            return nil
        case (.some, .some):
            reader.error(Diagnostic(at: keys["command"]!.keyLocation, "\(context) has both 'runtime' and 'command'",
                                    hint: "use 'runtime' + 'artifact' for a built-in runtime, or 'command' for your own server, not both"))
            return nil
        case (let r?, nil):
            ok = readBuiltIn(&model, runtime: r, artifact: keys["artifact"], node: node, context: context, reader: &reader, files: files) && ok
        case (nil, let c?):
            ok = readServer(&model, command: c, keys: keys, context: context, reader: &reader, files: files, resolve: resolve) && ok
        }
        return ok ? model : nil
    }

    static func readBuiltIn(_ model: inout Model, runtime r: Entry, artifact: Entry?, node: Node, context: String,
                            reader: inout NodeReader, files: any SpecFileSystem) -> Bool {
        guard let text = reader.literalString(r.value, what: "'runtime' of \(context)") else { return false }
        guard let runtime = Runtime(rawValue: text) else {
            if laterRuntimes.contains(text) {
                reader.error(Diagnostic(at: reader.location(r.value), "runtime '\(text)' of \(context) is not supported by this version of mlgw-deploy",
                                        hint: "use runtime: linear, or serve the model with your own 'command'"))
            } else {
                reader.error(Diagnostic(at: reader.location(r.value), "unknown runtime '\(text)' for \(context)",
                                        hint: suggestion(for: text, among: Runtime.allCases.map(\.rawValue)).map { "did you mean '\($0)'?" } ?? "use runtime: linear"))
            }
            return false
        }
        model.runtime = runtime
        guard let a = artifact else {
            reader.error(.missingKey("artifact", in: context, at: reader.location(node), hint: "add 'artifact: path/to/model.json'"))
            return false
        }
        guard let path = reader.literalString(a.value, what: "'artifact' of \(context)") else { return false }
        let resolved = PathMath.resolve(path, against: model.workingDirectory)
        guard let hash = files.sha256(ofFileAt: resolved) else {
            reader.error(.missingFile(path, resolved: resolved, what: "artifact of \(context)", at: reader.location(a.value)))
            return false
        }
        (model.artifact, model.artifactPath, model.artifactSHA256, model.contentSHA256) = (path, resolved, hash, hash)
        return true
    }

    static func readServer(_ model: inout Model, command c: Entry, keys: [String: Entry], context: String,
                           reader: inout NodeReader, files: any SpecFileSystem, resolve: ([String]) -> Resolution) -> Bool {
        var ok = true
        if let a = keys["artifact"] {
            reader.error(Diagnostic(at: a.keyLocation, "'artifact' of \(context) only goes with a built-in 'runtime'",
                                    hint: "pass your server its files through 'environment' (paths relative to the stack file work)"))
            ok = false
        }
        guard let command = reader.command(c.value, context: context, example: "[python3, serve.py]", resolve: resolve) else { return false }
        model.command = command
        if let e = keys["environment"] {
            if let env = EnvironmentValues.read(e.value, context: context, reader: &reader, resolve: resolve) {
                (model.environment, model.deferredEnvironment, model.deferredEnvironmentText, model.references) =
                    (env.values, env.deferred, env.deferredText, env.references)
            } else {
                ok = false
            }
        }
        if let t = keys["startup_timeout"] {
            if let seconds = reader.duration(t.value, what: "'startup_timeout' of \(context)", resolve: resolve), seconds > 0 {
                model.startupTimeout = seconds
            } else {
                if reader.diagnostics.all.last?.location != reader.location(t.value) {
                    reader.error(.outOfRange("'startup_timeout' of \(context)", value: 0, range: "above 0", at: reader.location(t.value)))
                }
                ok = false
            }
        }
        if let p = keys["probe"], let entries = reader.mapping(p.value, what: "'probe' of \(context)") {
            let pk = reader.checkKeys(entries, allowed: ["content_type", "body"], context: "'probe' of \(context)")
            let contentType = pk["content_type"].flatMap { reader.literalString($0.value, what: "'probe.content_type' of \(context)") } ?? "text/csv"
            if let b = pk["body"], let body = reader.string(b.value, what: "'probe.body' of \(context)", resolve: resolve) {
                model.probe = Probe(contentType: contentType, body: body)
            } else {
                if pk["body"] == nil {
                    reader.error(.missingKey("body", in: "'probe' of \(context)", at: reader.location(p.value), hint: "add 'body: \"1,2,3\"', a request your server answers"))
                }
                ok = false
            }
        }
        // The server's identity includes the content of files its command names (a script), so
        // editing the script is a new model, as a new artifact is.
        var identity = commandIdentity(command, in: model.workingDirectory, files: files)
        identity += model.environment.keys.sorted().map { "env \($0)=\(model.environment[$0]!)" }
        identity += model.deferredEnvironmentText.keys.sorted().map { "env \($0)=\(model.deferredEnvironmentText[$0]!)" }
        if let probe = model.probe { identity.append("probe=\(probe.contentType)\u{0}\(probe.body)") }
        if let t = model.startupTimeout { identity.append("startup_timeout=\(t)") }
        model.contentSHA256 = SHA256.hex(of: identity.joined(separator: "\n"))
        return ok
    }
}

/// An argument as a shell would need it quoted, for display.
func shellQuoted(_ s: String) -> String {
    let safe = s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_./=:,+@%".unicodeScalars.contains($0) }
    return safe && !s.isEmpty ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// A process environment as a stack writes it: values known at plan time, and values that
/// reference something known only after apply (kept as templates for the provider to resolve).
/// Every resource a value references is a dependency edge.
public struct EnvironmentValues: Sendable, Equatable, Codable {
    public var values: [String: String] = [:]
    public var deferred: [String: Template] = [:]
    /// The written text of the deferred values, for the plan.
    public var deferredText: [String: String] = [:]
    public var references: [ResourceAddress] = []

    /// Plan attributes `environment.KEY`.
    public var attributes: Attributes {
        var a: Attributes = [:]
        for (k, v) in values { a["environment.\(k)"] = .string(v) }
        for (k, v) in deferredText { a["environment.\(k)"] = .string(v) }
        return a
    }

    /// Lines for an identity hash.
    public var identity: [String] {
        values.keys.sorted().map { "env \($0)=\(values[$0]!)" } + deferredText.keys.sorted().map { "env \($0)=\(deferredText[$0]!)" }
    }

    static func read(_ node: Node, context: String, reader: inout NodeReader, resolve: ([String]) -> Resolution) -> EnvironmentValues? {
        guard let entries = reader.mapping(node, what: "'environment' of \(context)") else { return nil }
        var env = EnvironmentValues()
        var ok = true
        var references = Set<ResourceAddress>()
        for entry in entries {
            let what = "environment variable '\(entry.key)' of \(context)"
            guard let text = reader.literalString(entry.value, what: what) else { ok = false; continue }
            guard text.contains("${") else { env.values[entry.key] = text; continue }
            guard let template = try? Template.parse(text) else {
                _ = reader.evaluate(text, at: reader.location(entry.value), resolve: resolve)  // reports the error
                ok = false
                continue
            }
            for path in template.references where path.count >= 2 {
                if let kind = ResourceKind(rawValue: path[0]) { references.insert(ResourceAddress(kind, path[1])) }
            }
            switch reader.evaluate(text, at: reader.location(entry.value), resolve: resolve) {
            case .value(_, true)?:
                reader.error(.sensitiveInResource(what, at: reader.location(entry.value)))
                ok = false
            case .value(let v, false)?:
                env.values[entry.key] = v.description
            case .knownAfterApply?:
                env.deferred[entry.key] = template
                env.deferredText[entry.key] = text
            case nil:
                ok = false
            }
        }
        env.references = references.sorted()
        return ok ? env : nil
    }
}
