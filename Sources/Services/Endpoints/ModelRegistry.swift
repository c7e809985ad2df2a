import EnvironmentAPI
import Foundation
import NIOConcurrencyHelpers

/// The models collection: registrations that endpoints' variants name. A registration is checked
/// when it is put (a built-in runtime loads its artifact; a server's program must exist), so a
/// bad model fails its own apply, not the endpoint's.
final class ModelRegistry: EnvironmentService, @unchecked Sendable {
    let name = "models"
    let directory: String
    private let lock = NIOLock()
    private var models: [String: ModelRegistration] = [:]
    /// A row of zeros each built-in model answers, by the model's hash.
    private var probes: [String: String] = [:]

    init(directory: String) { self.directory = directory }

    func register(on router: ControlRouter) {
        router.on(ModelRegistration.self, put: { [self] in try put($0) }, delete: { [self] in delete($0) })
    }

    func put(_ registration: ModelRegistration) throws -> ModelRegistration {
        // Checked again here, whatever validate did: a value that would trap a timer answers an error.
        if let t = registration.startupTimeout, !(t.isFinite && t > 0 && t <= 86_400) {
            throw ControlError(message: "model '\(registration.name)': a start-up timeout of \(t)s is out of range", terminal: true)
        }
        var probe: String?
        if let runtime = registration.runtime {
            guard let path = registration.artifactPath else {
                throw ControlError(message: "model '\(registration.name)' has no artifact", terminal: true)
            }
            do { probe = try Runtimes.load(runtime, path: path).probeCSV } catch {
                throw ControlError(message: "model '\(registration.name)': \(error)", terminal: true)
            }
        } else if let command = registration.command, let program = command.first {
            guard Executables.find(program, in: registration.workingDirectory ?? directory) != nil else {
                throw ControlError(message: "the command of model '\(registration.name)' names '\(program)', which is not an executable file here or on PATH", terminal: true)
            }
            if let folder = registration.modelDirectory {
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                    throw ControlError(message: "the model folder of model '\(registration.name)' (\(folder)) is not a folder", terminal: true)
                }
            }
        } else {
            throw ControlError(message: "model '\(registration.name)' has neither a runtime nor a command", terminal: true)
        }
        let changed: Bool = lock.withLock {
            let changed = models[registration.name] != registration
            models[registration.name] = registration
            if let probe { probes[registration.sha256] = probe }
            return changed
        }
        if changed { HostLog.write("model \(registration.name): registered (sha256 \(registration.sha256.prefix(12)))") }
        return registration
    }

    func delete(_ name: String) {
        if lock.withLock({ models.removeValue(forKey: name) }) != nil { HostLog.write("model \(name): removed") }
    }

    func model(_ name: String) -> ModelRegistration? { lock.withLock { models[name] } }

    /// The probe row of a built-in model, loading the artifact again when it is not cached.
    func probe(for model: ModelRegistration) -> String? {
        if let known = lock.withLock({ probes[model.sha256] }) { return known }
        guard let runtime = model.runtime, let path = model.artifactPath else { return nil }
        return try? Runtimes.load(runtime, path: path).probeCSV
    }

    func reconcile(now: Date) async -> Date? { nil }
    func processExited(pid: Int32, status: Int32) async {}
    func describe(into snapshot: inout EnvironmentSnapshot) async {
        snapshot.models = lock.withLock { models.values.sorted { $0.name < $1.name } }
    }
    func shutdown() async {}
}

/// Finding the program a command names.
enum Executables {
    /// `program` as an absolute path: itself if it contains a slash (relative to `directory`),
    /// else the first match on PATH.
    static func find(_ program: String, in directory: String) -> String? {
        if program.contains("/") {
            let path = program.hasPrefix("/") ? program : directory + "/" + program
            return access(path, X_OK) == 0 ? path : nil
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where access("\(dir)/\(program)", X_OK) == 0 {
            return "\(dir)/\(program)"
        }
        return nil
    }
}
