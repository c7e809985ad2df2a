import EnvironmentAPI
import Events
import Foundation
import Monitoring
import NIOConcurrencyHelpers

/// Monitors: each one's schedule fires on the environment's clock; a run reads the endpoint's
/// data capture in its window, compares it with the baseline and writes its files under
/// `data/monitors/NAME/runs/`, then emits an event (source `mlgw.monitor`) and updates the
/// metrics. Runs happen on threads of their own at the kernel's idle priority (SCHED_IDLE), one
/// run at a time per monitor, never on an event loop: a run takes only CPU the serving path leaves.
final class MonitorService: EnvironmentService, @unchecked Sendable {
    let name = "monitors"
    private let directory: String
    private let clock: any HostClock
    private let supervisor: Supervisor
    private let metrics: MetricsRegistry
    /// Told of every run: detail-type, detail, resources.
    var onEvent: (@Sendable (String, JSONValue, [String]) -> Void)?

    private struct Runtime {
        var configuration: MonitorConfiguration
        var baseline: Baseline
        /// Model quality: the metrics' constraints.
        var quality: QualityBaseline?
        var schedule: ScheduleExpression
        var anchor: Int64
        var next: Int64?
        var lastRun: MonitorRunSummary?
        var runs: Int
        var running = false
    }

    private let lock = NIOLock()
    private var monitors: [String: Runtime] = [:]

    init(directory: String, clock: any HostClock, supervisor: Supervisor, metrics: MetricsRegistry) {
        self.directory = directory
        self.clock = clock
        self.supervisor = supervisor
        self.metrics = metrics
        // Runs and baselines use the CPU only when the serving path leaves it idle.
        Parallel.onThreadStart = { lowerToIdlePriority(0) }
    }

    func store(_ name: String) -> RunStore { RunStore(folder: "\(directory)/data/monitors/\(name)") }

    func register(on router: ControlRouter) {
        router.on(MonitorConfiguration.self, put: { [self] c in try await put(c) }, delete: { [self] name in delete(name) })
        router.onAction(.monitors, "run", MonitorActionRequest.self) { [self] name, _ in try await runNow(name) }
        router.onAction(.monitors, "baseline", MonitorActionRequest.self) { [self] name, _ in try await rebaseline(name) }
    }

    // MARK: configuration

    static func check(_ c: MonitorConfiguration) throws -> (ScheduleExpression, [String: FeatureRule], FeatureRule, [String: InferredType]) {
        func bad(_ what: String) -> ControlError { ControlError(message: "monitor \(c.name): \(what)", terminal: true) }
        switch c.checkType {
        case "data_quality": break
        case "model_quality":
            guard let p = c.problemType, ProblemType(rawValue: p) != nil else { throw bad("model quality needs a problem type (binary_classification, multiclass_classification or regression)") }
            guard c.groundTruth != nil else { throw bad("model quality needs a ground-truth folder") }
            if let t = c.probabilityThreshold { guard t.isFinite, t >= 0, t <= 1 else { throw bad("the probability threshold is between 0 and 1") } }
        default: throw bad("check type \(c.checkType) is not run by this host (data_quality and model_quality are)")
        }
        let schedule: ScheduleExpression
        do { schedule = try ScheduleExpression.parse(c.schedule) } catch { throw bad(error.description) }
        if let w = c.window { guard w.isFinite, w >= 60, w <= 31 * 86_400 else { throw bad("the window is 1 minute to 31 days") } }
        guard c.minimumSamples >= 1, c.minimumSamples <= 100_000_000 else { throw bad("minimum samples are 1 to 100000000") }
        func method(_ text: String?) throws -> DriftMethod? {
            guard let text else { return nil }
            guard let m = DriftMethod(rawValue: text) else { throw bad("unknown drift method \(text)") }
            return m
        }
        func threshold(_ t: Double?) throws -> Double? {
            guard let t else { return nil }
            guard t.isFinite, t > 0, t <= 1e6 else { throw bad("a threshold is above 0 and finite") }
            return t
        }
        var rules: [String: FeatureRule] = [:]
        var types: [String: InferredType] = [:]
        for f in c.features {
            rules[f.name] = FeatureRule(method: try method(f.method), threshold: try threshold(f.threshold))
            if let t = f.type {
                guard let type = InferredType(rawValue: t) else { throw bad("feature \(f.name): unknown type \(t)") }
                types[f.name] = type
            }
        }
        return (schedule, rules, FeatureRule(method: try method(c.method), threshold: try threshold(c.threshold)), types)
    }

    /// Loads (or computes) the baseline off the caller's thread.
    func loadBaseline(_ c: MonitorConfiguration, types: [String: InferredType]) async throws -> (Baseline, QualityBaseline?) {
        let folder = store(c.name).baselineFolder
        return try await withCheckedThrowingContinuation { (k: CheckedContinuation<(Baseline, QualityBaseline?), Error>) in
            Parallel.detached({}) { _ in
                do {
                    if c.checkType == "model_quality", let problem = c.problemType.flatMap(ProblemType.init(rawValue:)) {
                        let quality: QualityBaseline
                        if let csv = c.baselineCSV {
                            let (q, statistics, constraints) = try QualityBaseline.fromCSV(path: csv, problem: problem, label: c.label ?? "label",
                                                                                          answer: c.prediction ?? "prediction", threshold: c.probabilityThreshold ?? 0.5)
                            try RunStore.writeFolder(folder, files: [("statistics.json", JacksonJSON.text(statistics)),
                                                                     ("constraints.json", JacksonJSON.text(constraints))])
                            quality = q
                        } else if let cons = c.baselineConstraints {
                            quality = try QualityBaseline.fromConstraints(path: cons, problem: problem)
                        } else {
                            throw ControlError(message: "monitor \(c.name): no baseline", terminal: true)
                        }
                        k.resume(returning: (Baseline(features: [], itemCount: quality.itemCount, hasSamples: false), quality))
                    } else if let csv = c.baselineCSV {
                        let (baseline, statistics, constraints) = try Baseline.fromCSV(path: csv, types: types)
                        try RunStore.writeFolder(folder, files: [("statistics.json", JacksonJSON.text(statistics)),
                                                                 ("constraints.json", JacksonJSON.text(constraints))])
                        k.resume(returning: (baseline, nil))
                    } else if let s = c.baselineStatistics, let cons = c.baselineConstraints {
                        k.resume(returning: (try Baseline.fromFiles(statistics: s, constraints: cons), nil))
                    } else {
                        k.resume(throwing: ControlError(message: "monitor \(c.name): no baseline", terminal: true))
                    }
                } catch let e as BaselineError {
                    k.resume(throwing: ControlError(message: "monitor \(c.name): baseline \(e.description)", terminal: true))
                } catch let e as ControlError {
                    k.resume(throwing: e)
                } catch {
                    k.resume(throwing: ControlError(message: "monitor \(c.name): \(error)", terminal: true))
                }
            }
        }
    }

    func put(_ c: MonitorConfiguration) async throws -> MonitorStatus {
        let (schedule, _, _, types) = try Self.check(c)
        let old = lock.withLock { monitors[c.name] }
        let baseline: Baseline
        let quality: QualityBaseline?
        if let old, old.configuration.baselineDigest == c.baselineDigest, old.configuration.features.map(\.type) == c.features.map(\.type),
           old.configuration.baselineCSV == c.baselineCSV, old.configuration.label == c.label, old.configuration.prediction == c.prediction,
           old.configuration.problemType == c.problemType, old.configuration.probabilityThreshold == c.probabilityThreshold {
            (baseline, quality) = (old.baseline, old.quality)
        } else {
            (baseline, quality) = try await loadBaseline(c, types: types)
        }
        for f in c.features where !baseline.features.contains(where: { $0.name == f.name }) {
            throw ControlError(message: "monitor \(c.name): feature \(f.name) is not a column of the baseline", terminal: true)
        }
        let now = Int64(clock.now().timeIntervalSince1970)
        let store = store(c.name)
        // A running run's folder is its own until it is renamed into place.
        if !(old?.running ?? false) { store.clearPartial() }
        let history = store.history(limit: 1)
        let status: MonitorStatus = lock.withLock {
            var r = old ?? Runtime(configuration: c, baseline: baseline, quality: quality, schedule: schedule, anchor: now, lastRun: history.last,
                                   runs: (try? FileManager.default.contentsOfDirectory(atPath: store.runsFolder))?.filter { !$0.hasPrefix(".") }.count ?? 0)
            if r.configuration.schedule != c.schedule { r.anchor = now }
            r.configuration = c
            r.baseline = baseline
            r.quality = quality
            r.schedule = schedule
            r.next = c.enabled ? schedule.next(after: max(now, Int64(r.lastRun?.time ?? 0)), anchor: r.anchor) : nil
            monitors[c.name] = r
            return statusLocked(r)
        }
        supervisor.wake(self)
        return status
    }

    func delete(_ name: String) {
        lock.withLock { _ = monitors.removeValue(forKey: name) }
        metrics.monitors.remove(monitor: name)
    }

    private func statusLocked(_ r: Runtime) -> MonitorStatus {
        MonitorStatus(configuration: r.configuration, arn: MonitorConfiguration.arn(r.configuration.name), baselineRows: r.baseline.itemCount,
                      baselineFeatures: r.baseline.features.map(\.name), runs: r.runs, lastRun: r.lastRun, nextRun: r.next.map(Double.init))
    }

    // MARK: runs

    func reconcile(now: Date) async -> Date? {
        let t = Int64(now.timeIntervalSince1970)
        let due: [(String, Int64)] = lock.withLock {
            var out: [(String, Int64)] = []
            for (name, var r) in monitors {
                guard let next = r.next, next <= t, !r.running else { continue }
                // A clock moved past several firings runs once, at the latest of them: its window
                // reaches back to the previous run.
                var fire = next
                while let later = r.schedule.next(after: fire, anchor: r.anchor), later <= t { fire = later }
                r.next = r.schedule.next(after: fire, anchor: r.anchor)
                r.running = true
                monitors[name] = r
                out.append((name, fire))
            }
            return out
        }
        for (name, fire) in due {
            Parallel.detached({ [self] in execute(name, at: Double(fire)) }, completion: { _ in })
        }
        // A running monitor is looked at again when its run ends (it wakes the supervisor).
        return lock.withLock { monitors.values.filter { !$0.running }.compactMap(\.next).min().map { Date(timeIntervalSince1970: Double($0)) } }
    }

    func runNow(_ name: String) async throws -> MonitorRunSummary {
        let claimed: Bool = lock.withLock {
            guard var r = monitors[name], !r.running else { return false }
            r.running = true
            monitors[name] = r
            return true
        }
        guard claimed else {
            throw ControlError(message: lock.withLock { monitors[name] } == nil ? "no monitor \(name)" : "monitor \(name) is running; try again when it finishes", terminal: false)
        }
        // Captured records carry whole seconds: windows end on a whole second, so each record
        // falls in exactly one run's window [start, end).
        let time = clock.now().timeIntervalSince1970.rounded(.down)
        return await withCheckedContinuation { k in Parallel.detached({ [self] in execute(name, at: time) }, completion: { k.resume(returning: $0) }) }
    }

    func rebaseline(_ name: String) async throws -> MonitorStatus {
        guard let r = lock.withLock({ monitors[name] }) else { throw ControlError(message: "no monitor \(name)", terminal: false) }
        let (_, _, _, types) = try Self.check(r.configuration)
        let (baseline, quality) = try await loadBaseline(r.configuration, types: types)
        return lock.withLock {
            guard var current = monitors[name] else { return statusLocked(r) }
            current.baseline = baseline
            current.quality = quality
            monitors[name] = current
            return statusLocked(current)
        }
    }

    /// One run, on a thread of its own; the monitor was marked running by the caller.
    private func execute(_ name: String, at time: Double) -> MonitorRunSummary {
        guard let r = lock.withLock({ monitors[name] }) else {
            return MonitorRunSummary(id: "", status: "Failed", time: time, windowStart: time, windowEnd: time, records: 0, rows: 0, violations: 0,
                                     driftedFeatures: [], message: "the monitor was deleted", folder: nil)
        }
        let c = r.configuration
        let store = store(name)
        store.clearPartial()
        // The window ends half a second before the run starts (at the latest, on a whole second):
        // records still in the capture queue (written every 250 ms) belong to the next window,
        // never to none.
        let end = min(time, (clock.now().timeIntervalSince1970 - 0.5).rounded(.down))
        let start = min(c.window.map { end - $0 } ?? r.lastRun.map { $0.windowEnd } ?? Double(r.anchor), end)
        let id = store.newRunID(at: time)
        var summary = MonitorRunSummary(id: id, status: "Completed", time: time, windowStart: start, windowEnd: end, records: 0, rows: 0,
                                        violations: 0, driftedFeatures: [], message: nil, folder: store.runsFolder + "/" + id)
        var violations: [Violation] = []
        var drift: [DriftResult] = []
        var statistics: JSONValue?
        var quality: [(String, Double, QualityConstraint?)] = []
        do {
            let (_, rules, defaultRule, _) = try Self.check(c)
            if let q = r.quality {
                let files = CaptureReader.files(in: "\(directory)/capture/\(c.endpoint)", variant: c.variant, start: start, end: end)
                let outcome = Self.qualityRun(q, c, files: files, start: start, end: end, summary: &summary)
                statistics = outcome.statistics
                violations = outcome.violations
                quality = outcome.metrics
                throw Done()
            }
            let files = CaptureReader.files(in: "\(directory)/capture/\(c.endpoint)", variant: c.variant, start: start, end: end)
            let (window, read) = CaptureReader.read(files: files, template: r.baseline.template, start: start, end: end)
            summary.records = read.records
            summary.rows = window.rows
            if window.rows < c.minimumSamples {
                summary.status = "Skipped"
                summary.message = "\(window.rows) rows in the window, fewer than the minimum of \(c.minimumSamples); no comparison was made"
                    + (window.unreadableRecords > 0 ? " (\(window.unreadableRecords) records had no CSV input)" : "")
                    + (window.shortRows + window.longRows > 0 ? " (\(window.shortRows + window.longRows) rows had the wrong number of columns)" : "")
            } else {
                let e = Evaluation.evaluate(baseline: r.baseline, window: window, rules: rules, defaultRule: defaultRule)
                statistics = e.statistics
                violations = e.violations
                drift = e.drift
                summary.violations = violations.count
                summary.driftedFeatures = drift.filter(\.drifted).map(\.feature)
                if !violations.isEmpty { summary.status = "CompletedWithViolations" }
                if window.unreadableRecords > 0 { summary.message = "\(window.unreadableRecords) captured records had no CSV input and were not read" }
            }
        } catch is Done {
        } catch {
            summary.status = "Failed"
            summary.message = "\(error)"
        }
        let history = store.driftHistory(limit: 19) + [(id, drift)]
        let report = Report.html(monitor: name, summary: summary, violations: violations, drift: drift, history: history, quality: quality,
                                 qualityHistory: store.history(limit: 19).compactMap { run in run.metrics.map { (run.id, $0) } } + [(id, summary.metrics ?? [:])])
        do {
            try store.write(run: summary, statistics: statistics, violations: violations, drift: drift, report: report)
        } catch {
            summary.status = "Failed"
            summary.message = "cannot write the run's files: \(error)"
            summary.folder = nil
        }
        let stillThere: Bool = lock.withLock {
            guard var current = monitors[name] else { return false }
            current.running = false
            current.lastRun = summary
            current.runs += 1
            monitors[name] = current
            return true
        }
        // A monitor deleted during its run keeps no gauges.
        if stillThere { metrics.monitors.record(monitor: name, drift: drift, violations: violations, quality: quality) }
        HostLog.write("monitor \(name): run \(id) \(summary.status)"
                      + (summary.driftedFeatures.isEmpty ? "" : ", drift in \(summary.driftedFeatures.joined(separator: ", "))")
                      + (summary.message.map { ": \($0)" } ?? ""))
        onEvent?(Self.detailType(summary.status), Self.detail(name, c, summary, violations, drift, captureFolder: "\(directory)/capture/\(c.endpoint)"),
                 [MonitorConfiguration.arn(name)])
        supervisor.wake(self)
        return summary
    }

    /// Ends a model-quality run's part of `execute` early (its files are written the same way).
    private struct Done: Error {}

    /// Captured answers in the window joined with their labels, the problem type's metrics, and
    /// each metric's constraint.
    static func qualityRun(_ q: QualityBaseline, _ c: MonitorConfiguration, files: [String], start: Double, end: Double,
                           summary: inout MonitorRunSummary) -> (statistics: JSONValue?, violations: [Violation], metrics: [(String, Double, QualityConstraint?)]) {
        let (answers, records, unreadable) = CaptureReader.answers(files: files, start: start, end: end)
        let truth = GroundTruth.read(folder: c.groundTruth ?? "")
        var labels: [String] = [], predictions: [String] = []
        var matchedIDs = Set<String>()
        for a in answers {
            let key = a.inferenceID.flatMap { truth.labels[$0] != nil ? $0 : nil } ?? (truth.labels[a.eventID] != nil ? a.eventID : nil)
            guard let key, let label = truth.labels[key] else { continue }
            matchedIDs.insert(key)
            labels.append(label)
            predictions.append(a.text)
        }
        summary.records = records
        summary.rows = labels.count
        var notes: [String] = []
        let unlabeled = answers.count - labels.count
        if unlabeled > 0 { notes.append("\(unlabeled) captured answers have no ground truth yet") }
        let unknown = truth.labels.count - matchedIDs.count
        if unknown > 0 { notes.append("\(unknown) ground-truth records match no captured record in the window") }
        if truth.malformed > 0 { notes.append("\(truth.malformed) ground-truth lines are not in the merge format and were left out") }
        if unreadable > 0 { notes.append("\(unreadable) captured records have no output") }
        if labels.count < c.minimumSamples {
            summary.status = "Skipped"
            notes.insert("\(labels.count) answers with ground truth in the window, fewer than the minimum of \(c.minimumSamples); no comparison was made", at: 0)
            summary.message = notes.joined(separator: "; ")
            return (nil, [], [])
        }
        let values = QualityMetrics.compute(q.problem, labels: labels, answers: predictions, threshold: c.probabilityThreshold ?? 0.5)
        var violations: [Violation] = []
        var rows: [(String, Double, QualityConstraint?)] = []
        for m in q.problem.metrics {
            let v = values[m.name] ?? .nan
            let constraint = q.constraints[m.name]
            rows.append((m.name, v, constraint))
            if let constraint, v.isFinite, constraint.violated(by: v) {
                violations.append(Violation(metric: m.name, check: constraint.comparison,
                                            description: "Metric \(m.name) with \(Evaluation.fmt(v)) was \(constraint.comparison) '\(Evaluation.fmt(constraint.threshold))'"))
            }
        }
        summary.metrics = values.filter { $0.value.isFinite }
        summary.violations = violations.count
        if !violations.isEmpty { summary.status = "CompletedWithViolations" }
        if !notes.isEmpty { summary.message = notes.joined(separator: "; ") }
        return (QualityMetrics.statistics(q.problem, values, itemCount: labels.count), violations, rows)
    }

    static func detailType(_ status: String) -> String {
        switch status {
        case "CompletedWithViolations": return "Monitor Run Completed With Violations"
        case "Failed": return "Monitor Run Failed"
        case "Skipped": return "Monitor Run Skipped"
        default: return "Monitor Run Completed"
        }
    }

    static func detail(_ name: String, _ c: MonitorConfiguration, _ s: MonitorRunSummary, _ violations: [Violation], _ drift: [DriftResult],
                       captureFolder: String) -> JSONValue {
        var members: [JSONValue.Member] = [
            .init("monitor", .string(name)), .init("endpoint", .string(c.endpoint)), .init("status", .string(s.status)), .init("run", .string(s.id)),
            .init("windowStart", .string(CivilDate.iso(s.windowStart))), .init("windowEnd", .string(CivilDate.iso(s.windowEnd))),
            .init("records", .number(s.records)), .init("rows", .number(s.rows)),
        ]
        if let v = c.variant { members.append(.init("variant", .string(v))) }
        members.append(.init("capture", .string(captureFolder)))
        // The same entries as the run's constraint_violations.json.
        members.append(.init("violations", Evaluation.violationsJSON(violations)["violations"] ?? .array([])))
        members.append(.init("drift", .array(drift.map {
            .object([.init("feature", .string($0.feature)), .init("method", .string($0.method.rawValue)), .init("statistic", .number($0.statistic)),
                     .init("threshold", .number($0.threshold)), .init("drifted", .bool($0.drifted))])
        })))
        members.append(.init("driftedFeatures", .array(s.driftedFeatures.map { .string($0) })))
        if let m = s.metrics { members.append(.init("metrics", .object(m.keys.sorted().map { .init($0, .number(m[$0]!)) }))) }
        if let f = s.folder { members.append(.init("report", .string(f + "/report.html"))) }
        if let m = s.message { members.append(.init("message", .string(m))) }
        return .object(members)
    }

    func processExited(pid: Int32, status: Int32) async {}

    func describe(into snapshot: inout EnvironmentSnapshot) async {
        snapshot.monitors = lock.withLock { monitors.values.map { statusLocked($0) }.sorted { $0.configuration.name < $1.configuration.name } }
    }

    func shutdown() async {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, lock.withLock({ monitors.values.contains(where: \.running) }) { try? await Task.sleep(nanoseconds: 10_000_000) }
    }
}
