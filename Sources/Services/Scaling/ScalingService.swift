import EnvironmentAPI
import Events
import Foundation
import Scaling

/// Scaling policies: every second of the host's clock each target's metrics are sampled
/// (request counters and latency sums from the router's variant metrics, healthy instances from
/// the routes, CPU time of the instances' processes from /proc, busy and warm workers of a
/// function's pool) into its `Autoscaler`, which closes periods, evaluates alarms and decides;
/// a decision becomes a scaling activity and the target's capacity changes through the same
/// convergence an apply uses (`EndpointService.setManaged`, `FunctionService.setManaged`). The
/// supervisor's timer is the only timer, so `clock advance` rehearses an evening in seconds.
/// State (the autoscaler) is saved to `data/scaling/NAME.json` after each change and read back
/// when the policy is put again after a restart; activities are appended to
/// `data/scaling/NAME.activities.jsonl`.
actor ScalingService: EnvironmentService {
    nonisolated let name = "scaling-policies"
    let directory: String
    let endpoints: EndpointService
    let functions: FunctionService
    let metrics: MetricsRegistry
    let table: RouteTable
    let supervisor: Supervisor
    var clock: any HostClock { supervisor.clock }
    /// Told of every finished activity: detail-type, detail, resources.
    nonisolated(unsafe) var onEvent: (@Sendable (String, JSONValue, [String]) -> Void)?

    /// The last readings of a target's counters, for deltas.
    struct Readings {
        var time: Date
        var invocations: UInt64 = 0
        var errors4xx: UInt64 = 0
        var errors5xx: UInt64 = 0
        var latencyNanos: UInt64 = 0
        var latencyCount: UInt64 = 0
        /// CPU ticks by pid, with the wall-clock time they were read at.
        var cpu: [Int32: (ticks: UInt64, at: Double)] = [:]
    }

    struct Policy {
        var autoscaler: Autoscaler
        var readings: Readings?
        var activities: [ScalingActivity] = []
        /// The capacity last asked of the target, and whether a change is being made.
        var applied: Int
        var changing = false
    }

    var policies: [String: Policy] = [:]
    static let sampleInterval = 1.0
    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    init(directory: String, endpoints: EndpointService, functions: FunctionService, metrics: MetricsRegistry, table: RouteTable, supervisor: Supervisor) {
        self.directory = directory
        self.endpoints = endpoints
        self.functions = functions
        self.metrics = metrics
        self.table = table
        self.supervisor = supervisor
    }

    var folder: String { directory + "/data/scaling" }

    nonisolated func register(on router: ControlRouter) {
        router.on(ScalingPolicyConfiguration.self, put: { [self] c in try await put(c) }, delete: { [self] name in await delete(name) })
        router.onAction(.scalingPolicies, "activities", ScalingActivitiesRequest.self) { [self] name, _ in try await allActivities(name) }
    }

    // MARK: configuration

    /// What the host checks again, whatever validate did.
    static func check(_ c: ScalingPolicyConfiguration) throws {
        func bad(_ what: String) -> ControlError { ControlError(message: "scaling policy \(c.name): \(what)", terminal: true) }
        guard (0...1_000).contains(c.minCapacity), (0...1_000).contains(c.maxCapacity), c.minCapacity <= c.maxCapacity else {
            throw bad("capacity bounds \(c.minCapacity)..\(c.maxCapacity) are outside 0..1000")
        }
        if !c.target.isFunction, c.minCapacity < 1 { throw bad("a variant keeps at least one instance") }
        func seconds(_ s: Double) -> Bool { s.isFinite && s >= 0 && s <= 86_400 }
        for t in c.targetTracking {
            guard t.targetValue.isFinite, t.targetValue > 0, t.targetValue <= 1e9, seconds(t.scaleInCooldown), seconds(t.scaleOutCooldown) else {
                throw bad("target tracking policy \(t.name) has a target or cooldown outside its limits")
            }
        }
        for s in c.stepScaling {
            let a = s.alarm
            guard [10, 30].contains(a.period) || (a.period >= 60 && a.period % 60 == 0 && a.period <= 86_400),
                  a.evaluationPeriods >= 1, a.evaluationPeriods * a.period <= 86_400, (1...a.evaluationPeriods).contains(a.datapointsToAlarm),
                  a.threshold.isFinite, a.missingData.fill.map({ $0.isFinite }) ?? true, seconds(s.cooldown) else {
                throw bad("the alarm of step scaling policy \(s.name) is outside its limits")
            }
            if let problem = Steps.problem(in: s.steps) { throw bad("step scaling policy \(s.name): \(problem)") }
            guard s.steps.allSatisfy({ abs($0.adjustment) <= 10_000 && ($0.lower?.isFinite ?? true) && ($0.upper?.isFinite ?? true) }) else {
                throw bad("step scaling policy \(s.name) has a step outside its limits")
            }
        }
        for a in c.scheduledActions {
            guard (try? ScheduleExpression.parse(a.schedule)) != nil else { throw bad("scheduled action \(a.name) has schedule \(a.schedule), which does not parse") }
            if let z = a.timeZone, TimeZone(identifier: z) == nil { throw bad("scheduled action \(a.name) has unknown time zone \(z)") }
            guard (a.minCapacity ?? 0) <= (a.maxCapacity ?? 1_000), (0...1_000).contains(a.minCapacity ?? 0), (0...1_000).contains(a.maxCapacity ?? 0) else {
                throw bad("scheduled action \(a.name) has bounds outside 0..1000")
            }
        }
    }

    func put(_ config: ScalingPolicyConfiguration) async throws -> ScalingPolicyStatus {
        try Self.check(config)
        let now = clock.now()
        guard let current = await currentCapacity(config.target) else {
            throw ControlError(message: "scaling policy \(config.name): its target \(config.target.resourceID) is not running; apply its endpoint or function first", terminal: false)
        }
        var policy: Policy
        if var existing = policies[config.name], existing.autoscaler.config.target == config.target {
            if existing.autoscaler.config != config { existing.autoscaler.reconfigure(config) }
            policy = existing
        } else if var saved = loadState(config.name), saved.config.target == config.target {
            // Put again after a restart: the desired capacity, bounds set by scheduled actions,
            // cooldowns and the datapoints of the last minutes carry on.
            if saved.config != config { saved.reconfigure(config) }
            policy = Policy(autoscaler: saved, activities: loadActivities(config.name).suffix(20).reversed(), applied: current)
        } else {
            policy = Policy(autoscaler: Autoscaler(config: config, capacity: current, now: now.timeIntervalSince1970), applied: current)
        }
        var decisions: [ScalingDecision] = []
        if let d = policy.autoscaler.clampToBounds(now: now.timeIntervalSince1970) { decisions.append(d) }
        policies[config.name] = policy
        let activities = record(decisions, for: config.name)
        // The target's capacity is the policy's from now on: registered (and brought inside the
        // bounds) before the PUT answers.
        let desired = policies[config.name]!.autoscaler.desired
        do {
            try await setCapacity(config.target, desired)
            policies[config.name]?.applied = desired
            finish(activities, of: config.name, error: nil)
        } catch {
            finish(activities, of: config.name, error: "\(error)")
            throw error
        }
        saveState(config.name)
        HostLog.write("scaling policy \(config.name): \(config.target.resourceID) at \(desired) (\(policies[config.name]!.autoscaler.minCapacity)..\(policies[config.name]!.autoscaler.maxCapacity))")
        supervisor.wake(self)
        return status(config.name)!
    }

    func delete(_ name: String) async {
        guard let policy = policies.removeValue(forKey: name) else { return }
        unlink("\(folder)/\(name).json")
        // The capacity goes back to the stack's value (the next apply puts it, or it is already there).
        do { try await release(policy.autoscaler.config.target) } catch {
            HostLog.write("scaling policy \(name): releasing \(policy.autoscaler.config.target.resourceID) failed: \(error)")
        }
        HostLog.write("scaling policy \(name): deleted; \(policy.autoscaler.config.target.resourceID) follows the stack again")
    }

    func currentCapacity(_ target: ScalableTarget) async -> Int? {
        if let f = target.function { return functions.capacity(f)?.provisioned }
        guard let e = target.endpoint, let v = target.variant else { return nil }
        return await endpoints.capacity(e, v)?.desired
    }

    func setCapacity(_ target: ScalableTarget, _ n: Int) async throws {
        if let f = target.function { try await functions.setManaged(f, count: n) } else if let e = target.endpoint, let v = target.variant {
            try await endpoints.setManaged(e, v, count: n)
        }
    }

    func release(_ target: ScalableTarget) async throws {
        if let f = target.function { try await functions.setManaged(f, count: nil) } else if let e = target.endpoint, let v = target.variant {
            try await endpoints.setManaged(e, v, count: nil)
        }
    }

    // MARK: reconciling

    func reconcile(now: Date) async -> Date? {
        guard !policies.isEmpty else { return nil }
        var next = now.addingTimeInterval(Self.sampleInterval)
        for name in policies.keys.sorted() {
            guard var policy = policies[name] else { continue }
            let (samples, serving, deltaTime) = await sample(policy.autoscaler.config, readings: &policy.readings, now: now)
            if let deltaTime { policy.autoscaler.record(samples.deltas, at: deltaTime.timeIntervalSince1970) }
            policy.autoscaler.record(samples.gauges, at: now.timeIntervalSince1970)
            if let serving { policy.autoscaler.record(capacity: serving, at: now.timeIntervalSince1970) }
            let decisions = policy.autoscaler.advance(to: now.timeIntervalSince1970)
            policies[name] = policy
            if !decisions.isEmpty {
                let activities = record(decisions, for: name)
                saveState(name)
                converge(name, activities: activities)
            } else if Int(now.timeIntervalSince1970) % 60 == 0 {
                saveState(name)
            }
            // Evaluate right at the end of each period (plus a moment for the last samples).
            next = min(next, Date(timeIntervalSince1970: policy.autoscaler.nextDue + 0.01))
        }
        return next
    }

    struct Samples {
        var deltas: [MetricSample] = []
        var gauges: [MetricSample] = []
    }

    /// The target's metrics since the last look: counters as deltas (they belong to the period
    /// of the last look), gauges as read now. Returns the capacity serving now.
    func sample(_ config: ScalingPolicyConfiguration, readings: inout Readings?, now: Date) async -> (Samples, Int?, Date?) {
        var s = Samples()
        let previous = readings
        var fresh = Readings(time: now)
        let metricsUsed = Set(config.targetTracking.map(\.metric.metric.0) + config.stepScaling.map(\.alarm.metric))
        if let f = config.target.function {
            guard let c = functions.capacity(f) else { return (s, nil, nil) }
            fresh.invocations = c.invocations
            let provisioned = c.provisioned
            let utilization = provisioned > 0 ? Double(min(c.busy, provisioned)) / Double(provisioned) : (c.busy > 0 ? 1 : 0)
            s.gauges.append(.gauge(.provisionedConcurrencyUtilization, utilization))
            s.gauges.append(.gauge(.concurrentExecutions, Double(c.busy)))
            if let p = previous, c.invocations > p.invocations { s.deltas.append(.events(.invocations, Double(c.invocations - p.invocations))) }
            readings = fresh
            return (s, min(c.warm, provisioned), previous?.time)
        }
        guard let e = config.target.endpoint, let v = config.target.variant else { return (s, nil, nil) }
        let m = metrics.variant(e, v)
        fresh.invocations = m.invocations.load(ordering: .relaxed)
        fresh.errors4xx = m.errors4xx.load(ordering: .relaxed)
        fresh.errors5xx = m.errors5xx.load(ordering: .relaxed)
        fresh.latencyNanos = m.modelLatency.sumNanos.load(ordering: .relaxed)
        fresh.latencyCount = m.modelLatency.count
        let healthy = table.endpoint(e)?.variant(named: v)?.upstreams.count ?? 0
        if metricsUsed.contains(.cpuUtilization), let c = await endpoints.capacity(e, v) {
            let wall = Date().timeIntervalSince1970
            var percents: [Double] = []
            for pid in c.pids {
                guard let ticks = Self.cpuTicks(pid) else { continue }
                fresh.cpu[pid] = (ticks, wall)
                if let before = previous?.cpu[pid], wall > before.at, ticks >= before.ticks {
                    percents.append(Double(ticks - before.ticks) / Self.ticksPerSecond / (wall - before.at) * 100)
                }
            }
            if !percents.isEmpty { s.gauges.append(.gauge(.cpuUtilization, percents.reduce(0, +) / Double(percents.count))) }
        }
        if let p = previous {
            let n = fresh.invocations &- p.invocations
            if fresh.invocations > p.invocations {
                s.deltas.append(.events(.invocations, Double(n)))
                s.deltas.append(.total(.invocationsPerInstance, sum: Double(n) / Double(max(healthy, 1)), count: Double(n)))
            }
            if fresh.errors4xx > p.errors4xx { s.deltas.append(.events(.invocation4XXErrors, Double(fresh.errors4xx - p.errors4xx))) }
            if fresh.errors5xx > p.errors5xx { s.deltas.append(.events(.invocation5XXErrors, Double(fresh.errors5xx - p.errors5xx))) }
            if fresh.latencyCount > p.latencyCount, fresh.latencyNanos >= p.latencyNanos {
                // Microseconds, as SageMaker's ModelLatency.
                s.deltas.append(.total(.modelLatency, sum: Double(fresh.latencyNanos - p.latencyNanos) / 1_000, count: Double(fresh.latencyCount - p.latencyCount)))
            }
        }
        readings = fresh
        return (s, healthy, previous?.time)
    }

    /// utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat).
    static func cpuTicks(_ pid: Int32) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, so utime (14) and stime (15) are at 11 and 12.
        guard fields.count > 12, let u = UInt64(fields[11]), let s = UInt64(fields[12]) else { return nil }
        return u + s
    }

    // MARK: activities

    /// Turns decisions into activities (in progress), appended to the policy's log.
    func record(_ decisions: [ScalingDecision], for name: String) -> [ScalingActivity] {
        guard var policy = policies[name] else { return [] }
        var made: [ScalingActivity] = []
        for d in decisions {
            let id = UUID().uuidString.lowercased()
            let a = ScalingActivity(activityId: id, policy: d.policy, resourceId: policy.autoscaler.config.target.resourceID, description: d.description,
                                    cause: "At \(Self.stamp(d.time)) a \(d.cause).", startTime: d.time, endTime: nil, statusCode: "InProgress",
                                    statusMessage: nil, fromCapacity: d.from, toCapacity: d.to)
            made.append(a)
            HostLog.write("scaling policy \(name): \(a.cause) \(a.description)")
        }
        policy.activities = (made.reversed() + policy.activities).prefix(20).map { $0 }
        policies[name] = policy
        return made
    }

    /// Brings the target to the autoscaler's desired capacity (the latest wins if it changes
    /// again meanwhile), then marks the activities done.
    func converge(_ name: String, activities: [ScalingActivity]) {
        guard let policy = policies[name] else { return }
        guard !policy.changing else {
            // The running change picks up the new desired capacity when it ends.
            pending[name, default: []] += activities
            return
        }
        policies[name]?.changing = true
        let target = policy.autoscaler.config.target
        let desired = policy.autoscaler.desired
        Task {
            var error: String?
            do { try await self.setCapacity(target, desired) } catch let e { error = "\(e)" }
            self.changed(name, to: desired, activities: activities, error: error)
        }
    }

    var pending: [String: [ScalingActivity]] = [:]

    func changed(_ name: String, to capacity: Int, activities: [ScalingActivity], error: String?) {
        policies[name]?.changing = false
        policies[name]?.applied = capacity
        finish(activities, of: name, error: error)
        let waiting = pending.removeValue(forKey: name) ?? []
        if let p = policies[name], p.autoscaler.desired != capacity || !waiting.isEmpty {
            converge(name, activities: waiting)
        }
    }

    /// Marks activities Successful (or Failed), appends them to the log file, emits their events.
    func finish(_ activities: [ScalingActivity], of name: String, error: String?) {
        guard !activities.isEmpty else { return }
        let end = clock.now().timeIntervalSince1970
        var done: [ScalingActivity] = []
        for var a in activities {
            a.endTime = end
            a.statusCode = error == nil ? "Successful" : "Failed"
            a.statusMessage = error
            done.append(a)
            if let i = policies[name]?.activities.firstIndex(where: { $0.activityId == a.activityId }) { policies[name]?.activities[i] = a }
        }
        appendActivities(done, of: name)
        for a in done {
            onEvent?("Application Auto Scaling Scaling Activity State Change", Self.eventDetail(a, dimension: policies[name]?.autoscaler.config.target.dimension ?? ""),
                     ["arn:aws:autoscaling:\(AWSIdentity.region):\(AWSIdentity.account):scalableTarget/\(a.resourceId)"])
        }
    }

    static func eventDetail(_ a: ScalingActivity, dimension: String) -> JSONValue {
        .object([.init("activityId", .string(a.activityId)), .init("policy", .string(a.policy)), .init("resourceId", .string(a.resourceId)),
                 .init("scalableDimension", .string(dimension)), .init("serviceNamespace", .string(dimension.hasPrefix("lambda") ? "lambda" : "sagemaker")),
                 .init("statusCode", .string(a.statusCode)), .init("cause", .string(a.cause)), .init("description", .string(a.description)),
                 .init("fromCapacity", .number(a.fromCapacity)), .init("toCapacity", .number(a.toCapacity)),
                 .init("startTime", .string(stamp(a.startTime)))] + (a.statusMessage.map { [.init("statusMessage", .string($0))] } ?? []))
    }

    static func stamp(_ t: Double) -> String { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: t)) }

    func allActivities(_ name: String) throws -> ScalingActivities {
        guard policies[name] != nil || FileManager.default.fileExists(atPath: "\(folder)/\(name).activities.jsonl") else {
            throw ControlError(message: "no scaling policy '\(name)' in this environment", terminal: true)
        }
        return ScalingActivities(activities: loadActivities(name))
    }

    // MARK: files

    func saveState(_ name: String) {
        guard let policy = policies[name], let data = try? JSONEncoder().encode(policy.autoscaler) else { return }
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = "\(folder)/\(name).json"
        let temp = path + ".tmp"
        guard FileManager.default.createFile(atPath: temp, contents: data) else { return }
        rename(temp, path)
    }

    func loadState(_ name: String) -> Autoscaler? {
        guard let data = FileManager.default.contents(atPath: "\(folder)/\(name).json") else { return nil }
        return try? JSONDecoder().decode(Autoscaler.self, from: data)
    }

    func appendActivities(_ activities: [ScalingActivity], of name: String) {
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var bytes: [UInt8] = []
        for a in activities {
            guard let line = try? JSONEncoder().encode(a) else { continue }
            bytes += line
            bytes.append(UInt8(ascii: "\n"))
        }
        let fd = open("\(folder)/\(name).activities.jsonl", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    func loadActivities(_ name: String) -> [ScalingActivity] {
        guard let text = try? String(contentsOfFile: "\(folder)/\(name).activities.jsonl", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(ScalingActivity.self, from: Data($0.utf8)) }
    }

    // MARK: reading

    func status(_ name: String) -> ScalingPolicyStatus? {
        guard let p = policies[name] else { return nil }
        let a = p.autoscaler
        let running: Int
        if let f = a.config.target.function {
            let c = functions.capacity(f)
            running = min(c?.warm ?? 0, c?.provisioned ?? 0)
        } else {
            running = table.endpoint(a.config.target.endpoint ?? "")?.variant(named: a.config.target.variant ?? "")?.upstreams.count ?? 0
        }
        return ScalingPolicyStatus(configuration: a.config, resourceId: a.config.target.resourceID, desiredCapacity: a.desired,
                                   minCapacity: a.minCapacity, maxCapacity: a.maxCapacity, runningCapacity: running,
                                   alarms: a.alarms.map { AlarmStatus(name: $0.name, state: $0.state.rawValue, reason: $0.reason, lastValue: $0.lastValue) },
                                   activities: p.activities, nextScheduledAction: a.nextScheduledAction)
    }

    func processExited(pid: Int32, status: Int32) async {}

    func describe(into snapshot: inout EnvironmentSnapshot) async {
        snapshot.scalingPolicies = policies.keys.sorted().compactMap(status)
    }

    func shutdown() async {
        for name in policies.keys { saveState(name) }
    }
}
