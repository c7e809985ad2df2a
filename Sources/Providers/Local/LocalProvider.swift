import EnvironmentAPI
import Foundation
import Reconciler
import Spec

/// The local provider: resources become real processes on this machine, run by one environment
/// host per environment. This type launches and wires; the host (module Services) serves.
public struct LocalProvider: Provider {
    public var folder: EnvironmentFolder
    /// The `mlgw-deploy` binary, which also runs the host and the model servers (`serve ...`).
    public var executable: String

    /// The host found or started by `prepare`, so that each change does not look it up again.
    let known = KnownHost()

    public init(folder: EnvironmentFolder, executable: String) {
        self.folder = folder
        self.executable = executable
    }

    var host: HostProcess { HostProcess(folder: folder, executable: executable) }

    func client() throws -> HostClient {
        if let port = known.controlPort { return HostClient(controlPort: port) }
        guard let info = host.running() else { throw ProviderError("the environment host is not running; run apply again to start it") }
        known.controlPort = info.controlPort
        return HostClient(controlPort: info.controlPort)
    }

    /// The host's view of what runs, or nil when no host runs.
    public func snapshot() async -> EnvironmentSnapshot? {
        guard let info = host.running() else { return nil }
        return try? await HostClient(controlPort: info.controlPort).call("GET", "/snapshot", as: EnvironmentSnapshot.self)
    }

    public func observe(_ state: StackState?) async throws -> Observation {
        guard let state, !state.resources.isEmpty, let snapshot = await snapshot() else { return Observation() }
        var observed: [ResourceAddress: ObservedResource] = [:]
        for m in snapshot.models {
            // What the host can vouch for: the model's identity hash, under the attribute name
            // the stack uses for it.
            let recorded = state.resources[ResourceAddress(.model, m.name)]?.attributes ?? [:]
            let key = recorded["server_sha256"] != nil ? "server_sha256" : "artifact_sha256"
            observed[ResourceAddress(.model, m.name)] = ObservedResource(attributes: [key: .string(m.sha256)])
        }
        for e in snapshot.endpoints {
            var a: Attributes = [:]
            if let mm = e.multiModel {
                // The host knows the folder by its absolute path; what it can vouch for in the
                // stack's terms is the instance count.
                a["instances"] = .number(Double(mm.instances))
                observed[ResourceAddress(.endpoint, e.name)] = ObservedResource(attributes: a)
                continue
            }
            for v in e.variants {
                let p = "variants.\(v.name)."
                a[p + "model"] = .string(v.model)
                a[p + "model_sha256"] = .string(v.modelSHA256)
                if let shadow = v.shadowSamplePercent {
                    a[p + "shadow_sample_percent"] = .number(shadow)
                } else if let r = v.rollout?.config {
                    // The configured rollout, not where it stands: progress is not drift.
                    let rollout = Rollout(steps: r.steps, bakeSeconds: r.bakeSeconds, maxErrorRate: r.maxErrorRate,
                                          maxP99LatencyMs: r.maxP99LatencyMs, minRequests: r.minRequests)
                    a.merge(rollout.attributes(prefix: p + "rollout.")) { $1 }
                } else {
                    a[p + "weight"] = .number(v.weight)
                }
                a[p + "instances"] = .number(Double(v.desiredInstances))
            }
            observed[ResourceAddress(.endpoint, e.name)] = ObservedResource(attributes: a)
        }
        for f in snapshot.functions ?? [] {
            observed[ResourceAddress(.function, f.name)] = ObservedResource(attributes: ["code_sha256": .string(f.codeSHA256)])
        }
        // The gateway's parts: the host vouches that they exist (their settings are only ever set by apply).
        for name in snapshot.stages?.map(\.name) ?? [] { observed[ResourceAddress(.stage, name)] = ObservedResource(attributes: [:]) }
        for name in snapshot.apiKeys ?? [] { observed[ResourceAddress(.apiKey, name)] = ObservedResource(attributes: [:]) }
        for name in snapshot.usagePlans?.map(\.name) ?? [] { observed[ResourceAddress(.usagePlan, name)] = ObservedResource(attributes: [:]) }
        return Observation(resources: observed)
    }

    public func prepare(_ plan: Plan, context: ApplyContext) async throws -> [String: String] {
        let info: EnvironmentInfo
        if let running = host.running() {
            info = running
        } else {
            info = try await host.start(port: context.local.port, gatewayPort: context.local.gatewayPort)
        }
        known.controlPort = info.controlPort
        var attributes = ["aws_endpoint_url": "http://127.0.0.1:\(info.awsPort)", "metrics_url": "http://127.0.0.1:\(info.awsPort)/metrics",
                          "host_pid": String(info.pid), "control_port": String(info.controlPort)]
        if let port = info.gatewayPort { attributes["gateway_url"] = "http://127.0.0.1:\(port)" }
        return attributes
    }

    public func create(_ spec: ResourceSpec, context: ApplyContext) async throws -> ResourceState {
        switch spec.body {
        case .model(let model): return try await putModel(model, spec: spec, context: context)
        case .endpoint(let endpoint): return try await putEndpoint(endpoint, spec: spec, context: context)
        case .function(let function): return try await putFunction(function, spec: spec, context: context)
        case .stage(let stage): return try await putStage(stage, spec: spec, context: context)
        case .apiKey(let key):
            let config = APIKeyConfiguration(name: key.name, valueSHA256: key.valueSHA256, usagePlan: key.usagePlan, enabled: key.enabled)
            _ = try await client().call("PUT", "/gateway/api-keys/\(key.name)", body: config, as: [String: String].self)
            return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: spec.dependencies)
        case .usagePlan(let plan):
            let config = UsagePlanConfiguration(name: plan.name, throttle: plan.throttle, quotaLimit: plan.quotaLimit,
                                                quotaPeriod: plan.quotaPeriod?.rawValue, stages: plan.stages, routeThrottles: plan.routeThrottles)
            _ = try await client().call("PUT", "/gateway/usage-plans/\(plan.name)", body: config, as: [String: String].self)
            return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: spec.dependencies)
        }
    }

    public func update(_ current: ResourceState, to spec: ResourceSpec, context: ApplyContext) async throws -> ResourceState {
        try await create(spec, context: context)
    }

    public func delete(_ current: ResourceState, context: ApplyContext) async throws {
        // Nothing to do when the host is gone: its processes went with it.
        guard let client = try? client() else { return }
        switch current.address.kind {
        case .model: _ = try await client.call("DELETE", "/models/\(current.address.name)", as: [String: String].self)
        case .endpoint: _ = try await client.call("DELETE", "/endpoints/\(current.address.name)", timeout: 60, as: [String: String].self)
        case .function: _ = try await client.call("DELETE", "/functions/\(current.address.name)", as: [String: String].self)
        case .stage: _ = try await client.call("DELETE", "/gateway/stages/\(current.address.name)", as: [String: String].self)
        case .apiKey: _ = try await client.call("DELETE", "/gateway/api-keys/\(current.address.name)", as: [String: String].self)
        case .usagePlan: _ = try await client.call("DELETE", "/gateway/usage-plans/\(current.address.name)", as: [String: String].self)
        }
    }

    public func finish(_ state: StackState) async throws {
        guard state.resources.isEmpty else { return }
        known.controlPort = nil
        await host.stop()
        try? FileManager.default.removeItem(atPath: folder.data)
    }

    /// A built-in runtime's artifact is copied into the environment (content-addressed, so a
    /// running model never sees its source file edited) and registered; copies stay until the
    /// environment is destroyed, so an instance that restarts finds the artifact it started with.
    /// A bring-your-own server is registered as its command, run from the stack's folder.
    func putModel(_ model: Model, spec: ResourceSpec, context: ApplyContext) async throws -> ResourceState {
        var registration = ModelRegistration(name: model.name, sha256: model.contentSHA256)
        var outputs: [String: String] = [:]
        if let runtime = model.runtime, let source = model.artifactPath, let sha = model.artifactSHA256 {
            let directory = "\(folder.data)/models/\(model.name)"
            let stored = "\(directory)/\(sha).json"
            if !FileManager.default.fileExists(atPath: stored) {
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                    let temp = stored + ".tmp"
                    try? FileManager.default.removeItem(atPath: temp)
                    try FileManager.default.copyItem(atPath: source, toPath: temp)
                    try FileManager.default.moveItem(atPath: temp, toPath: stored)
                } catch {
                    throw ProviderError("cannot copy the artifact of model '\(model.name)' from '\(source)': \(error)", terminal: true)
                }
            }
            registration.runtime = runtime.rawValue
            registration.artifactPath = stored
            outputs["artifact_path"] = stored
        } else if let command = model.command {
            registration.command = command
            var environment = model.environment
            for (key, template) in model.deferredEnvironment {
                environment[key] = try Self.resolve(template, key: key, owner: "model '\(model.name)'", context: context)
            }
            registration.environment = environment
            registration.workingDirectory = model.workingDirectory
            registration.startupTimeout = model.startupTimeout
            registration.probe = model.probe.map { ModelRegistration.Probe(contentType: $0.contentType, body: $0.body) }
        }
        _ = try await client().call("PUT", "/models/\(model.name)", body: registration, as: ModelRegistration.self)
        return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: [], outputs: outputs)
    }

    /// A value known only after apply, from what is applied now: the dependencies' recorded
    /// outputs and attributes, and the environment's attributes.
    static func resolve(_ template: Template, key: String, owner: String, context: ApplyContext) throws -> String {
        let result = try? template.evaluate { path -> Resolution in
            if path.first == "environment", path.count == 2 {
                if path[1] == "name" { return .value(.string(context.environment), sensitive: false) }
                return context.environmentAttributes[path[1]].map { .value(.string($0), sensitive: false) } ?? .knownAfterApply
            }
            if path.first == "stack" { return .value(.string(context.stack), sensitive: false) }
            guard path.count == 3, let kind = ResourceKind(rawValue: path[0]) else { return .knownAfterApply }
            guard let state = context.resources[ResourceAddress(kind, path[1])] else { return .knownAfterApply }
            if path[2] == "name" { return .value(.string(path[1]), sensitive: false) }
            if let v = state.outputs[path[2]] { return .value(.string(v), sensitive: false) }
            if case .string(let s)? = state.attributes[path[2]] { return .value(.string(s), sensitive: false) }
            return .knownAfterApply
        }
        guard case .value(let v, _)? = result else {
            throw ProviderError("environment variable '\(key)' of \(owner) references a value that is not known yet", terminal: true)
        }
        return v.description
    }

    func putEndpoint(_ endpoint: Endpoint, spec: ResourceSpec, context: ApplyContext) async throws -> ResourceState {
        let variants = endpoint.variants.map { v in
            VariantConfiguration(name: v.name, model: v.model, modelSHA256: spec.attributes["variants.\(v.name).model_sha256"].flatMap {
                if case .string(let s) = $0 { return s } else { return nil }
            } ?? "", weight: v.weight, instances: v.instances, shadowSamplePercent: v.shadowSamplePercent,
            rollout: v.rollout.map { RolloutConfiguration(steps: $0.steps, bakeSeconds: $0.bakeSeconds, maxErrorRate: $0.maxErrorRate,
                                                            maxP99LatencyMs: $0.maxP99LatencyMs, minRequests: $0.minRequests) })
        }
        let capture = endpoint.dataCapture.map {
            CaptureConfiguration(samplePercent: $0.samplePercent, captureInput: $0.modes.contains(.input), captureOutput: $0.modes.contains(.output),
                                 csvContentTypes: $0.csvContentTypes, jsonContentTypes: $0.jsonContentTypes)
        }
        let multi = endpoint.multiModel.map {
            MultiModelConfiguration(directory: $0.artifactsPath, runtime: $0.runtime.rawValue, cacheModels: $0.cacheModels,
                                    cacheMemoryMB: $0.cacheMemoryMB, instances: $0.instances, server: $0.server,
                                    serverSHA256: spec.attributes["multi_model.server_sha256"].flatMap { if case .string(let s) = $0 { return s } else { return nil } })
        }
        let config = EndpointConfiguration(name: endpoint.name, variants: variants, healthTimeout: context.local.healthTimeoutSeconds,
                                           dataCapture: capture, multiModel: multi)
        let status = try await client().call("PUT", "/endpoints/\(endpoint.name)", body: config,
                                            timeout: max(context.local.healthTimeoutSeconds, 600) * 2, as: EndpointStatus.self)
        let processes = status.variants.flatMap { v in
            v.instances.map { ProcessRecord(role: "model-server", variant: v.name, pid: $0.pid, port: $0.port, startedAt: $0.startedAt) }
        }
        let base = context.environmentAttributes["aws_endpoint_url"] ?? ""
        return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: spec.dependencies,
                             outputs: ["url": "\(base)/endpoints/\(endpoint.name)/invocations"], processes: processes)
    }
}

extension LocalProvider {
    /// A function's workers run its handler with the bundled Python runtime, or its own command;
    /// apply returns once the provisioned ones are warm.
    func putFunction(_ f: Function, spec: ResourceSpec, context: ApplyContext) async throws -> ResourceState {
        var environment = f.environment.values
        for (key, template) in f.environment.deferred {
            environment[key] = try Self.resolve(template, key: key, owner: "function '\(f.name)'", context: context)
        }
        let config = FunctionConfiguration(
            name: f.name, handler: f.handler, command: f.command ?? [], environment: environment, workingDirectory: f.codeDirectory,
            codeSHA256: f.codeSHA256, timeout: f.timeout, memoryMB: f.memoryMB, provisionedConcurrency: f.provisionedConcurrency,
            reservedConcurrency: f.reservedConcurrency, maxRetries: f.async.maxRetries, retryDelay: f.async.retryDelay,
            maxEventAge: f.async.maxEventAge, initTimeout: context.local.healthTimeoutSeconds)
        let status = try await client().call("PUT", "/functions/\(f.name)", body: config,
                                            timeout: context.local.healthTimeoutSeconds * 2 + 30, as: FunctionStatus.self)
        let processes = status.workers.map { ProcessRecord(role: "function-worker", variant: nil, pid: $0.pid, port: 0, startedAt: Date().timeIntervalSince1970) }
        return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: spec.dependencies,
                             outputs: ["arn": status.arn], processes: processes)
    }

    /// A stage's routes, CORS, limits and the authorizers it uses: swapped in place.
    func putStage(_ stage: Stage, spec: ResourceSpec, context: ApplyContext) async throws -> ResourceState {
        let config = StageConfiguration(name: stage.name, routes: stage.routes, cors: stage.cors, maxBodyBytes: stage.maxBodyBytes,
                                        throttle: stage.throttle, authorizers: stage.authorizers)
        _ = try await client().call("PUT", "/gateway/stages/\(stage.name)", body: config, as: [String: String].self)
        let base = context.environmentAttributes["gateway_url"] ?? ""
        return ResourceState(address: spec.address, attributes: spec.attributes, dependencies: spec.dependencies,
                             outputs: ["url": "\(base)/\(stage.name)"])
    }
}

/// The control port of the host this command talks to, once known.
final class KnownHost: @unchecked Sendable {
    private let lock = NSLock()
    private var port: Int?

    var controlPort: Int? {
        get { lock.lock(); defer { lock.unlock() }; return port }
        set { lock.lock(); port = newValue; lock.unlock() }
    }
}
