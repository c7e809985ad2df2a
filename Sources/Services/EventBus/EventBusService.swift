import EnvironmentAPI
import Events
import Foundation
import NIOCore

/// The environment's event bus (EventBridge's default bus): rules from the control API, events
/// from PutEvents, `events put` and the environment itself, schedules fired on the host's clock.
/// An accepted event is matched once, by the compiled machine of every rule's pattern, and the
/// deliveries it owes are journaled before it is acknowledged; each delivery is attempted with
/// exponential backoff on the host's clock until it succeeds, runs out of attempts or of age,
/// and then goes to the target's dead-letter file with its reason.
final class EventBusService: EnvironmentService, @unchecked Sendable {
    let name = "event bus"
    let directory: String
    let clock: EnvironmentClock
    let functions: FunctionService
    let supervisor: Supervisor
    let journal: EventJournal
    private let lock = NSLock()
    private var rules: [String: RuleRuntime] = [:]
    private var machine = PatternMachine()
    private var machineRules: [String] = []
    private var queue: [Delivery] = []
    private var inFlight = 0
    private var seq: UInt64 = 0
    private var owed: [EventJournal.Owed] = []
    private var recent: [(UInt64, String)] = []
    private var awsPort = 0
    private var lastAdvanceFired = 0
    private let blocking = DispatchQueue(label: "mlgw-event-delivery", attributes: .concurrent)
    static let recentLimit = 1_000
    /// The most firings one pass (one `clock advance`) goes through; beyond it the rest are
    /// skipped with a line in the log (a century of rate(1 minute) is not a rehearsal).
    static let maxFiringsPerPass = 2_000_000

    struct RuleRuntime {
        var configuration: EventRuleConfiguration
        var pattern: EventPattern?
        var schedule: ScheduleExpression?
        var zone: TimeZone?
        var anchor: Int64
        var next: Int64?
        var matched: UInt64 = 0
        var delivered: UInt64 = 0
        var failed: UInt64 = 0
        var lastFired: Int64?
        var lastError: String?
    }

    struct Delivery {
        var seq: UInt64
        var event: JSONValue
        var rule: String
        var target: String
        var attempts = 0
        var accepted: Double
        var due: Double
    }

    init(directory: String, clock: EnvironmentClock, functions: FunctionService, supervisor: Supervisor) {
        self.directory = directory
        self.clock = clock
        self.functions = functions
        self.supervisor = supervisor
        journal = EventJournal(folder: directory + "/data/events")
        let (owed, last) = journal.recover()
        self.owed = owed
        seq = last
        if !owed.isEmpty { HostLog.write("event bus: \(owed.count) deliveries owed from before the host stopped; they run once their rules are applied") }
    }

    func setAWSPort(_ port: Int) { lock.withLock { awsPort = port } }

    func register(on router: ControlRouter) {
        router.on(EventRuleConfiguration.self, put: { [self] c in try put(c) }, delete: { [self] name in delete(name) })
        router.onCall("GET", ControlPath.clock, EmptyRequest.self) { [self] _ in clockStatus() }
        router.onCall("POST", ControlPath.clockAdvance, ClockAdvance.self) { [self] request in
            guard request.seconds.isFinite, request.seconds > 0, request.seconds <= 3_650 * 86_400 else {
                throw ControlError(message: "the clock moves forward by more than 0 s and at most 3650 days", terminal: true)
            }
            return await advance(by: request.seconds)
        }
        router.onCall("POST", ControlPath.eventsPut, EventEntry.self) { [self] entry in
            guard let detail = try? JSONParser.parse(entry.detail), case .object = detail else {
                throw ControlError(message: "the detail is not a JSON object", terminal: true)
            }
            let event = envelope(source: entry.source, detailType: entry.detailType, detail: detail, resources: entry.resources,
                                 time: clock.now().timeIntervalSince1970)
            accept([event])
            return PutEventResult(eventId: event["id"]?.stringValue ?? "")
        }
        router.onCall("POST", ControlPath.eventsRecent, RecentEventsRequest.self) { [self] request in
            let (items, last) = recent(after: request.after)
            return RecentEvents(events: items.map { RecentEvents.Item(seq: $0.0, event: $0.1) }, last: last)
        }
        // Every apply and delete of a resource is an event (mlgw.deploy), so rules can react to the system.
        router.onChange { [weak self] collection, name, deleted in
            guard let self, collection != .eventRules || !deleted else { return }
            self.emit(source: "mlgw.deploy", detailType: deleted ? "Resource Deleted" : "Resource Applied",
                      detail: .object([.init("collection", .string(collection.rawValue)), .init("name", .string(name))]))
            if collection == .endpoints { self.emit(Self.endpointStateChange(name, status: deleted ? "DELETING" : "IN_SERVICE", at: self.clock.now())) }
        }
    }

    // MARK: rules

    func put(_ c: EventRuleConfiguration) throws -> EventRuleStatus {
        func bad(_ what: String) -> ControlError { ControlError(message: "event rule \(c.name): \(what)", terminal: true) }
        var pattern: EventPattern?
        var schedule: ScheduleExpression?
        var zone: TimeZone?
        switch (c.pattern, c.schedule) {
        case (let p?, nil):
            do { pattern = try EventPattern.parse(text: p) } catch { throw bad(error.message) }
        case (nil, let s?):
            do { schedule = try ScheduleExpression.parse(s) } catch { throw bad(error.description) }
            if let z = c.timeZone {
                guard let tz = TimeZone(identifier: z) else { throw bad("unknown time zone \(z)") }
                zone = tz
            }
        default: throw bad("a rule has a pattern or a schedule")
        }
        guard !c.targets.isEmpty, c.targets.count <= 5, c.targets.allSatisfy({ $0.maxAttempts >= 1 && $0.maxAttempts <= 186 && $0.maxEventAge >= 1 && $0.maxEventAge <= 86_400 && $0.timeout > 0 && $0.timeout <= 900 }) else {
            throw bad("targets are out of range")
        }
        let now = Int64(clock.now().timeIntervalSince1970)
        let status: EventRuleStatus = lock.withLock {
            var r = rules[c.name] ?? RuleRuntime(configuration: c, anchor: now)
            // A rate keeps counting from when its rule was created, unless the schedule changed.
            if r.configuration.schedule != c.schedule || r.configuration.timeZone != c.timeZone { r.anchor = now; r.lastFired = nil }
            r.configuration = c
            r.pattern = pattern
            r.schedule = schedule
            r.zone = zone
            r.next = c.enabled ? schedule?.next(after: max(now, r.lastFired ?? now), anchor: r.anchor, timeZone: zone) : nil
            rules[c.name] = r
            rebuildMachine()
            return statusLocked(r)
        }
        supervisor.wake(self)
        return status
    }

    func delete(_ name: String) {
        let dropped: [Delivery] = lock.withLock {
            rules[name] = nil
            rebuildMachine()
            let d = queue.filter { $0.rule == name }
            queue.removeAll { $0.rule == name }
            return d
        }
        for d in dropped { journal.done(seq: d.seq, rule: d.rule, target: d.target) }
        if !dropped.isEmpty { HostLog.write("event rule \(name) deleted: \(dropped.count) pending deliveries dropped") }
    }

    private func rebuildMachine() {
        var m = PatternMachine()
        var names: [String] = []
        for (name, r) in rules.sorted(by: { $0.key < $1.key }) where r.configuration.enabled {
            guard let p = r.pattern else { continue }
            m.add(p, id: names.count)
            names.append(name)
        }
        machine = m
        machineRules = names
    }

    private func statusLocked(_ r: RuleRuntime) -> EventRuleStatus {
        let name = r.configuration.name
        return EventRuleStatus(configuration: r.configuration, arn: EventRuleConfiguration.arn(name), matched: r.matched, delivered: r.delivered,
                               failed: r.failed, pending: queue.filter { $0.rule == name }.count + owed.filter { $0.rule == name }.count,
                               lastFired: r.lastFired.map(Double.init), nextFiring: r.next.map(Double.init), lastError: r.lastError)
    }

    // MARK: events in

    /// Accepts events (EventBridge envelopes): each is matched, journaled with what it owes, and
    /// its deliveries start. Returns their sequence numbers.
    @discardableResult
    func accept(_ events: [JSONValue]) -> [UInt64] {
        let now = clock.now().timeIntervalSince1970
        var seqs: [UInt64] = []
        lock.withLock {
            for event in events {
                seq += 1
                seqs.append(seq)
                var owes: [(String, String)] = []
                for id in machine.match(event) {
                    let name = machineRules[id]
                    guard var r = rules[name] else { continue }
                    r.matched += 1
                    rules[name] = r
                    for t in r.configuration.targets { owes.append((name, t.id)) }
                }
                journal.accepted(seq: seq, event: event, accepted: now, deliveries: owes)
                for (rule, target) in owes { queue.append(Delivery(seq: seq, event: event, rule: rule, target: target, accepted: now, due: now)) }
                remember(seq, event)
            }
        }
        startDue(now: now)
        return seqs
    }

    private func remember(_ seq: UInt64, _ event: JSONValue) {
        recent.append((seq, event.text))
        if recent.count > Self.recentLimit { recent.removeFirst(recent.count - Self.recentLimit) }
    }

    /// Events after `after` (for `events tail`), and the last sequence number.
    func recent(after: UInt64) -> (events: [(UInt64, String)], last: UInt64) {
        lock.withLock { (recent.filter { $0.0 > after }, seq) }
    }

    /// An event from the environment itself (`mlgw.*` sources, or AWS's shapes where AWS has one).
    func emit(source: String, detailType: String, detail: JSONValue, resources: [String] = []) {
        accept([envelope(source: source, detailType: detailType, detail: detail, resources: resources, time: clock.now().timeIntervalSince1970)])
    }

    func envelope(source: String, detailType: String, detail: JSONValue, resources: [String], time: Double) -> JSONValue {
        .object([
            .init("version", .string("0")), .init("id", .string(UUID().uuidString.lowercased())), .init("detail-type", .string(detailType)),
            .init("source", .string(source)), .init("account", .string(AWSIdentity.account)),
            .init("time", .string(ScheduleExpression.iso8601(Int64(time.rounded(.down))))), .init("region", .string(AWSIdentity.region)),
            .init("resources", .array(resources.map { .string($0) })), .init("detail", detail),
        ])
    }

    /// SageMaker's "SageMaker Endpoint State Change" event, as EventBridge delivers it.
    static func endpointStateChange(_ name: String, status: String, at time: Date) -> (String, String, JSONValue, [String]) {
        let arn = "arn:aws:sagemaker:\(AWSIdentity.region):\(AWSIdentity.account):endpoint/\(name)"
        let millis = JSONValue.number(Double(Int64(time.timeIntervalSince1970 * 1000)))
        return ("aws.sagemaker", "SageMaker Endpoint State Change",
                .object([.init("EndpointName", .string(name)), .init("EndpointArn", .string(arn)), .init("EndpointStatus", .string(status)),
                         .init("LastModifiedTime", millis), .init("Tags", .object([]))]), [arn])
    }

    func emit(_ e: (String, String, JSONValue, [String])) { emit(source: e.0, detailType: e.1, detail: e.2, resources: e.3) }

    /// Lambda's on-failure record of an asynchronous invocation, as its EventBridge destination gets it.
    static func lambdaFailure(function: String, requestID: String, attempts: Int, error: String, payload: String) -> JSONValue {
        .object([
            .init("version", .string("1.0")), .init("timestamp", .string(ISO8601DateFormatter().string(from: Date()))),
            .init("requestContext", .object([.init("requestId", .string(requestID)), .init("functionArn", .string(FunctionService.arn(function) + ":$LATEST")),
                                             .init("condition", .string("RetriesExhausted")), .init("approximateInvokeCount", .number(attempts))])),
            .init("requestPayload", (try? JSONParser.parse(payload)) ?? .string(payload)),
            .init("responseContext", .object([.init("statusCode", .number(200)), .init("executedVersion", .string("$LATEST")),
                                              .init("functionError", .string("Unhandled"))])),
            .init("responsePayload", (try? JSONParser.parse(error)) ?? .object([.init("errorMessage", .string(error))])),
        ])
    }

    /// `RolloutRolledBack` as a detail type: "Endpoint Rollout Rolled Back".
    static func rolloutDetailType(_ type: String) -> String {
        var words: [String] = []
        var current = ""
        for c in type {
            if c.isUppercase, !current.isEmpty {
                words.append(current)
                current = ""
            }
            current.append(c)
        }
        if !current.isEmpty { words.append(current) }
        return "Endpoint " + words.joined(separator: " ")
    }

    // MARK: schedules and the clock

    /// Fires every schedule due up to `now`, in time order, each firing with its own time.
    private func fireSchedules(upTo now: Int64) -> Int {
        var fired = 0
        var skipped = 0
        while true {
            let next: (String, Int64, RuleRuntime)? = lock.withLock {
                var best: (String, Int64, RuleRuntime)?
                for (name, r) in rules {
                    guard let t = r.next, t <= now else { continue }
                    if best == nil || t < best!.1 || (t == best!.1 && name < best!.0) { best = (name, t, r) }
                }
                return best
            }
            guard let (name, t, r) = next else { break }
            if fired >= Self.maxFiringsPerPass {
                skipped += 1
                lock.withLock { rules[name]?.next = r.schedule?.next(after: t, anchor: r.anchor, timeZone: r.zone) }
                continue
            }
            fired += 1
            let event = envelope(source: "aws.events", detailType: "Scheduled Event", detail: .object([]),
                                 resources: [EventRuleConfiguration.arn(name)], time: Double(t))
            let stamp = Double(t)
            lock.withLock {
                seq += 1
                guard var rule = rules[name] else { return }
                rule.matched += 1
                rule.lastFired = t
                rule.next = rule.schedule?.next(after: t, anchor: rule.anchor, timeZone: rule.zone)
                rules[name] = rule
                let owes = rule.configuration.targets.map { (name, $0.id) }
                journal.accepted(seq: seq, event: event, accepted: stamp, deliveries: owes)
                for (rn, target) in owes { queue.append(Delivery(seq: seq, event: event, rule: rn, target: target, accepted: stamp, due: stamp)) }
                remember(seq, event)
            }
            // Deliveries start in firing order (a log target writes in that order).
            startDue(now: Double(t))
        }
        if skipped > 0 { HostLog.write("event bus: \(skipped) schedule firings beyond \(Self.maxFiringsPerPass) in one pass were skipped") }
        return fired
    }

    /// `clock advance`: the environment's time moves on; every firing in between happens in
    /// order, and the call returns once the deliveries they started have ended or wait for a retry.
    func advance(by seconds: Double) async -> ClockStatus {
        clock.advance(by: seconds)
        let now = clock.now().timeIntervalSince1970
        let fired = fireSchedules(upTo: Int64(now))
        startDue(now: now)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let busy = lock.withLock { inFlight > 0 || queue.contains { $0.due <= now } }
            if !busy { break }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        lock.withLock { lastAdvanceFired = fired }
        supervisor.wakeAll()
        return clockStatus()
    }

    func clockStatus() -> ClockStatus {
        ClockStatus(now: clock.now().timeIntervalSince1970, ahead: clock.ahead, fired: lock.withLock { lastAdvanceFired })
    }

    func reconcile(now: Date) async -> Date? {
        let t = now.timeIntervalSince1970
        // Deliveries owed from before a restart run once their rule exists again.
        lock.withLock {
            var waiting: [EventJournal.Owed] = []
            for o in owed {
                if rules[o.rule] != nil {
                    queue.append(Delivery(seq: o.seq, event: o.event, rule: o.rule, target: o.target, accepted: o.accepted, due: t))
                } else { waiting.append(o) }
            }
            owed = waiting
        }
        _ = fireSchedules(upTo: Int64(t))
        startDue(now: t)
        return lock.withLock {
            let nextFiring = rules.values.compactMap(\.next).min().map(Double.init)
            let nextRetry = queue.map(\.due).min()
            return [nextFiring, nextRetry].compactMap { $0 }.min().map { Date(timeIntervalSince1970: $0) }
        }
    }

    // MARK: delivery

    private func startDue(now: Double) {
        let due: [(Delivery, EventTargetConfiguration?, Int)] = lock.withLock {
            let ready = queue.filter { $0.due <= now }
            guard !ready.isEmpty else { return [] }
            queue.removeAll { $0.due <= now }
            inFlight += ready.count
            return ready.map { d in (d, rules[d.rule]?.configuration.targets.first { $0.id == d.target }, awsPort) }
        }
        for (d, target, port) in due {
            guard let target else {
                // The rule or the target is gone: nothing can receive it any more.
                finish(d, error: nil, dropped: true)
                continue
            }
            let body = EventTargets.input(of: target).render(d.event, rule: d.rule, ruleARN: EventRuleConfiguration.arn(d.rule))
            switch target.kind {
            case .log:
                HostLog.write("event rule \(d.rule): \(body)")
                finish(d, error: nil)
            case .function:
                if functions.pool(target.target) != nil {
                    functions.enqueue(target.target, payload: ByteBuffer(string: body), requestID: UUID().uuidString.lowercased())
                    finish(d, error: nil)
                } else {
                    finish(d, error: "function \(target.target) is not running")
                }
            case .endpoint, .url, .command:
                let directory = self.directory
                blocking.async { [self] in
                    finish(d, error: EventTargets.send(body, to: target, rule: d.rule, awsPort: port, directory: directory))
                }
            }
        }
    }

    private func finish(_ d: Delivery, error: String?, dropped: Bool = false) {
        let now = clock.now().timeIntervalSince1970
        var deadLetter: (EventTargetConfiguration?, Delivery, String)?
        lock.withLock {
            inFlight -= 1
            guard !dropped else { return }
            let target = rules[d.rule]?.configuration.targets.first { $0.id == d.target }
            guard let error else {
                rules[d.rule]?.delivered += 1
                return
            }
            var next = d
            next.attempts += 1
            rules[d.rule]?.lastError = error
            let maxAttempts = target?.maxAttempts ?? 1
            let maxAge = target?.maxEventAge ?? 0
            if next.attempts >= maxAttempts || now - d.accepted >= maxAge {
                rules[d.rule]?.failed += 1
                deadLetter = (target, next, error)
            } else {
                // Exponential backoff on the environment's clock: 1 s, 2 s, 4 s … up to 5 minutes.
                next.due = now + min(300, pow(2, Double(next.attempts - 1)))
                queue.append(next)
            }
        }
        if let (target, d, error) = deadLetter {
            writeDeadLetter(d, target: target, error: error, now: now)
            journal.done(seq: d.seq, rule: d.rule, target: d.target)
        } else if error == nil || dropped {
            journal.done(seq: d.seq, rule: d.rule, target: d.target)
        } else {
            supervisor.wake(self)
        }
    }

    private func writeDeadLetter(_ d: Delivery, target: EventTargetConfiguration?, error: String, now: Double) {
        let path = target?.deadLetter ?? "\(directory)/data/events/dead-letter/\(d.rule).jsonl"
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let line = JSONValue.object([
            .init("time", .string(ScheduleExpression.iso8601(Int64(now)))), .init("rule", .string(d.rule)), .init("target", .string(d.target)),
            .init("attempts", .number(d.attempts)), .init("error", .string(error)), .init("event", d.event),
        ]).text + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            HostLog.write("event rule \(d.rule): cannot write the dead-letter file \(path): \(String(cString: strerror(errno))); the event was: \(d.event.text)")
            return
        }
        _ = Array(line.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        HostLog.write("event rule \(d.rule): target \(d.target) failed \(d.attempts) times (\(error)); the event is in \(path)")
    }

    func processExited(pid: Int32, status: Int32) async {}

    func describe(into snapshot: inout EnvironmentSnapshot) async {
        let statuses = lock.withLock { rules.values.map { statusLocked($0) }.sorted { $0.configuration.name < $1.configuration.name } }
        snapshot.eventRules = statuses
        snapshot.clock = clockStatus()
    }

    func shutdown() async {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, lock.withLock({ inFlight > 0 }) { try? await Task.sleep(nanoseconds: 10_000_000) }
        journal.close()
    }
}

