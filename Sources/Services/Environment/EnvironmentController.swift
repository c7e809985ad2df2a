import EnvironmentAPI
import Foundation
import NIOCore

/// One model-server process of a variant. Mutated only by the controller actor.
final class Instance: @unchecked Sendable {
    let id: String
    let endpoint: String
    let variant: String
    let model: ModelRegistration
    let logPath: String
    var port = 0
    var pid: Int32 = 0
    var lifecycle = InstanceLifecycle()
    var upstream: Upstream
    var startedAt = 0.0
    var lastExit: String?
    /// A shadow variant's instance runs at idle priority: it never takes CPU from production.
    var idlePriority = false

    init(id: String, endpoint: String, variant: String, model: ModelRegistration, logPath: String) {
        self.id = id
        self.endpoint = endpoint
        self.variant = variant
        self.model = model
        self.logPath = logPath
        self.upstream = Upstream(port: 0, instanceID: id)
    }
}

/// The environment host's brain: keeps model registrations and endpoints, launches and supervises
/// model-server instances, and publishes routes. Level-based: every request says what should be,
/// and the controller converges to it (idempotent, so a retried apply is safe).
public actor EnvironmentController {
    struct EndpointEntry {
        var config: EndpointConfiguration
        /// The registration each variant was started with, by variant name.
        var models: [String: ModelRegistration]
        var instances: [String: [Instance]]
        var capture: CaptureWriter?
        /// Per shadow variant: its comparison and its kept outputs, across configuration changes.
        var shadows: [String: (stats: ShadowStats, outputs: ShadowOutputs)] = [:]
        var rollout: RolloutRun?
    }

    let directory: String
    let table: RouteTable
    let metrics: MetricsRegistry
    let executable: String
    let spawner = ProcessSpawner()
    let startedAt = Date().timeIntervalSince1970
    var awsPort = 0
    var models: [String: ModelRegistration] = [:]
    var probes: [String: String] = [:]
    var endpoints: [String: EndpointEntry] = [:]
    var byPID: [Int32: Instance] = [:]
    var unclaimedExits: [Int32: Int32] = [:]
    var counters: [String: Int] = [:]

    let functions: FunctionHost
    let gateway: GatewayState
    let group: EventLoopGroup
    var functionConfigs: [String: FunctionConfiguration] = [:]

    init(directory: String, table: RouteTable, metrics: MetricsRegistry, executable: String, functions: FunctionHost,
         gateway: GatewayState, group: EventLoopGroup) {
        self.functions = functions
        self.gateway = gateway
        self.group = group
        self.directory = directory
        self.table = table
        self.metrics = metrics
        self.executable = executable
    }

    var gatewayPort = 0
    func setAWSPort(_ port: Int, gateway: Int) { (awsPort, gatewayPort) = (port, gateway) }

    func log(_ message: String) {
        let stamp = ISO8601DateFormatter().string(from: Date())
        print("\(stamp) \(message)")
        fflush(nil)
    }

    // MARK: models

    func putModel(_ registration: ModelRegistration) throws -> ModelRegistration {
        if let runtime = registration.runtime {
            guard let path = registration.artifactPath else {
                throw ControlError(message: "model '\(registration.name)' has no artifact", terminal: true)
            }
            do {
                probes[registration.sha256] = try Runtimes.load(runtime: runtime, path: path).probeCSV
            } catch {
                throw ControlError(message: "\(error)", terminal: true)
            }
        } else if let command = registration.command, let program = command.first {
            guard Self.executable(program, in: registration.workingDirectory ?? directory) != nil else {
                throw ControlError(message: "the command of model '\(registration.name)' names '\(program)', which is not an executable file here or on PATH", terminal: true)
            }
        } else {
            throw ControlError(message: "model '\(registration.name)' has neither a runtime nor a command", terminal: true)
        }
        if models[registration.name] != registration { log("model \(registration.name): registered (sha256 \(registration.sha256.prefix(12)))") }
        models[registration.name] = registration
        return registration
    }

    /// `program` as an absolute path: itself if it contains a slash (relative to `directory`),
    /// else the first match on PATH.
    static func executable(_ program: String, in directory: String) -> String? {
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

    func deleteModel(_ name: String) {
        if models.removeValue(forKey: name) != nil { log("model \(name): removed") }
    }

    // MARK: endpoints

    /// The one variant a multi-model endpoint has, as SageMaker names it.
    static let multiModelVariant = "AllTraffic"

    func putEndpoint(_ requested: EndpointConfiguration) async throws -> EndpointStatus {
        var config = requested
        var resolved: [String: ModelRegistration] = [:]
        if let mm = requested.multiModel {
            // A multi-model endpoint is one variant whose instances run the multi-model server;
            // its identity is the folder, runtime and cache size (a change is blue/green).
            var registration = ModelRegistration(name: "\(requested.name) (multi-model)",
                                                 sha256: "multi-model:\(mm.runtime):\(mm.cacheModels):\(mm.cacheMemoryMB ?? 0):\(mm.directory)",
                                                 runtime: mm.runtime)
            if let server = mm.server {
                // Your own multi-model server: its command, told it serves many models.
                guard var own = models[server], own.command != nil else {
                    throw ControlError(message: "multi-model endpoint \(requested.name) names server model '\(server)', which is not registered with a command", terminal: true)
                }
                guard own.sha256 == mm.serverSHA256 else {
                    throw ControlError(message: "model '\(server)' is registered with different content than endpoint \(requested.name) expects; apply again", terminal: false)
                }
                own.name = registration.name
                own.sha256 = "multi-model:\(own.sha256):\(mm.cacheModels):\(mm.directory)"
                own.environment = (own.environment ?? [:]).merging(["SAGEMAKER_MULTI_MODEL": "true"]) { $1 }
                registration = own
            }
            registration.multiModelDirectory = mm.directory
            registration.cacheModels = mm.cacheModels
            registration.cacheMemoryMB = mm.cacheMemoryMB
            resolved[Self.multiModelVariant] = registration
            config.variants = [VariantConfiguration(name: Self.multiModelVariant, model: registration.name, modelSHA256: registration.sha256,
                                                    weight: 1, instances: mm.instances)]
        }
        for v in config.variants where requested.multiModel == nil {
            guard let model = models[v.model] else {
                throw ControlError(message: "variant '\(v.name)' names model '\(v.model)', which is not registered", terminal: true)
            }
            guard model.sha256 == v.modelSHA256 else {
                throw ControlError(message: "model '\(v.model)' is registered with different content than variant '\(v.name)' expects; apply again", terminal: false)
            }
            resolved[v.name] = model
        }
        let old = endpoints[config.name]
        var keep: [String: [Instance]] = [:]
        var toStart: [Instance] = []
        var toDrain: [Instance] = []
        for v in config.variants {
            let existing = (old?.instances[v.name] ?? []).filter { $0.lifecycle.state != .stopping && $0.lifecycle.state != .stopped }
            // A variant that becomes (or stops being) a shadow gets new instances: shadow
            // instances run at idle priority.
            let samePriority = existing.allSatisfy { $0.idlePriority == (v.shadowSamplePercent != nil) }
            if let before = old?.models[v.name], before == resolved[v.name], samePriority {
                if existing.count >= v.instances {
                    keep[v.name] = Array(existing.prefix(v.instances))
                    toDrain += existing.dropFirst(v.instances)
                } else {
                    let added = (existing.count..<v.instances).map { _ in makeInstance(config.name, v, resolved[v.name]!) }
                    keep[v.name] = existing + added
                    toStart += added
                }
            } else {
                // New variant or new model: blue/green. New instances first, traffic switches
                // once all are healthy, then the old ones drain.
                let fresh = (0..<v.instances).map { _ in makeInstance(config.name, v, resolved[v.name]!) }
                keep[v.name] = fresh
                toStart += fresh
                toDrain += existing
            }
        }
        for (name, instances) in old?.instances ?? [:] where !config.variants.contains(where: { $0.name == name }) {
            toDrain += instances
        }
        if !toStart.isEmpty { log("endpoint \(config.name): starting \(toStart.count) instance(s)") }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for instance in toStart {
                    group.addTask { try await self.launch(instance, timeout: config.healthTimeout) }
                }
                try await group.waitForAll()
            }
        } catch {
            await withTaskGroup(of: Void.self) { group in
                for instance in toStart { group.addTask { await self.stop(instance, drain: false) } }
            }
            throw error
        }
        // A new capture configuration gets a new writer; the old one is drained once no request
        // can still be holding the old route.
        var capture = old?.capture
        var retired: CaptureWriter?
        if old?.config.dataCapture != config.dataCapture {
            retired = old?.capture
            capture = config.dataCapture.map {
                CaptureWriter(endpoint: config.name, directory: "\(directory)/capture/\(config.name)", config: $0,
                              dropped: metrics.captureDroppedCounter(config.name))
            }
        }
        var shadows: [String: (stats: ShadowStats, outputs: ShadowOutputs)] = [:]
        for v in config.variants where v.shadowSamplePercent != nil {
            shadows[v.name] = old?.shadows[v.name] ?? {
                let stats = ShadowStats()
                return (stats, ShadowOutputs(endpoint: config.name, shadow: v.name, directory: "\(directory)/shadow/\(config.name)", stats: stats))
            }()
        }
        let retiredShadows = (old?.shadows ?? [:]).filter { shadows[$0.key] == nil }.map(\.value.outputs)
        // A rollout goes on across applies that leave it alone; a new model or new rollout
        // settings start it again from its first step.
        var rollout: RolloutRun?
        if let v = config.variants.first(where: { $0.rollout != nil }), let settings = v.rollout {
            if let run = old?.rollout, run.variant == v.name, run.progress.config == settings, run.model == resolved[v.name] {
                rollout = run
            } else {
                let run = RolloutRun(variant: v.name, model: resolved[v.name], config: settings, now: Date().timeIntervalSince1970,
                                     metrics: metrics.variant(config.name, v.name))
                let note = "started: step 1 of \(settings.steps.count) (\(formatWeight(settings.steps[0]))%), \(formatWeight(settings.bakeSeconds))s each"
                run.history.append("\(Self.stamp()) \(note)")
                recordEvent("RolloutStarted", endpoint: config.name, variant: v.name, detail: note)
                rollout = run
            }
        }
        endpoints[config.name] = EndpointEntry(config: config, models: resolved, instances: keep, capture: capture, shadows: shadows, rollout: rollout)
        publish(config.name)
        for outputs in retiredShadows { DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { outputs.close() } }
        if let retired { retire(retired) }
        if !toDrain.isEmpty {
            log("endpoint \(config.name): draining \(toDrain.count) instance(s)")
            await withTaskGroup(of: Void.self) { group in
                for instance in toDrain { group.addTask { await self.stop(instance, drain: true) } }
            }
        }
        log("endpoint \(config.name): serving \(config.variants.map { "\($0.name)=\(formatWeight($0.weight))x\($0.instances)" }.joined(separator: " "))")
        return status(config.name)!
    }

    func deleteEndpoint(_ name: String) async {
        guard let entry = endpoints.removeValue(forKey: name) else { return }
        table.set(nil, for: name)
        metrics.drop(endpoint: name)
        if let capture = entry.capture { retire(capture) }
        for shadow in entry.shadows.values { shadowOutputsClosing.append(shadow.outputs) }
        await withTaskGroup(of: Void.self) { group in
            for instance in entry.instances.values.joined() { group.addTask { await self.stop(instance, drain: true) } }
        }
        log("endpoint \(name): deleted")
    }

    /// Stops every instance; the host exits afterwards.
    func shutdown() async {
        let all = endpoints.values.flatMap { $0.instances.values.joined() }
        for name in endpoints.keys { table.set(nil, for: name) }
        // Nothing captured is lost on a clean shutdown.
        for entry in endpoints.values { entry.capture?.close() }
        for writer in retiring.values { writer.close() }
        retiring = [:]
        for entry in endpoints.values { for shadow in entry.shadows.values { shadow.outputs.close() } }
        for outputs in shadowOutputsClosing { outputs.close() }
        endpoints = [:]
        for pool in functions.all { pool.killAll() }
        gateway.shutdown()
        await withTaskGroup(of: Void.self) { group in
            for instance in all { group.addTask { await self.stop(instance, drain: false) } }
        }
        log("environment stopped")
    }

    /// Writers taken out of routes but not yet drained.
    var retiring: [ObjectIdentifier: CaptureWriter] = [:]
    /// Shadow outputs of deleted endpoints: drained on shutdown (their timers keep flushing before).
    var shadowOutputsClosing: [ShadowOutputs] = []

    /// Drains a capture writer after a moment, so requests that read the old route still land;
    /// a shutdown in the meantime drains it at once.
    func retire(_ writer: CaptureWriter) {
        retiring[ObjectIdentifier(writer)] = writer
        Task {
            try? await Task.sleep(nanoseconds: 200_000_000)
            await self.finishRetiring(writer)
        }
    }

    func finishRetiring(_ writer: CaptureWriter) {
        guard retiring.removeValue(forKey: ObjectIdentifier(writer)) != nil else { return }
        writer.close()
    }

    func makeInstance(_ endpoint: String, _ v: VariantConfiguration, _ model: ModelRegistration) -> Instance {
        let key = "\(endpoint)/\(v.name)"
        let n = counters[key, default: 0] + 1
        counters[key] = n
        let id = "\(v.name)-\(n)"
        let instance = Instance(id: id, endpoint: endpoint, variant: v.name, model: model,
                                logPath: "\(directory)/logs/endpoints.\(endpoint)/\(id).log")
        instance.idlePriority = v.shadowSamplePercent != nil
        return instance
    }

    /// Routes every healthy instance of the endpoint, replacing the previous entry atomically.
    func publish(_ endpoint: String) {
        guard let entry = endpoints[endpoint] else {
            table.set(nil, for: endpoint)
            return
        }
        let weights = entry.rollout.map { run in
            run.progress.weights(declared: entry.config.variants.filter { $0.shadowSamplePercent == nil }.map { ($0.name, $0.weight) },
                                 rollingOut: run.variant)
        }
        func route(_ v: VariantConfiguration) -> VariantRoute {
            VariantRoute(name: v.name, weight: weights?[v.name] ?? v.weight,
                         upstreams: (entry.instances[v.name] ?? []).filter { $0.lifecycle.state == .healthy }.map(\.upstream),
                         metrics: metrics.variant(endpoint, v.name))
        }
        let production = entry.config.variants.filter { $0.shadowSamplePercent == nil }.map(route)
        let shadows = entry.config.variants.compactMap { v -> ShadowRoute? in
            guard let percent = v.shadowSamplePercent, let s = entry.shadows[v.name] else { return nil }
            return ShadowRoute(variant: route(v), samplePercent: percent, stats: s.stats, outputs: s.outputs)
        }
        let loader = entry.config.multiModel.flatMap { mm in
            mm.server == nil ? nil : ModelLoading(directory: mm.directory, capacity: mm.cacheModels)
        }
        table.set(EndpointRoute(name: endpoint, variants: production, refused: metrics.refusedCounter(endpoint), capture: entry.capture,
                                shadows: shadows, multiModel: entry.config.multiModel != nil, loader: loader), for: endpoint)
    }

    // MARK: processes

    func launch(_ instance: Instance, timeout: Double) async throws {
        guard let port = LoopbackHTTP.freePort() else { throw ControlError(message: "no free port on 127.0.0.1", terminal: false) }
        instance.port = port
        instance.upstream = Upstream(port: port, instanceID: instance.id)
        var environment = ProcessInfo.processInfo.environment.filter { ["PATH", "HOME", "LANG", "TMPDIR"].contains($0.key) }
        environment["SAGEMAKER_BIND_TO_PORT"] = String(port)
        let model = instance.model
        let program: String, arguments: [String], workingDirectory: String?
        if let command = model.command {
            for (k, v) in model.environment ?? [:] { environment[k] = v }
            workingDirectory = model.workingDirectory
            guard let path = Self.executable(command[0], in: model.workingDirectory ?? directory) else {
                throw ControlError(message: "'\(command[0])' is not an executable file here or on PATH", terminal: true)
            }
            (program, arguments) = (path, Array(command.dropFirst()))
        } else if let directory = model.multiModelDirectory, model.command == nil {
            workingDirectory = nil
            (program, arguments) = (executable, ["serve", "multi-model", "--runtime", model.runtime ?? "linear", "--artifacts", directory,
                                                 "--cache-models", String(model.cacheModels ?? 100)]
                                                + (model.cacheMemoryMB.map { ["--cache-memory-mb", String($0)] } ?? []))
        } else {
            let artifact = model.artifactPath ?? ""
            environment["SM_MODEL_DIR"] = (artifact as NSString).deletingLastPathComponent
            environment["MLGW_MODEL_ARTIFACT"] = artifact
            workingDirectory = nil
            (program, arguments) = (executable, ["serve", "model", "--runtime", model.runtime ?? "linear", "--artifact", artifact])
        }
        let pid = try await spawner.spawn(program, arguments: arguments, environment: environment,
                                          workingDirectory: workingDirectory, logPath: instance.logPath, idlePriority: instance.idlePriority)
        instance.pid = pid
        instance.startedAt = Date().timeIntervalSince1970
        byPID[pid] = instance
        if let status = unclaimedExits.removeValue(forKey: pid) { processExited(pid: pid, status: status) }
        try await waitHealthy(instance, timeout: instance.model.startupTimeout ?? timeout)
        instance.lifecycle.becameHealthy()
    }

    func waitHealthy(_ instance: Instance, timeout: Double) async throws {
        let pid = instance.pid
        let deadline = Date().addingTimeInterval(timeout)
        // Built-in runtimes get a row of zeros; a server gets its declared probe, or /ping alone.
        var probe: ModelRegistration.Probe?
        if let path = instance.model.artifactPath {
            let csv = probes[instance.model.sha256] ?? (try? Runtimes.load(runtime: instance.model.runtime ?? "linear", path: path).probeCSV) ?? "0"
            probe = ModelRegistration.Probe(contentType: "text/csv", body: csv)
        } else {
            probe = instance.model.probe
        }
        while Date() < deadline {
            guard instance.pid == pid, byPID[pid] === instance else {
                throw ControlError(message: "model server \(instance.endpoint)/\(instance.id) \(instance.lastExit ?? "exited") before becoming healthy\(logTail(instance))", terminal: false)
            }
            if let ping = try? await LoopbackHTTP.send("GET", port: instance.port, path: "/ping", timeout: 2), ping.status == 200 {
                guard let probe else { return }
                let answer = try? await LoopbackHTTP.send("POST", port: instance.port, path: "/invocations",
                                                          headers: ["Content-Type": probe.contentType], body: Array(probe.body.utf8), timeout: 10)
                if let answer, (200..<300).contains(answer.status) { return }
                throw ControlError(message: "model server \(instance.endpoint)/\(instance.id) answers /ping but its probe inference failed: \(answer.map { "HTTP \($0.status): \($0.text)" } ?? "no answer")\(logTail(instance))", terminal: true)
            }
            try await Task.sleep(nanoseconds: 30_000_000)
        }
        throw ControlError(message: "model server \(instance.endpoint)/\(instance.id) did not become healthy within \(formatWeight(timeout))s\(logTail(instance))", terminal: false)
    }

    func logTail(_ instance: Instance) -> String {
        guard let text = try? String(contentsOfFile: instance.logPath, encoding: .utf8) else { return "" }
        let lines = text.split(separator: "\n").suffix(10)
        return lines.isEmpty ? "" : "\n  last lines of \(instance.logPath):\n    " + lines.joined(separator: "\n    ")
    }

    func processExited(pid: Int32, status: Int32) {
        guard let instance = byPID.removeValue(forKey: pid) else {
            unclaimedExits[pid] = status
            return
        }
        instance.lastExit = ChildReaper.describe(status)
        let wasRouted = instance.lifecycle.state == .healthy
        switch instance.lifecycle.processExited() {
        case .restart(let delay):
            log("endpoint \(instance.endpoint): instance \(instance.id) (pid \(pid)) \(instance.lastExit!); restart #\(instance.lifecycle.restarts) in \(delay)s")
            if wasRouted { publish(instance.endpoint) }
            Task {
                try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                await self.restart(instance)
            }
        case .launchFailed:
            log("endpoint \(instance.endpoint): instance \(instance.id) (pid \(pid)) \(instance.lastExit!) during its first start")
        case .stopped, .none:
            break
        }
    }

    func restart(_ instance: Instance) async {
        guard instance.lifecycle.state == .restarting,
              endpoints[instance.endpoint]?.instances[instance.variant]?.contains(where: { $0 === instance }) == true else { return }
        instance.lifecycle.relaunched()
        do {
            try await launch(instance, timeout: 60)
            publish(instance.endpoint)
            log("endpoint \(instance.endpoint): instance \(instance.id) restarted (pid \(instance.pid), port \(instance.port))")
        } catch {
            log("endpoint \(instance.endpoint): restart of \(instance.id) failed: \(error)")
            if byPID[instance.pid] === instance {
                kill(instance.pid, SIGKILL)   // its exit schedules the next attempt
            } else if instance.lifecycle.state == .starting {
                // Nothing was launched (no port, spawn failed): try again later.
                _ = instance.lifecycle.processExited()
                Task {
                    try? await Task.sleep(nanoseconds: 1_000_000_000)
                    await self.restart(instance)
                }
            }
        }
    }

    /// Stops an instance: out of the routes first, then (when draining) until it has answered what
    /// it was given, then SIGTERM, and SIGKILL if it lingers.
    func stop(_ instance: Instance, drain: Bool) async {
        instance.lifecycle.stopRequested()
        if drain {
            // A request may have picked this instance just before the route swap: give it a moment
            // to register, then wait for everything in flight.
            try? await Task.sleep(nanoseconds: 50_000_000)
            let deadline = Date().addingTimeInterval(30)
            while instance.upstream.inflight.load(ordering: .relaxed) > 0, Date() < deadline {
                try? await Task.sleep(nanoseconds: 10_000_000)
            }
        }
        let pid = instance.pid
        guard pid > 0, byPID[pid] === instance else { return }
        kill(pid, SIGTERM)
        if await waitExit(instance, pid: pid, seconds: 5) { return }
        kill(pid, SIGKILL)
        _ = await waitExit(instance, pid: pid, seconds: 2)
    }

    func waitExit(_ instance: Instance, pid: Int32, seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while byPID[pid] === instance {
            if Date() >= deadline { return false }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return true
    }

    // MARK: rollouts

    /// One look at every progressing rollout: level-based, run every 200 ms by the host.
    func tickRollouts() {
        let now = Date().timeIntervalSince1970
        for (name, entry) in endpoints {
            guard let run = entry.rollout, case .stepping = run.progress.phase else { continue }
            let m = metrics.variant(name, run.variant)
            let seen = run.sinceStep(m)
            let decision = run.progress.evaluate(now: now, requests: seen.requests, errors: seen.errors, p99Ms: seen.p99Ms)
            let note: String
            let event: String
            switch decision {
            case .none:
                continue
            case .advanced(let step):
                note = "step \(step + 1) of \(run.progress.config.steps.count): \(formatWeight(run.progress.share))% of traffic"
                event = "RolloutStepAdvanced"
                run.rebase(m)
            case .completed:
                note = "completed at \(formatWeight(run.progress.share))% of traffic"
                event = "RolloutCompleted"
            case .rolledBack(let reason):
                note = "rolled back: \(reason)"
                event = "RolloutRolledBack"
            }
            run.history.append("\(Self.stamp()) \(note)")
            log("endpoint \(name): rollout of \(run.variant) \(note)")
            recordEvent(event, endpoint: name, variant: run.variant, detail: note)
            publish(name)
        }
    }

    /// Appends an event to `events.jsonl` in the environment folder.
    func recordEvent(_ type: String, endpoint: String, variant: String, detail: String) {
        let line = "{\"time\":\(jsonString(Self.stamp())),\"type\":\(jsonString(type)),\"endpoint\":\(jsonString(endpoint)),\"variant\":\(jsonString(variant)),\"detail\":\(jsonString(detail))}\n"
        let fd = open(directory + "/events.jsonl", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = line.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }

    static func stamp() -> String { ISO8601DateFormatter().string(from: Date()) }

    // MARK: reading

    func status(_ name: String) -> EndpointStatus? {
        guard let entry = endpoints[name] else { return nil }
        let shadows = entry.config.variants.compactMap { v in entry.shadows[v.name].map { $0.stats.summary(shadow: v.name) } }
        return EndpointStatus(name: name, multiModel: entry.config.multiModel, captured: entry.capture?.captured.load(ordering: .relaxed),
                              captureDropped: entry.capture.map { _ in metrics.captureDroppedCounter(name).load(ordering: .relaxed) },
                              shadows: shadows.isEmpty ? nil : shadows,
                              variants: entry.config.variants.map { v in
            VariantStatus(name: v.name, model: v.model, modelSHA256: entry.models[v.name]?.sha256 ?? v.modelSHA256, weight: v.weight,
                          desiredInstances: v.instances,
                          instances: (entry.instances[v.name] ?? []).map(Self.instanceStatus),
                          metrics: metrics.summary(name, v.name), shadowSamplePercent: v.shadowSamplePercent,
                          rollout: entry.rollout.flatMap { $0.variant == v.name ? $0.status : nil })
        })
    }

    static func instanceStatus(_ i: Instance) -> InstanceStatus {
        let state: InstanceStatus.State
        switch i.lifecycle.state {
        case .starting: state = i.lifecycle.everHealthy ? .restarting : .starting
        case .healthy: state = .healthy
        case .restarting: state = .restarting
        case .stopping, .stopped: state = .draining
        case .failed: state = .failed
        }
        return InstanceStatus(id: i.id, pid: i.pid, port: i.port, state: state, restarts: i.lifecycle.restarts,
                              startedAt: i.startedAt, lastExit: i.lastExit)
    }

    func snapshot() -> EnvironmentSnapshot {
        var s = EnvironmentSnapshot(pid: getpid(), awsPort: awsPort, startedAt: startedAt,
                                    models: models.values.sorted { $0.name < $1.name },
                                    endpoints: endpoints.keys.sorted().compactMap(status))
        s.gatewayPort = gatewayPort
        s.functions = functionConfigs.keys.sorted().compactMap { functions.status($0) }
        gateway.describe(into: &s)
        return s
    }
}

func formatWeight(_ w: Double) -> String {
    w == w.rounded() && abs(w) < 1e15 ? String(Int64(w)) : String(w)
}
