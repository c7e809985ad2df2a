/// The built-in runtimes a model server offers.
public enum ModelRuntime: String, Sendable, Codable, CaseIterable {
    /// Linear or logistic regression from a JSON file of coefficients and an intercept.
    case linear
    /// Tree ensembles in XGBoost's own JSON format (`Booster.save_model("m.json")`).
    case xgboost
}

/// A registered model (PUT /_control/models/NAME). A built-in runtime serves a stored artifact
/// (a copy inside the environment folder, so editing the source file cannot change a running
/// model); a bring-your-own server is a command run in `workingDirectory`.
public struct ModelRegistration: ControlConfiguration {
    public typealias Status = ModelRegistration
    public static let collection = ControlCollection.models

    /// A request a new instance must answer with 2xx before it gets traffic.
    public struct Probe: Sendable, Equatable, Codable {
        public var contentType: String
        public var body: String

        public init(contentType: String, body: String) {
            self.contentType = contentType
            self.body = body
        }
    }

    public var name: String
    /// What identifies the model's behaviour (the artifact's hash for a built-in runtime).
    public var sha256: String
    public var runtime: ModelRuntime?
    public var artifactPath: String?
    /// A server's model folder: its artifact copied (a file), copied whole (a folder) or unpacked
    /// (a `.tar.gz`) inside the environment; the server finds it in `SM_MODEL_DIR`.
    public var modelDirectory: String?
    /// SHA-256 of a server's artifact as the stack names it (a folder: of its files' names and contents).
    public var artifactSHA256: String?
    public var command: [String]?
    public var environment: [String: String]?
    public var workingDirectory: String?
    public var startupTimeout: Double?
    public var probe: Probe?
    /// A multi-model server: the folder it serves and how many models each instance keeps loaded.
    public var multiModelDirectory: String?
    public var cacheModels: Int?
    public var cacheMemoryMB: Int?

    public init(name: String, sha256: String, runtime: ModelRuntime? = nil, artifactPath: String? = nil, command: [String]? = nil,
                environment: [String: String]? = nil, workingDirectory: String? = nil, startupTimeout: Double? = nil, probe: Probe? = nil) {
        self.name = name
        self.sha256 = sha256
        self.runtime = runtime
        self.artifactPath = artifactPath
        self.command = command
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.startupTimeout = startupTimeout
        self.probe = probe
    }
}

/// What every process the environment starts inherits from the command that started the host:
/// only names that locate programs and set the locale, never the rest of its environment (which
/// may hold a secret). A model server or a function gets more only through its `environment:`.
public enum InheritedEnvironment {
    public static let names = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH"]

    public static func filter(_ environment: [String: String]) -> [String: String] {
        environment.filter { names.contains($0.key) }
    }
}
