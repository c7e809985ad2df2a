import EnvironmentAPI
import Foundation
import Reconciler
import Spec

/// Models: a built-in runtime's artifact is copied into the environment (content-addressed, so a
/// running model never sees its source file edited) and registered; copies stay until the
/// environment is destroyed, so an instance that restarts finds the artifact it started with.
/// A bring-your-own server is registered as its command, run from the stack's folder; its
/// artifact, if any, becomes a folder of its own (`ModelFolder`) that the server gets as `SM_MODEL_DIR`.
struct ModelHandler: KindHandler {
    typealias Definition = Model

    func running(in snapshot: EnvironmentSnapshot) -> [String: ModelRegistration] {
        Dictionary(snapshot.models.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
    }

    func put(_ spec: ResourceSpec, _ configuration: ModelRegistration, context: HandlerContext) async throws -> ResourceState {
        guard let model = spec.model else { throw ProviderError("\(spec.address) is not a model", terminal: true) }
        var registration = configuration
        var outputs: [String: String] = [:]
        if model.runtime != nil, let source = model.artifactPath, let sha = model.artifactSHA256 {
            let directory = "\(context.folder.data)/models/\(model.name)"
            let stored = "\(directory)/\(sha).json"
            if !FileManager.default.fileExists(atPath: stored) {
                if let problem = FileCopy.copy(source, to: stored) {
                    throw ProviderError("cannot copy the artifact of model '\(model.name)' from '\(source)' into \(directory): \(problem)", terminal: true)
                }
            }
            registration.artifactPath = stored
            outputs["artifact_path"] = stored
        } else if model.command != nil {
            if let source = model.artifactPath, let sha = model.artifactSHA256 {
                let folder = try await ModelFolder.prepare(source, sha256: sha, model: model.name, under: context.folder.data)
                registration.modelDirectory = folder
                outputs["model_dir"] = folder
            }
            registration.environment = try DeferredValues.resolve(model.environment.deferred, known: model.environment.values,
                                                                  owner: "model '\(model.name)'", context: context.apply)
        }
        _ = try await context.client.put(registration)
        return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: spec.dependencies, outputs: outputs)
    }

    func processRows(in snapshot: EnvironmentSnapshot, now: Double) -> [[String]] {
        snapshot.models.map { ["models.\($0.name)", "-", "-", "-", "-", "registered", "-", "-"] }
    }
}
