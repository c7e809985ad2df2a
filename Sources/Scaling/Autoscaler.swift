import EnvironmentAPI
import Events
import Foundation

/// One contribution to a metric's datapoints: `count` samples adding up to `sum`, the smallest
/// and largest of them.
public struct MetricSample: Sendable, Equatable {
    public var metric: ScalingMetric
    public var sum: Double
    public var count: Double
    public var minimum: Double
    public var maximum: Double

    /// `n` events of value 1 (requests, errors).
    public static func events(_ metric: ScalingMetric, _ n: Double) -> MetricSample {
        MetricSample(metric: metric, sum: n, count: n, minimum: 1, maximum: 1)
    }

    /// One reading of a gauge (CPU, busy workers).
    public static func gauge(_ metric: ScalingMetric, _ value: Double) -> MetricSample {
        MetricSample(metric: metric, sum: value, count: 1, minimum: value, maximum: value)
    }

    /// `count` samples whose values add up to `sum` (latencies; 1/instances per request).
    public static func total(_ metric: ScalingMetric, sum: Double, count: Double) -> MetricSample {
        let mean = count > 0 ? sum / count : 0
        return MetricSample(metric: metric, sum: sum, count: count, minimum: mean, maximum: mean)
    }
}

/// One period's samples of a metric, as CloudWatch aggregates them into a datapoint.
public struct PeriodAggregate: Sendable, Codable, Equatable {
    public var sum = 0.0
    public var count = 0.0
    public var minimum: Double?
    public var maximum: Double?

    mutating func add(_ s: MetricSample) {
        guard s.count > 0, s.sum.isFinite else { return }
        sum += s.sum
        count += s.count
        minimum = min(minimum ?? s.minimum, s.minimum)
        maximum = max(maximum ?? s.maximum, s.maximum)
    }

    /// The datapoint's value for `statistic`; nil when the period had no samples (missing).
    public func value(_ statistic: AlarmStatistic) -> Double? {
        guard count > 0 else { return nil }
        switch statistic {
        case .sum: return sum
        case .average: return sum / count
        case .sampleCount: return count
        case .minimum: return minimum
        case .maximum: return maximum
        }
    }
}

/// A change of the target's desired capacity, in Application Auto Scaling's words.
public struct ScalingDecision: Sendable, Equatable {
    /// Unix seconds on the environment's clock.
    public var time: Double
    /// The policy (target tracking, step scaling or scheduled action) that made it.
    public var policy: String
    public var from: Int
    public var to: Int
    public var description: String
    public var cause: String
}

/// The autoscaler of one scalable target, as a pure value: samples go in (`record`), time moves
/// on (`advance`), and decisions come out. It aggregates samples into datapoints per period,
/// evaluates every alarm at each period's end (target tracking's two alarms per policy on
/// one-minute datapoints), and applies Application Auto Scaling's rules: scale out if any policy
/// wants more, scale in only if every target tracking policy agrees (the largest capacity wins),
/// cooldowns (a scale-out in its cooldown only if larger; a scale-in waits for its cooldown, and a
/// scale-out ends it), and scheduled actions that move the bounds, whatever the cooldowns.
public struct Autoscaler: Sendable, Codable, Equatable {
    struct SeriesKey: Hashable, Codable, Sendable {
        var metric: ScalingMetric
        var period: Int
    }

    struct Series: Codable, Equatable, Sendable {
        var key: SeriesKey
        var buckets: [Int64: PeriodAggregate] = [:]
    }

    public struct Alarm: Sendable, Codable, Equatable {
        public var name: String
        public var state: AlarmState = .insufficientData
        public var reason = "no evaluation yet"
        public var lastValue: Double?
    }

    public private(set) var config: ScalingPolicyConfiguration
    public private(set) var desired: Int
    public private(set) var minCapacity: Int
    public private(set) var maxCapacity: Int
    /// Every alarm by name: step scaling's, and each target tracking policy's high and low.
    public private(set) var alarms: [Alarm] = []
    var series: [Series] = []
    /// The average capacity that served in each one-minute period (target tracking's base).
    var capacity = Series(key: SeriesKey(metric: .invocations, period: 60))
    /// The time up to which periods are closed and schedules fired.
    public private(set) var clock: Double
    /// When the policy was created (rate schedules count from it).
    let anchor: Int64
    var nextFirings: [Int64?]
    var trackingLastOut: Double?
    var trackingLastIn: Double?
    var stepLastOut: [String: Double] = [:]
    var stepOutBase: [String: Int] = [:]
    var stepLastIn: [String: Double] = [:]

    /// Registers the target at `capacity`: a capacity outside the bounds is brought inside them
    /// (the returned decision).
    public init(config: ScalingPolicyConfiguration, capacity current: Int, now: Double) {
        self.config = config
        minCapacity = config.minCapacity
        maxCapacity = config.maxCapacity
        desired = current
        clock = now
        anchor = Int64(now)
        nextFirings = []
        alarms = Self.alarmNames(of: config).map { Alarm(name: $0) }
        series = Self.seriesKeys(of: config).map { Series(key: $0) }
        nextFirings = config.scheduledActions.map { Self.firing(of: $0, after: Int64(now), anchor: Int64(now)) }
    }

    /// Takes a new configuration, keeping what was measured (datapoints of metrics still used,
    /// alarm states by name), the desired capacity and the cooldowns; the bounds become the
    /// configuration's when its own bounds changed (else a scheduled action's stay).
    public mutating func reconfigure(_ new: ScalingPolicyConfiguration) {
        let oldSeries = Dictionary(uniqueKeysWithValues: series.map { ($0.key, $0) })
        let oldAlarms = Dictionary(uniqueKeysWithValues: alarms.map { ($0.name, $0) })
        let oldFirings = Dictionary(zip(config.scheduledActions, nextFirings).map { ($0.0.name + "\u{0}" + $0.0.schedule + "\u{0}" + ($0.0.timeZone ?? ""), $0.1) }) { a, _ in a }
        // Bounds a scheduled action set stay, unless the policy's own bounds changed.
        if new.minCapacity != config.minCapacity || new.maxCapacity != config.maxCapacity {
            minCapacity = new.minCapacity
            maxCapacity = new.maxCapacity
        }
        config = new
        series = Self.seriesKeys(of: new).map { oldSeries[$0] ?? Series(key: $0) }
        alarms = Self.alarmNames(of: new).map { oldAlarms[$0] ?? Alarm(name: $0) }
        nextFirings = new.scheduledActions.map { a in
            oldFirings[a.name + "\u{0}" + a.schedule + "\u{0}" + (a.timeZone ?? "")] ?? Self.firing(of: a, after: Int64(clock), anchor: anchor)
        }
    }

    /// The decision that brings the desired capacity inside the bounds, if it is outside them
    /// (at registration, or after `reconfigure`).
    public mutating func clampToBounds(now: Double) -> ScalingDecision? {
        let to = min(max(desired, minCapacity), maxCapacity)
        guard to != desired else { return nil }
        let cause = to > desired ? "minimum capacity was set to \(minCapacity)" : "maximum capacity was set to \(maxCapacity)"
        return change(to: to, at: now, policy: config.name, cause: cause)
    }

    // MARK: measuring

    /// Adds samples taken at `time` (the period they fall in gets them).
    public mutating func record(_ samples: [MetricSample], at time: Double) {
        for s in samples {
            for i in series.indices where series[i].key.metric == s.metric {
                let index = Int64((time / Double(series[i].key.period)).rounded(.down))
                series[i].buckets[index, default: PeriodAggregate()].add(s)
            }
        }
    }

    /// Records the capacity that served at `time` (the base target tracking scales from).
    public mutating func record(capacity serving: Int, at time: Double) {
        let index = Int64((time / 60).rounded(.down))
        capacity.buckets[index, default: PeriodAggregate()].add(.gauge(.invocations, Double(serving)))
    }

    // MARK: time

    /// The periods' ends and schedule firings in `(clock, now]`, in time order (a scheduled action
    /// before an evaluation at the same second). A jump of more than `maxSteps` periods
    /// evaluates the last `maxSteps` of them only: older periods were missing data anyway.
    public mutating func advance(to now: Double, maxSteps: Int = 2_000) -> [ScalingDecision] {
        guard now > clock else { return [] }
        var events: [(time: Double, scheduled: Int?)] = []
        for p in periods {
            let period = Double(p)
            var k = (clock / period).rounded(.down) + 1
            let last = (now / period).rounded(.down)
            if last - k > Double(maxSteps) { k = last - Double(maxSteps) }
            while k <= last {
                events.append((k * period, nil))
                k += 1
            }
        }
        for (i, action) in config.scheduledActions.enumerated() {
            var n = 0
            while let t = nextFirings[i], Double(t) <= now, n < 1_000 {
                events.append((Double(t), i))
                nextFirings[i] = Self.firing(of: action, after: t, anchor: anchor)
                n += 1
            }
        }
        events.sort { $0.time != $1.time ? $0.time < $1.time : ($0.scheduled != nil && $1.scheduled == nil) }
        var decisions: [ScalingDecision] = []
        var i = 0
        while i < events.count {
            let t = events[i].time
            if let a = events[i].scheduled {
                decisions.append(fire(config.scheduledActions[a], at: t))
                i += 1
                continue
            }
            // Every period that ends at `t`, evaluated together.
            while i < events.count, events[i].time == t, events[i].scheduled == nil { i += 1 }
            if let d = evaluate(at: t, periodsEnding: Set(periods.filter { (t / Double($0)).rounded(.down) * Double($0) == t })) { decisions.append(d) }
        }
        clock = now
        prune()
        return decisions
    }

    /// The next scheduled action's time, if any.
    public var nextScheduledAction: Double? { nextFirings.compactMap { $0 }.min().map(Double.init) }

    /// The next time `advance` has something to do: a period's end or a scheduled action.
    public var nextDue: Double {
        let ends = periods.map { p in ((clock / Double(p)).rounded(.down) + 1) * Double(p) }
        return (ends + [nextScheduledAction].compactMap { $0 }).min() ?? clock + 60
    }

    var periods: [Int] {
        var all = Set(series.map(\.key.period))
        if !config.targetTracking.isEmpty { all.insert(60) }
        return all.sorted()
    }

    // MARK: deciding

    func values(_ key: SeriesKey, statistic: AlarmStatistic, endingAt t: Double, count: Int) -> [Double?] {
        guard let s = series.first(where: { $0.key == key }) else { return Array(repeating: nil, count: count) }
        let last = Int64((t / Double(key.period)).rounded(.down)) - 1
        // Periods that ended before the policy existed are not part of the range (the one it
        // was created in is).
        let first = Int64((Double(anchor) / Double(key.period)).rounded(.down))
        return (0..<count).reversed().compactMap { i -> Double?? in
            let index = last - Int64(i)
            return index < first ? nil : .some(s.buckets[index]?.value(statistic))
        }
    }

    mutating func setAlarm(_ name: String, _ result: (AlarmState, String), last: Double?) {
        guard let i = alarms.firstIndex(where: { $0.name == name }) else { return }
        alarms[i].state = result.0
        alarms[i].reason = result.1
        alarms[i].lastValue = last
    }

    func alarmState(_ name: String) -> AlarmState { alarms.first { $0.name == name }?.state ?? .insufficientData }

    mutating func evaluate(at t: Double, periodsEnding: Set<Int>) -> ScalingDecision? {
        var out: [(capacity: Int, cause: String, policy: String, tracking: Bool)] = []
        var stepIn: [(capacity: Int, cause: String, policy: String)] = []
        var trackingIn: [(capacity: Int, cause: String, policy: String)] = []
        var trackingInReady = !config.targetTracking.filter { !$0.disableScaleIn }.isEmpty && periodsEnding.contains(60)

        if periodsEnding.contains(60) {
            let base = capacity.buckets[Int64(t / 60) - 1]?.value(.average) ?? Double(desired)
            for tt in config.targetTracking {
                let (metric, statistic) = tt.metric.metric
                let key = SeriesKey(metric: metric, period: 60)
                let names = Self.trackingAlarmNames(config, tt)
                let high = values(key, statistic: statistic, endingAt: t, count: TargetTracking.scaleOutDatapoints)
                let low = values(key, statistic: statistic, endingAt: t, count: TargetTracking.scaleInDatapoints)
                let previousHigh = alarmState(names.high), previousLow = alarmState(names.low)
                setAlarm(names.high, AlarmEvaluation.state(of: high, datapointsToAlarm: TargetTracking.scaleOutDatapoints, threshold: tt.targetValue,
                                                           comparison: .greaterThan, missingData: .missing, previous: previousHigh), last: high.last ?? nil)
                setAlarm(names.low, AlarmEvaluation.state(of: low, datapointsToAlarm: TargetTracking.scaleInDatapoints,
                                                          threshold: tt.targetValue * TargetTracking.scaleInFraction, comparison: .lessThan,
                                                          missingData: .missing, previous: previousLow), last: low.last ?? nil)
                let value = high.last ?? nil
                if alarmState(names.high) == .alarm, let v = value, let want = TargetTracking.capacity(for: v, measuredAt: base, target: tt.targetValue), want > desired {
                    out.append((want, "monitor alarm \(names.high) in state ALARM triggered policy \(tt.name)", tt.name, true))
                }
                guard !tt.disableScaleIn else { continue }
                if alarmState(names.low) == .alarm, let v = value, let want = TargetTracking.capacity(for: v, measuredAt: base, target: tt.targetValue),
                   trackingLastIn.map({ t - $0 >= tt.scaleInCooldown }) ?? true {
                    trackingIn.append((want, "monitor alarm \(names.low) in state ALARM triggered policy \(tt.name)", tt.name))
                } else {
                    trackingInReady = false
                }
            }
        }
        for step in config.stepScaling where periodsEnding.contains(step.alarm.period) {
            let a = step.alarm
            let window = values(SeriesKey(metric: a.metric, period: a.period), statistic: a.statistic, endingAt: t, count: a.evaluationPeriods)
            let result = AlarmEvaluation.state(of: window, datapointsToAlarm: a.datapointsToAlarm, threshold: a.threshold, comparison: a.comparison,
                                               missingData: a.missingData, previous: alarmState(a.name))
            let latest = (window.last ?? nil) ?? a.missingData.fill
            setAlarm(a.name, result, last: latest)
            // An alarm in ALARM invokes its policy at every evaluation; the step is chosen by the
            // newest datapoint (a missing one counts as breaching, at the threshold, when treated so).
            guard result.0 == .alarm else { continue }
            guard let value = latest ?? (a.missingData.treatment == .breaching ? a.threshold : nil),
                  let adjustment = Steps.step(for: value, threshold: a.threshold, comparison: a.comparison, in: step.steps) else { continue }
            let cause = "monitor alarm \(a.name) in state ALARM triggered policy \(step.name)"
            let upward = step.adjustmentType == .exactCapacity ? adjustment.adjustment > desired : adjustment.adjustment > 0
            if upward {
                let inCooldown = stepLastOut[step.name].map { t - $0 < step.cooldown } ?? false
                let base = inCooldown ? (stepOutBase[step.name] ?? desired) : desired
                let want = Steps.apply(step.adjustmentType, adjustment.adjustment, to: base, minMagnitude: step.minAdjustmentMagnitude)
                if want > desired { out.append((want, cause, step.name, false)) }
            } else if adjustment.adjustment != 0 || step.adjustmentType == .exactCapacity {
                if let last = stepLastIn[step.name], t - last < step.cooldown { continue }
                let want = Steps.apply(step.adjustmentType, adjustment.adjustment, to: desired, minMagnitude: step.minAdjustmentMagnitude)
                if want < desired { stepIn.append((want, cause, step.name)) }
            }
        }
        if let best = out.max(by: { $0.capacity < $1.capacity }) {
            let to = min(max(best.capacity, minCapacity), maxCapacity)
            guard to > desired else { return nil }
            let from = desired
            if best.tracking {
                trackingLastOut = t
                trackingLastIn = nil
            } else {
                if !(stepLastOut[best.policy].map { t - $0 < (config.stepScaling.first { $0.name == best.policy }?.cooldown ?? 0) } ?? false) {
                    stepOutBase[best.policy] = from
                }
                stepLastOut[best.policy] = t
            }
            return change(to: to, at: t, policy: best.policy, cause: best.cause)
        }
        var ins = stepIn
        if trackingInReady, let want = trackingIn.max(by: { $0.capacity < $1.capacity }) { ins.append(want) }
        guard let best = ins.max(by: { $0.capacity < $1.capacity }) else { return nil }
        let to = max(min(best.capacity, maxCapacity), minCapacity)
        guard to < desired else { return nil }
        if config.stepScaling.contains(where: { $0.name == best.policy }) { stepLastIn[best.policy] = t } else { trackingLastIn = t }
        return change(to: to, at: t, policy: best.policy, cause: best.cause)
    }

    mutating func fire(_ action: ScheduledAction, at t: Double) -> ScalingDecision {
        minCapacity = action.minCapacity ?? minCapacity
        maxCapacity = max(action.maxCapacity ?? maxCapacity, minCapacity)
        let to = min(max(desired, minCapacity), maxCapacity)
        var description = "Setting min capacity to \(minCapacity) and max capacity to \(maxCapacity)"
        if to != desired { description += " and desired \(config.target.capacityNoun) to \(to)" }
        let from = desired
        desired = to
        return ScalingDecision(time: t, policy: action.name, from: from, to: to, description: description + ".",
                               cause: "scheduled action name \(action.name) was triggered" + (to != from ? " changing the desired capacity from \(from) to \(to)" : ""))
    }

    mutating func change(to: Int, at t: Double, policy: String, cause: String) -> ScalingDecision {
        let from = desired
        desired = to
        return ScalingDecision(time: t, policy: policy, from: from, to: to, description: "Setting desired \(config.target.capacityNoun) to \(to).",
                               cause: "\(cause) changing the desired capacity from \(from) to \(to)")
    }

    mutating func prune() {
        let keep = Int64(max(TargetTracking.scaleInDatapoints, config.stepScaling.map(\.alarm.evaluationPeriods).max() ?? 0) + 2)
        for i in series.indices {
            let newest = Int64((clock / Double(series[i].key.period)).rounded(.down))
            series[i].buckets = series[i].buckets.filter { $0.key >= newest - keep }
        }
        let newest = Int64((clock / 60).rounded(.down))
        capacity.buckets = capacity.buckets.filter { $0.key >= newest - 2 }
    }

    // MARK: names

    /// Target tracking's alarms, named as Application Auto Scaling names them, with a UUID
    /// derived from the policy (stable across restarts of the host).
    static func trackingAlarmNames(_ config: ScalingPolicyConfiguration, _ tt: TargetTrackingPolicy) -> (high: String, low: String) {
        let id = stableUUID("\(config.name)/\(tt.name)")
        return ("TargetTracking-\(config.target.resourceID)-AlarmHigh-\(id)", "TargetTracking-\(config.target.resourceID)-AlarmLow-\(id)")
    }

    static func alarmNames(of config: ScalingPolicyConfiguration) -> [String] {
        config.targetTracking.flatMap { tt -> [String] in let n = trackingAlarmNames(config, tt); return [n.high, n.low] }
            + config.stepScaling.map(\.alarm.name)
    }

    static func seriesKeys(of config: ScalingPolicyConfiguration) -> [SeriesKey] {
        var keys: [SeriesKey] = []
        for tt in config.targetTracking { keys.append(SeriesKey(metric: tt.metric.metric.0, period: 60)) }
        for s in config.stepScaling { keys.append(SeriesKey(metric: s.alarm.metric, period: s.alarm.period)) }
        var seen = Set<SeriesKey>()
        return keys.filter { seen.insert($0).inserted }
    }

    static func firing(of action: ScheduledAction, after t: Int64, anchor: Int64) -> Int64? {
        guard let expression = try? ScheduleExpression.parse(action.schedule) else { return nil }
        return expression.next(after: t, anchor: anchor, timeZone: action.timeZone.flatMap(TimeZone.init(identifier:)))
    }

    /// A UUID-shaped name from FNV-1a hashes of `text`.
    static func stableUUID(_ text: String) -> String {
        func fnv(_ seed: UInt64) -> UInt64 {
            var h: UInt64 = 0xcbf29ce484222325 ^ seed
            for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
            return h
        }
        let a = String(fnv(0), radix: 16).leftPadded(16), b = String(fnv(0x9e3779b97f4a7c15), radix: 16).leftPadded(16)
        let hex = Array(a + b)
        return "\(String(hex[0..<8]))-\(String(hex[8..<12]))-\(String(hex[12..<16]))-\(String(hex[16..<20]))-\(String(hex[20..<32]))"
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
