import EnvironmentAPI
import Foundation
import NIOCore

/// One model-server process of a variant. Mutated only by the endpoint service's actor.
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
    /// When a restart after an exit is due, on the host's clock.
    var restartAt: Date?
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

/// The endpoints collection: launches and supervises model-server instances and publishes
/// routes. Level-based: every PUT says what should be, and the service converges to it
/// (idempotent, so a retried apply is safe); `reconcile` restarts instances whose backoff is
/// over and moves rollouts along, on the host's clock.
actor EndpointService: EnvironmentService {
    struct EndpointEntry {
        /// What runs: the stack's configuration with managed instance counts in place.
        var config: EndpointConfiguration
        /// The configuration as the stack put it (a released managed count goes back to it).
        var requested: EndpointConfiguration
        /// The registration each variant was started with, by variant name.
        var models: [String: ModelRegistration]
        var instances: [String: [Instance]]
        var capture: CaptureWriter?
        /// Per shadow variant: its comparison and its kept outputs, across configuration changes.
        var shadows: [String: (stats: ShadowStats, outputs: ShadowOutputs)] = [:]
        var rollout: RolloutRun?
    }

    nonisolated let name = "endpoints"
    let directory: String
    let table: RouteTable
    let metrics: MetricsRegistry
    let executable: String
    let spawner: ProcessSpawner
    let models: ModelRegistry
    let supervisor: Supervisor
    var clock: any HostClock { supervisor.clock }
    var endpoints: [String: EndpointEntry] = [:]
    var byPID: [Int32: Instance] = [:]
    /// Exits reported before `launch` recorded the process (it died at once).
    var unclaimedExits: [Int32: Int32] = [:]
    var counters: [String: Int] = [:]
    /// Capture writers out of the routes, closed once no request can still hold the old route.
    var retiringWriters: [(writer: CaptureWriter, at: Date)] = []
    /// Shadow outputs of removed shadows, closed a moment later.
    var closingOutputs: [(outputs: ShadowOutputs, at: Date)] = []
    /// Instance counts a scaling policy manages, by endpoint and variant: they win over the
    /// count a PUT carries, so an apply never fights the autoscaler.
    var managed: [String: [String: Int]] = [:]
    /// Puts of one endpoint (an apply's, a scaling policy's) run one at a time, in order.
    var serials: [String: AsyncSerial] = [:]

    init(directory: String, table: RouteTable, metrics: MetricsRegistry, executable: String, spawner: ProcessSpawner,
         models: ModelRegistry, supervisor: Supervisor) {
        self.directory = directory
        self.table = table
        self.metrics = metrics
        self.executable = executable
        self.spawner = spawner
        self.models = models
        self.supervisor = supervisor
    }

    nonisolated func register(on router: ControlRouter) {
        router.on(EndpointConfiguration.self, put: { [self] c in try await serial(c.name).run { try await self.put(c) } },
                  delete: { [self] name in await serial(name).run { await self.delete(name) } })
    }

    func serial(_ name: String) -> AsyncSerial {
        if let s = serials[name] { return s }
        let s = AsyncSerial()
        serials[name] = s
        return s
    }

    /// Sets (or, with nil, releases) the instance count a scaling policy manages for a variant,
    /// and converges the endpoint to it through the same path as an apply: new instances healthy
    /// before they get traffic, removed ones out of the route and drained. Released, the
    /// variant goes back to the count the stack put.
    func setManaged(_ endpoint: String, _ variant: String, count: Int?) async throws {
        try await serial(endpoint).run {
            try await self.applyManaged(endpoint, variant, count: count)
        }
    }

    private func applyManaged(_ endpoint: String, _ variant: String, count: Int?) async throws {
        managed[endpoint, default: [:]][variant] = count
        if managed[endpoint]?.isEmpty == true { managed[endpoint] = nil }
        guard let entry = endpoints[endpoint] else { return }
        _ = try await put(entry.requested)
    }

    /// The variant's instance count as it runs (managed or the stack's), and its healthy instances' pids.
    func capacity(_ endpoint: String, _ variant: String) -> (desired: Int, healthy: Int, pids: [Int32])? {
        guard let entry = endpoints[endpoint], let v = entry.config.variants.first(where: { $0.name == variant }) else { return nil }
        let healthy = (entry.instances[variant] ?? []).filter { $0.lifecycle.state == .healthy }
        return (v.instances, healthy.count, healthy.map(\.pid))
    }

    func log(_ message: String) { HostLog.write(message) }

    // MARK: converging

    /// The one variant a multi-model endpoint has, as SageMaker names it.
    static let multiModelVariant = "AllTraffic"

    /// The registration each variant runs: for a multi-model endpoint, one variant whose
    /// instances run the multi-model server (its identity is the folder, runtime and cache size,
    /// so a change is blue/green).
    func resolveModels(_ requested: EndpointConfiguration) throws -> (EndpointConfiguration, [String: ModelRegistration]) {
        var config = requested
        var resolved: [String: ModelRegistration] = [:]
        if let mm = requested.multiModel {
            var registration = ModelRegistration(name: "\(requested.name) (multi-model)",
                                                 sha256: "multi-model:\(mm.runtime.rawValue):\(mm.cacheModels):\(mm.cacheMemoryMB ?? 0):\(mm.directory)",
                                                 runtime: mm.runtime)
            if let server = mm.server {
                // Your own multi-model server: its command, told it serves many models.
                guard var own = models.model(server), own.command != nil else {
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
            return (config, resolved)
        }
        for v in config.variants {
            guard let model = models.model(v.model) else {
                throw ControlError(message: "variant '\(v.name)' names model '\(v.model)', which is not registered", terminal: true)
            }
            guard model.sha256 == v.modelSHA256 else {
                throw ControlError(message: "model '\(v.model)' is registered with different content than variant '\(v.name)' expects; apply again", terminal: false)
            }
            resolved[v.name] = model
        }
        return (config, resolved)
    }

    func put(_ stack: EndpointConfiguration) async throws -> EndpointStatus {
        try Self.check(stack)
        var requested = stack
        for i in requested.variants.indices {
            if let n = managed[requested.name]?[requested.variants[i].name] { requested.variants[i].instances = n }
        }
        let (config, resolved) = try resolveModels(requested)
        let old = endpoints[config.name]
        let running = (old?.instances ?? [:]).values.joined().map {
            EndpointConvergence.Running(id: $0.id, variant: $0.variant, idlePriority: $0.idlePriority,
                                        active: $0.lifecycle.state != .stopping && $0.lifecycle.state != .stopped)
        }
        let desired = config.variants.map {
            EndpointConvergence.Desired(variant: $0.name, model: resolved[$0.name]!, instances: $0.instances, idlePriority: $0.shadowSamplePercent != nil)
        }
        let decision = EndpointConvergence.decide(running: running, previousModels: old?.models ?? [:], desired: desired)
        let byID = Dictionary(uniqueKeysWithValues: (old?.instances ?? [:]).values.joined().map { ($0.id, $0) })
        var keep: [String: [Instance]] = [:]
        var toStart: [Instance] = []
        for v in config.variants {
            let fresh = (0..<(decision.start[v.name] ?? 0)).map { _ in makeInstance(config.name, v, resolved[v.name]!) }
            keep[v.name] = (decision.keep[v.name] ?? []).compactMap { byID[$0] } + fresh
            toStart += fresh
        }
        let toDrain = decision.drain.compactMap { byID[$0] }
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
                              dropped: metrics.captureDroppedCounter(config.name), clock: clock)
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
                let run = RolloutRun(variant: v.name, model: resolved[v.name], config: settings, now: clock.now().timeIntervalSince1970,
                                     metrics: metrics.variant(config.name, v.name))
                let note = "started: step 1 of \(settings.steps.count) (\(formatWeight(settings.steps[0]))%), \(formatWeight(settings.bakeSeconds))s each"
                run.history.append("\(stamp()) \(note)")
                recordEvent("RolloutStarted", endpoint: config.name, variant: v.name, detail: note)
                rollout = run
            }
        }
        endpoints[config.name] = EndpointEntry(config: requested, requested: stack, models: resolved, instances: keep, capture: capture, shadows: shadows, rollout: rollout)
        publish(config.name)
        let now = clock.now()
        for outputs in retiredShadows { closingOutputs.append((outputs, now.addingTimeInterval(0.5))) }
        if let retired { retiringWriters.append((retired, now.addingTimeInterval(0.2))) }
        // A rollout's bake runs on the supervisor's looks, which must start now, not at the next resync.
        if !retiredShadows.isEmpty || retired != nil || rollout != nil { supervisor.wake(self) }
        if !toDrain.isEmpty {
            log("endpoint \(config.name): draining \(toDrain.count) instance(s)")
            await withTaskGroup(of: Void.self) { group in
                for instance in toDrain { group.addTask { await self.stop(instance, drain: true) } }
            }
        }
        log("endpoint \(config.name): serving \(config.variants.map { "\($0.name)=\(formatWeight($0.weight))x\($0.instances)" }.joined(separator: " "))")
        return status(config.name)!
    }

    /// What the host checks again, whatever the stack's validation did: a bad value answers an
    /// error for this endpoint instead of trapping the host.
    static func check(_ c: EndpointConfiguration) throws {
        func bad(_ what: String) -> ControlError { ControlError(message: "endpoint \(c.name): \(what)", terminal: true) }
        guard c.healthTimeout.isFinite, c.healthTimeout > 0, c.healthTimeout <= 86_400 else { throw bad("health timeout \(c.healthTimeout) is not between 0 and 1 day") }
        for v in c.variants {
            guard v.weight.isFinite, v.weight >= 0 else { throw bad("variant \(v.name) has weight \(v.weight)") }
            guard (0...1_000).contains(v.instances) else { throw bad("variant \(v.name) has \(v.instances) instances") }
            if let s = v.shadowSamplePercent, !(s.isFinite && (0...100).contains(s)) { throw bad("variant \(v.name) samples \(s)% for its shadow") }
            if let r = v.rollout {
                guard !r.steps.isEmpty, r.steps.allSatisfy({ $0.isFinite && $0 > 0 && $0 <= 100 }), r.bakeSeconds.isFinite, r.bakeSeconds >= 0,
                      r.minRequests >= 1, r.maxErrorRate.map({ $0.isFinite }) ?? true, r.maxP99LatencyMs.map({ $0.isFinite }) ?? true else {
                    throw bad("variant \(v.name) has a rollout outside its limits")
                }
            }
        }
        if let d = c.dataCapture, !(d.samplePercent.isFinite && (0...100).contains(d.samplePercent)) { throw bad("data capture samples \(d.samplePercent)%") }
        if let m = c.multiModel, !((0...1_000).contains(m.instances) && m.cacheModels >= 1) { throw bad("multi-model settings are outside their limits") }
    }

    func delete(_ name: String) async {
        guard let entry = endpoints.removeValue(forKey: name) else { return }
        table.set(nil, for: name)
        metrics.drop(endpoint: name)
        let now = clock.now()
        if let capture = entry.capture { retiringWriters.append((capture, now.addingTimeInterval(0.2))) }
        for shadow in entry.shadows.values { closingOutputs.append((shadow.outputs, now.addingTimeInterval(0.5))) }
        supervisor.wake(self)
        await withTaskGroup(of: Void.self) { group in
            for instance in entry.instances.values.joined() { group.addTask { await self.stop(instance, drain: true) } }
        }
        log("endpoint \(name): deleted")
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

    /// The configuration an endpoint converged to (a multi-model endpoint's one variant included).
    func running(_ entry: EndpointEntry) -> [VariantConfiguration] {
        entry.config.multiModel.map { mm in
            [VariantConfiguration(name: Self.multiModelVariant, model: entry.models[Self.multiModelVariant]?.name ?? "", modelSHA256: entry.models[Self.multiModelVariant]?.sha256 ?? "",
                                  weight: 1, instances: mm.instances)]
        } ?? entry.config.variants
    }

    /// Routes every healthy instance of the endpoint, replacing the previous entry atomically.
    func publish(_ endpoint: String) {
        guard let entry = endpoints[endpoint] else {
            table.set(nil, for: endpoint)
            return
        }
        let variants = running(entry)
        let weights = entry.rollout.map { run in
            run.progress.weights(declared: variants.filter { $0.shadowSamplePercent == nil }.map { ($0.name, $0.weight) }, rollingOut: run.variant)
        }
        func route(_ v: VariantConfiguration) -> VariantRoute {
            VariantRoute(name: v.name, weight: weights?[v.name] ?? v.weight,
                         upstreams: (entry.instances[v.name] ?? []).filter { $0.lifecycle.state == .healthy }.map(\.upstream),
                         metrics: metrics.variant(endpoint, v.name))
        }
        let production = variants.filter { $0.shadowSamplePercent == nil }.map(route)
        let shadows = variants.compactMap { v -> ShadowRoute? in
            guard let percent = v.shadowSamplePercent, let s = entry.shadows[v.name] else { return nil }
            return ShadowRoute(variant: route(v), samplePercent: percent, stats: s.stats, outputs: s.outputs)
        }
        let loader = entry.config.multiModel.flatMap { mm in
            mm.server == nil ? nil : ModelLoading(directory: mm.directory, capacity: mm.cacheModels)
        }
        table.set(EndpointRoute(name: endpoint, variants: production, refused: metrics.refusedCounter(endpoint), capture: entry.capture,
                                shadows: shadows, multiModel: entry.config.multiModel != nil, loader: loader), for: endpoint)
    }

    // MARK: reconciling

    /// Restarts whose backoff is over, rollouts' next decisions, and writers due to close.
    func reconcile(now: Date) async -> Date? {
        var next: Date?
        func soon(_ d: Date) { next = min(next ?? d, d) }
        for entry in endpoints.values {
            for instance in entry.instances.values.joined() where instance.lifecycle.state == .restarting {
                guard let at = instance.restartAt else { continue }
                if at <= now {
                    instance.restartAt = nil
                    instance.lifecycle.relaunched()
                    Task { await self.restart(instance) }
                } else {
                    soon(at)
                }
            }
        }
        if tickRollouts(now: now) { soon(now.addingTimeInterval(0.2)) }
        retiringWriters.removeAll { item in
            if item.at <= now { item.writer.close(); return true }
            soon(item.at)
            return false
        }
        closingOutputs.removeAll { item in
            if item.at <= now { item.outputs.close(); return true }
            soon(item.at)
            return false
        }
        return next
    }

    // MARK: processes

    func launch(_ instance: Instance, timeout: Double) async throws {
        guard let port = LoopbackHTTP.freePort() else { throw ControlError(message: "no free port on 127.0.0.1", terminal: false) }
        instance.port = port
        instance.upstream = Upstream(port: port, instanceID: instance.id)
        var environment = ChildEnvironment.base
        let model = instance.model
        let program: String, arguments: [String], workingDirectory: String?
        if let command = model.command {
            for (k, v) in model.environment ?? [:] { environment[k] = v }
            if let folder = model.modelDirectory { environment["SM_MODEL_DIR"] = folder }
            workingDirectory = model.workingDirectory
            guard let path = Executables.find(command[0], in: model.workingDirectory ?? directory) else {
                throw ControlError(message: "'\(command[0])' is not an executable file here or on PATH", terminal: true)
            }
            (program, arguments) = (path, Array(command.dropFirst()))
        } else if let directory = model.multiModelDirectory {
            workingDirectory = nil
            (program, arguments) = (executable, ["serve", "multi-model", "--runtime", (model.runtime ?? .linear).rawValue, "--artifacts", directory,
                                                 "--cache-models", String(model.cacheModels ?? 100)]
                                                + (model.cacheMemoryMB.map { ["--cache-memory-mb", String($0)] } ?? []))
        } else {
            let artifact = model.artifactPath ?? ""
            environment["SM_MODEL_DIR"] = (artifact as NSString).deletingLastPathComponent
            environment["MLGW_MODEL_ARTIFACT"] = artifact
            workingDirectory = nil
            (program, arguments) = (executable, ["serve", "model", "--runtime", (model.runtime ?? .linear).rawValue, "--artifact", artifact])
        }
        environment["SAGEMAKER_BIND_TO_PORT"] = String(port)
        let pid = try await spawner.spawn(program, arguments: arguments, environment: environment, workingDirectory: workingDirectory,
                                          logPath: instance.logPath, idlePriority: instance.idlePriority, for: self)
        instance.pid = pid
        instance.startedAt = Date().timeIntervalSince1970
        byPID[pid] = instance
        if let status = unclaimedExits.removeValue(forKey: pid) { exited(pid: pid, status: status) }
        try await waitHealthy(instance, timeout: instance.model.startupTimeout ?? timeout)
        instance.lifecycle.becameHealthy()
    }

    func waitHealthy(_ instance: Instance, timeout: Double) async throws {
        let pid = instance.pid
        let deadline = Date().addingTimeInterval(timeout)
        // Built-in runtimes get a row of zeros; a server gets its declared probe, or /ping alone.
        // A multi-model server holds no model until one is asked for, so /ping is its whole check.
        var probe: ModelRegistration.Probe?
        if instance.model.multiModelDirectory != nil {
            probe = nil
        } else if instance.model.runtime != nil {
            probe = ModelRegistration.Probe(contentType: "text/csv", body: models.probe(for: instance.model) ?? "0")
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

    func processExited(pid: Int32, status: Int32) async { exited(pid: pid, status: status) }

    func exited(pid: Int32, status: Int32) {
        guard let instance = byPID.removeValue(forKey: pid) else {
            unclaimedExits[pid] = status
            return
        }
        instance.lastExit = ChildReaper.describe(status)
        let wasRouted = instance.lifecycle.state == .healthy
        switch instance.lifecycle.processExited() {
        case .restart(let delay):
            log("endpoint \(instance.endpoint): instance \(instance.id) (pid \(pid)) \(instance.lastExit!); restart #\(instance.lifecycle.restarts) in \(delay)s")
            onEvent?("InstanceExited", instance.endpoint, instance.variant, "instance \(instance.id) \(instance.lastExit!); restart #\(instance.lifecycle.restarts) in \(delay)s")
            if wasRouted { publish(instance.endpoint) }
            instance.restartAt = clock.now().addingTimeInterval(delay)
            supervisor.wake(self)
        case .launchFailed:
            log("endpoint \(instance.endpoint): instance \(instance.id) (pid \(pid)) \(instance.lastExit!) during its first start")
        case .stopped, .none:
            break
        }
    }

    func restart(_ instance: Instance) async {
        guard instance.lifecycle.state == .starting, let entry = endpoints[instance.endpoint],
              entry.instances[instance.variant]?.contains(where: { $0 === instance }) == true else { return }
        do {
            // The stack's health timeout, as at the instance's first start.
            try await launch(instance, timeout: entry.config.healthTimeout)
            publish(instance.endpoint)
            log("endpoint \(instance.endpoint): instance \(instance.id) restarted (pid \(instance.pid), port \(instance.port))")
            onEvent?("InstanceRestarted", instance.endpoint, instance.variant, "instance \(instance.id) restarted")
        } catch {
            log("endpoint \(instance.endpoint): restart of \(instance.id) failed: \(error)")
            if byPID[instance.pid] === instance {
                kill(instance.pid, SIGKILL)   // its exit schedules the next attempt
            } else if instance.lifecycle.state == .starting {
                // Nothing was launched (no port, spawn failed): try again after the backoff.
                if case .restart(let delay) = instance.lifecycle.processExited() {
                    instance.restartAt = clock.now().addingTimeInterval(max(delay, 1))
                    supervisor.wake(self)
                }
            }
        }
    }

    /// Stops an instance: out of the routes first, then (when draining) until it has answered what
    /// it was given, then SIGTERM, and SIGKILL if it lingers.
    func stop(_ instance: Instance, drain: Bool, grace: Double = 30) async {
        instance.lifecycle.stopRequested()
        if drain {
            // A request may have picked this instance just before the route swap: give it a moment
            // to register, then wait for everything in flight.
            try? await Task.sleep(nanoseconds: 50_000_000)
            let deadline = Date().addingTimeInterval(grace)
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

    /// Graceful: requests already routed to an instance finish (up to a bound), then every
    /// instance stops; what capture and shadows hold is written out.
    func shutdown() async {
        let all = endpoints.values.flatMap { $0.instances.values.joined() }
        for entry in endpoints.values { entry.capture?.close() }
        for item in retiringWriters { item.writer.close() }
        retiringWriters = []
        for entry in endpoints.values { for shadow in entry.shadows.values { shadow.outputs.close() } }
        for item in closingOutputs { item.outputs.close() }
        closingOutputs = []
        await withTaskGroup(of: Void.self) { group in
            for instance in all { group.addTask { await self.stop(instance, drain: true, grace: 5) } }
        }
        for name in endpoints.keys { table.set(nil, for: name) }
        endpoints = [:]
        log("endpoints stopped")
    }

    // MARK: rollouts

    /// One look at every progressing rollout; true while any is still progressing.
    func tickRollouts(now date: Date) -> Bool {
        let now = date.timeIntervalSince1970
        var progressing = false
        for (name, entry) in endpoints {
            guard let run = entry.rollout, case .stepping = run.progress.phase else { continue }
            let m = metrics.variant(name, run.variant)
            let seen = run.sinceStep(m)
            let decision = run.progress.evaluate(now: now, requests: seen.requests, errors: seen.errors, p99Ms: seen.p99Ms)
            if case .stepping = run.progress.phase { progressing = true }
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
            case .halted(let reason):
                note = "halted at \(formatWeight(run.progress.share))% of traffic: \(reason)"
                event = "RolloutHalted"
            case .waitingForTraffic(let reason):
                note = "waiting for traffic: \(reason)"
                event = "RolloutWaitingForTraffic"
            }
            run.history.append("\(stamp()) \(note)")
            log("endpoint \(name): rollout of \(run.variant) \(note)")
            recordEvent(event, endpoint: name, variant: run.variant, detail: note)
            publish(name)
        }
        return progressing
    }

    /// Told of every rollout event and instance exit and restart (the host puts them on the event
    /// bus); set before the host runs.
    nonisolated(unsafe) var onEvent: (@Sendable (_ type: String, _ endpoint: String, _ variant: String, _ detail: String) -> Void)?

    /// Appends an event to `events.jsonl` in the environment folder, and hands it to the bus.
    func recordEvent(_ type: String, endpoint: String, variant: String, detail: String) {
        onEvent?(type, endpoint, variant, detail)
        struct Event: Encodable { var time, type, endpoint, variant, detail: String }
        guard var line = try? JSONEncoder().encode(Event(time: stamp(), type: type, endpoint: endpoint, variant: variant, detail: detail)) else { return }
        line.append(UInt8(ascii: "\n"))
        let fd = open(directory + "/events.jsonl", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// The host clock's time, as events and histories stamp it.
    func stamp() -> String { ISO8601DateFormatter().string(from: clock.now()) }

    // MARK: reading

    func status(_ name: String) -> EndpointStatus? {
        guard let entry = endpoints[name] else { return nil }
        let variants = running(entry)
        let shadows = variants.compactMap { v in entry.shadows[v.name].map { $0.stats.summary(shadow: v.name) } }
        return EndpointStatus(name: name, configuration: entry.config, captured: entry.capture?.captured.load(ordering: .relaxed),
                              captureDropped: entry.capture.map { _ in metrics.captureDroppedCounter(name).load(ordering: .relaxed) },
                              shadows: shadows.isEmpty ? nil : shadows,
                              variants: variants.map { v in
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

    func describe(into snapshot: inout EnvironmentSnapshot) async {
        snapshot.endpoints = endpoints.keys.sorted().compactMap(status)
    }
}

/// What every child process starts from: the host's own environment is not passed on (it may
/// hold a secret of the command that started the host); only `InheritedEnvironment.names`.
enum ChildEnvironment {
    static var base: [String: String] { InheritedEnvironment.filter(ProcessInfo.processInfo.environment) }
}

func formatWeight(_ w: Double) -> String {
    w == w.rounded() && abs(w) < 1e15 ? String(Int64(w)) : String(w)
}
