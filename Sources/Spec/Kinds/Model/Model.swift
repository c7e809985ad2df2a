import EnvironmentAPI

/// A trained model and what serves it (SageMaker's Model): either a built-in runtime with an
/// artifact file, or a bring-your-own server `command` that honours SageMaker's container contract
/// (listens on `SAGEMAKER_BIND_TO_PORT`, answers `GET /ping` and `POST /invocations`, stops on
/// SIGTERM), optionally with an artifact (file, folder or `.tar.gz`) it finds in `SM_MODEL_DIR`.
/// Models are immutable, as in SageMaker: any change but the artifact's path replaces it.
public struct Model: ResourceDefinition {
    public typealias Runtime = ModelRuntime
    public typealias Probe = ModelRegistration.Probe

    public static let kind = ResourceKind.model
    public static let section = ["models"]
    public static let singular = "model"
    public static let referenceableAttributes = ["name", "runtime", "artifact", "artifact_sha256"]

    public var name: String
    /// The built-in runtime; nil for a bring-your-own server.
    public var runtime: Runtime?
    /// The artifact path as written in the stack, relative to the stack file's folder.
    public var artifact: String?
    /// The artifact's absolute path on this machine.
    public var artifactPath: String?
    /// SHA-256 of the artifact's content (a folder: of its files' names and contents).
    public var artifactSHA256: String?
    /// A bring-your-own server: the program and its arguments, run in `workingDirectory`.
    public var command: [String]?
    /// The server's environment: values known at plan time, and values that reference something
    /// known only after apply (an endpoint's URL), which the provider resolves when it applies.
    public var environment = EnvironmentValues()
    /// The stack file's folder: relative paths in `command` and `environment` work from there.
    public var workingDirectory: String
    /// How long a new instance may take to become healthy; the stack's `local.health_timeout` when nil.
    public var startupTimeout: Double?
    public var probe: Probe?
    /// What identifies the model's behaviour: the artifact's hash for a built-in runtime; for a
    /// server, a hash of its command, environment, probe, artifact and the content of files the
    /// command names.
    public var contentSHA256: String
    public var description: String?
    public var location: SourceLocation?

    public var dependencies: [ResourceAddress] { environment.references }

    public static func runningAttributes(of r: ModelRegistration) -> Attributes {
        var a: Attributes = [:]
        if let runtime = r.runtime {
            a["runtime"] = .string(runtime.rawValue)
            a["artifact_sha256"] = .string(r.sha256)
        }
        if let command = r.command {
            a["command"] = .string(command.map(shellQuoted).joined(separator: " "))
            a["server_sha256"] = .string(r.sha256)
            if let t = r.startupTimeout { a["startup_timeout"] = .number(t) }
            if let sha = r.artifactSHA256 { a["artifact_sha256"] = .string(sha) }
            if let probe = r.probe {
                a["probe.content_type"] = .string(probe.contentType)
                a["probe.body"] = .string(probe.body)
            }
        }
        return a
    }

    /// Every attribute but the artifact's path (same content, new place) makes a new model.
    public static func replacementReason(changed paths: [String]) -> String? {
        let replacing = paths.filter { $0 != "artifact" }
        return replacing.isEmpty ? nil : "models are immutable: \(replacing.joined(separator: ", ")) changed"
    }

    public static func note(forChangedAttribute path: String) -> String? { nil }
}

extension Model: ReadableDefinition {
    func configuration(in index: ResourceIndex, local: LocalSettings) -> ModelRegistration {
        var r = ModelRegistration(name: name, sha256: contentSHA256, runtime: runtime,
                                  artifactPath: runtime != nil ? artifactPath : nil)
        if let command {
            r.command = command
            r.environment = environment.values
            r.workingDirectory = workingDirectory
            r.startupTimeout = startupTimeout
            r.probe = probe
            r.artifactSHA256 = artifactSHA256
        }
        return r
    }

    var declaredAttributes: Attributes {
        var a = environment.attributes
        if let artifact { a["artifact"] = .string(artifact) }
        return a
    }
}

extension ResourceSpec {
    public var model: Model? { value(as: Model.self) }
}
