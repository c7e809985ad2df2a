import Yams

/// A trained model: an artifact file and the runtime that serves it (SageMaker's Model).
/// Models are immutable, as in SageMaker: a new runtime or new artifact content replaces the model.
public struct Model: Sendable, Equatable, Codable {
    public enum Runtime: String, Sendable, Codable, CaseIterable {
        /// Linear or logistic regression from a JSON file of coefficients and an intercept.
        case linear
    }

    public var name: String
    public var runtime: Runtime
    /// The path as written in the stack, relative to the stack file's folder.
    public var artifact: String
    /// The artifact's absolute path on this machine.
    public var artifactPath: String
    /// SHA-256 of the artifact's content: what decides whether the model changed.
    public var artifactSHA256: String
    public var description: String?
    public var location: SourceLocation?

    public var address: ResourceAddress { ResourceAddress(.model, name) }

    public var attributes: Attributes {
        ["runtime": .string(runtime.rawValue), "artifact": .string(artifact), "artifact_sha256": .string(artifactSHA256)]
    }

    /// Changing these makes a new model; a moved artifact with the same content is an in-place update.
    static let replacingAttributes: Set<String> = ["runtime", "artifact_sha256"]

    static let laterKeys = ["command", "environment", "startup_timeout"]
    static let laterRuntimes = ["xgboost"]

    static func read(name: String, node: Node, stackDirectory: String, reader: inout NodeReader,
                     files: any SpecFileSystem) -> Model? {
        let context = "model '\(name)'"
        guard let entries = reader.mapping(node, what: context) else { return nil }
        let keys = reader.checkKeys(entries, allowed: ["runtime", "artifact", "description"], later: laterKeys, context: context)
        var runtime: Runtime?
        if let r = keys["runtime"], let text = reader.literalString(r.value, what: "'runtime' of \(context)") {
            runtime = Runtime(rawValue: text)
            if runtime == nil {
                if laterRuntimes.contains(text) {
                    reader.error(Diagnostic(at: reader.location(r.value), "runtime '\(text)' of \(context) is not supported by this version of mlgw-deploy",
                                            hint: "use runtime: linear"))
                } else {
                    reader.error(Diagnostic(at: reader.location(r.value), "unknown runtime '\(text)' for \(context)",
                                            hint: suggestion(for: text, among: Runtime.allCases.map(\.rawValue)).map { "did you mean '\($0)'?" } ?? "use runtime: linear"))
                }
            }
        } else if keys["runtime"] == nil {
            reader.error(.missingKey("runtime", in: context, at: reader.location(node), hint: "add 'runtime: linear'"))
        }
        var artifact: String?, path: String?, hash: String?
        if let a = keys["artifact"], let text = reader.literalString(a.value, what: "'artifact' of \(context)") {
            let resolved = PathMath.resolve(text, against: stackDirectory)
            if let h = files.sha256(ofFileAt: resolved) {
                (artifact, path, hash) = (text, resolved, h)
            } else {
                reader.error(.missingFile(text, resolved: resolved, what: "artifact of \(context)", at: reader.location(a.value)))
            }
        } else if keys["artifact"] == nil {
            reader.error(.missingKey("artifact", in: context, at: reader.location(node), hint: "add 'artifact: path/to/model.json'"))
        }
        let description = keys["description"].flatMap { reader.literalString($0.value, what: "'description' of \(context)") }
        guard let runtime, let artifact, let path, let hash else { return nil }
        return Model(name: name, runtime: runtime, artifact: artifact, artifactPath: path, artifactSHA256: hash,
                     description: description, location: reader.location(node))
    }
}
