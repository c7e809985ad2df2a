import EnvironmentAPI
import Events
import Foundation
import Scaling

extension ScalingPolicy {
    /// The host's limit on instances and workers per target.
    static let maxCapacityLimit = 1_000
    /// CloudWatch: an alarm's evaluation range is at most one day.
    static let maxEvaluationSeconds = 86_400

    static func read(_ entry: ResourceEntry, reader: inout NodeReader, in context: ReadContext) -> ScalingPolicy? {
        let what = "scaling policy '\(entry.name)'"
        guard let keys = reader.keys(entry.node, allowed: ["target", "min", "max", "target_tracking", "step_scaling", "scheduled_actions"],
                                     context: what) else { return nil }
        var failed = false
        var target: ScalableTarget?
        var written: ScalableTarget?
        var targetText = ""
        var targetLocation: SourceLocation?
        if let t = reader.require(keys, "target", hint: "name what it scales: 'target: endpoints.fraud.variants.current' or 'target: functions.enrich'") {
            if let text = reader.literalString(t.value, what: "'target' of \(what)") {
                targetText = text
                targetLocation = reader.location(t.value)
                if let parsed = parseTarget(text) {
                    written = parsed
                    let address = parsed.function.map { ResourceAddress(.function, $0) } ?? ResourceAddress(.endpoint, parsed.endpoint ?? "")
                    let loc = targetLocation
                    if context.checkDeclared(address, reader: &reader, message: {
                        .unknownReference(address.description, suggestion: $0.map { "\(address.kind.rawValue).\($0)" }, at: loc)
                    }) { target = parsed } else { failed = true }
                } else {
                    reader.error(.badScalingTarget(text, of: what, at: targetLocation))
                    failed = true
                }
            } else { failed = true }
        } else { failed = true }
        let isFunction = written?.isFunction ?? false
        var bounds: [String: Int] = [:]
        for key in ["min", "max"] {
            guard let k = reader.require(keys, key, hint: key == "min" ? "add 'min: 1', the fewest \(isFunction ? "provisioned workers" : "instances") it keeps"
                                                                       : "add 'max: 4', the most \(isFunction ? "provisioned workers" : "instances") it may run") else { failed = true; continue }
            // A variant keeps at least one instance (the data path needs one to answer); a
            // function may go down to no provisioned workers.
            if let v = reader.integer(k.value, what: "'\(key)' of \(what)", range: (isFunction ? 0 : 1)...maxCapacityLimit) { bounds[key] = v } else { failed = true }
        }
        if let lo = bounds["min"], let hi = bounds["max"], lo > hi {
            reader.error(.scalingMinAboveMax(what, min: lo, max: hi, at: keys["min"]?.keyLocation))
            failed = true
        }
        var policy = ScalingPolicy(name: entry.name, target: target ?? .function(""), targetText: targetText, minCapacity: bounds["min"] ?? 1,
                                   maxCapacity: bounds["max"] ?? 1, location: reader.location(entry.node))
        policy.targetLocation = targetLocation
        var names: [String: SourceLocation?] = [:]
        func claim(_ name: String, at loc: SourceLocation?, reader: inout NodeReader) -> Bool {
            if names[name] != nil {
                reader.error(.scalingDuplicateName(name, of: what, at: loc))
                return false
            }
            names[name] = loc
            return true
        }
        if let t = keys["target_tracking"] {
            if let items = list(t.value, what: "'target_tracking' of \(what)", reader: &reader) {
                for (i, node) in items.enumerated() {
                    if let tt = readTracking(node, index: i, of: what, isFunction: isFunction, reader: &reader),
                       claim(tt.name, at: reader.location(node), reader: &reader) {
                        policy.targetTracking.append(tt)
                    } else { failed = true }
                }
            } else { failed = true }
        }
        if let s = keys["step_scaling"] {
            if let items = list(s.value, what: "'step_scaling' of \(what)", reader: &reader) {
                for (i, node) in items.enumerated() {
                    if let step = readStep(node, index: i, policy: entry.name, of: what, isFunction: isFunction, reader: &reader),
                       claim(step.name, at: reader.location(node), reader: &reader) {
                        policy.stepScaling.append(step)
                    } else { failed = true }
                }
            } else { failed = true }
        }
        if let s = keys["scheduled_actions"] {
            if let items = list(s.value, what: "'scheduled_actions' of \(what)", reader: &reader) {
                var bySchedule: [String: ScheduledAction] = [:]
                for (i, node) in items.enumerated() {
                    guard let action = readScheduled(node, index: i, of: what, isFunction: isFunction, reader: &reader),
                          claim(action.name, at: reader.location(node), reader: &reader) else { failed = true; continue }
                    // Two actions firing at the same moments with different bounds conflict.
                    let key = action.schedule + " " + (action.timeZone ?? "UTC")
                    if let other = bySchedule[key], other.minCapacity != action.minCapacity || other.maxCapacity != action.maxCapacity {
                        reader.error(.scalingConflictingSchedules(action.name, other: other.name, schedule: action.schedule, of: what, at: reader.location(node)))
                        failed = true
                        continue
                    }
                    bySchedule[key] = action
                    policy.scheduledActions.append(action)
                }
            } else { failed = true }
        }
        if keys["target_tracking"] == nil, keys["step_scaling"] == nil, keys["scheduled_actions"] == nil {
            reader.error(.missingKey("target_tracking", in: what, at: keys.location,
                                     hint: "add 'target_tracking:', 'step_scaling:' or 'scheduled_actions:' (a policy without any never scales)"))
            failed = true
        }
        return failed ? nil : policy
    }

    static func list(_ node: Node, what: String, reader: inout NodeReader) -> [Node]? {
        guard case .sequence(let items) = node, !items.items.isEmpty else {
            reader.error(.wrongType(what, expected: "a list with at least one entry", found: NodeReader.describe(node), at: reader.location(node)))
            return nil
        }
        return items.items
    }

    static func readName(_ keys: Keys, default fallback: String, of what: String, reader: inout NodeReader) -> String? {
        guard let n = keys["name"] else { return fallback }
        guard let text = reader.literalString(n.value, what: "'name' of \(what)") else { return nil }
        guard isValidName(text) else {
            reader.error(.badScalingName(text, of: what, at: reader.location(n.value)))
            return nil
        }
        return text
    }

    static func cooldown(_ keys: Keys, _ key: String, default value: Double, of what: String, reader: inout NodeReader) -> Double? {
        guard let k = keys[key] else { return value }
        return reader.duration(k.value, what: "'\(key)' of \(what)", range: .seconds(0, 86_400))
    }

    static func readTracking(_ node: Node, index: Int, of policy: String, isFunction: Bool, reader: inout NodeReader) -> TargetTrackingPolicy? {
        let what = "target tracking policy \(index + 1) of \(policy)"
        guard let keys = reader.keys(node, allowed: ["name", "metric", "target", "scale_in_cooldown", "scale_out_cooldown", "disable_scale_in"], context: what) else { return nil }
        var failed = false
        var metric: TrackedMetric?
        if let m = reader.require(keys, "metric", hint: isFunction ? "add 'metric: LambdaProvisionedConcurrencyUtilization'"
                                                                   : "add 'metric: SageMakerVariantInvocationsPerInstance' (or SageMakerVariantCPUUtilization, SageMakerVariantModelLatency)") {
            if let text = reader.literalString(m.value, what: "'metric' of \(what)") {
                if let parsed = TrackedMetric(rawValue: text) {
                    if parsed.forFunctions != isFunction {
                        reader.error(.scalingMetricForOtherTarget(text, of: what, function: isFunction, allowed: TrackedMetric.allCases.filter { $0.forFunctions == isFunction }.map(\.rawValue), at: reader.location(m.value)))
                        failed = true
                    } else { metric = parsed }
                } else {
                    let allowed = TrackedMetric.allCases.filter { $0.forFunctions == isFunction }.map(\.rawValue)
                    reader.error(.unknownScalingValue(text, what: "metric", of: what, suggestion: suggestion(for: text, among: allowed), allowed: allowed, at: reader.location(m.value)))
                    failed = true
                }
            } else { failed = true }
        } else { failed = true }
        var target = 0.0
        if let t = reader.require(keys, "target", hint: "add 'target: 70', the value of the metric each instance should sit at") {
            let range: ValueRange = metric == .provisionedConcurrencyUtilization ? .positive(atMost: 1) : .positive(atMost: 1e9)
            if let v = reader.number(t.value, what: "'target' of \(what)", range: range) { target = v } else { failed = true }
        } else { failed = true }
        // Application Auto Scaling's default for SageMaker variants is 300 s each; for Lambda, 0.
        let defaultCooldown = isFunction ? 0.0 : 300.0
        let scaleIn = cooldown(keys, "scale_in_cooldown", default: defaultCooldown, of: what, reader: &reader)
        let scaleOut = cooldown(keys, "scale_out_cooldown", default: defaultCooldown, of: what, reader: &reader)
        var disable = false
        if let d = keys["disable_scale_in"] {
            if let b = reader.bool(d.value, what: "'disable_scale_in' of \(what)") { disable = b } else { failed = true }
        }
        let name = readName(keys, default: metric.map { "\($0.rawValue)-\(formatCapacityNumber(target))" } ?? "target-tracking-\(index + 1)", of: what, reader: &reader)
        guard !failed, let metric, let scaleIn, let scaleOut, let name else { return nil }
        return TargetTrackingPolicy(name: name, metric: metric, targetValue: target, scaleInCooldown: scaleIn, scaleOutCooldown: scaleOut, disableScaleIn: disable)
    }

    static func readStep(_ node: Node, index: Int, policy name: String, of policy: String, isFunction: Bool, reader: inout NodeReader) -> StepScalingPolicy? {
        let what = "step scaling policy \(index + 1) of \(policy)"
        guard let keys = reader.keys(node, allowed: ["name", "alarm", "adjustment_type", "steps", "min_adjustment_magnitude", "cooldown"], context: what) else { return nil }
        var failed = false
        guard let stepName = readName(keys, default: "step-scaling-\(index + 1)", of: what, reader: &reader) else { return nil }
        var alarm: AlarmConfiguration?
        if let a = reader.require(keys, "alarm", hint: "add 'alarm: {metric: Invocations, statistic: Sum, period: 60s, evaluation_periods: 3, threshold: 1000, comparison: GreaterThanOrEqualToThreshold}'") {
            alarm = readAlarm(a.value, defaultName: "\(name)-\(stepName)", of: what, isFunction: isFunction, reader: &reader)
            if alarm == nil { failed = true }
        } else { failed = true }
        var type = AdjustmentType.changeInCapacity
        if let t = keys["adjustment_type"] {
            if let text = reader.literalString(t.value, what: "'adjustment_type' of \(what)") {
                if let parsed = AdjustmentType(rawValue: text) { type = parsed } else {
                    let allowed = AdjustmentType.allCases.map(\.rawValue)
                    reader.error(.unknownScalingValue(text, what: "adjustment type", of: what, suggestion: suggestion(for: text, among: allowed), allowed: allowed, at: reader.location(t.value)))
                    failed = true
                }
            } else { failed = true }
        }
        var steps: [StepAdjustment] = []
        if let s = reader.require(keys, "steps", hint: "add 'steps: [{lower: 0, adjustment: 1}]' (bounds relative to the alarm's threshold)") {
            if let items = list(s.value, what: "'steps' of \(what)", reader: &reader) {
                for (i, item) in items.enumerated() {
                    let swhat = "step \(i + 1) of \(what)"
                    guard let k = reader.keys(item, allowed: ["lower", "upper", "adjustment"], context: swhat) else { failed = true; continue }
                    var lower: Double?, upper: Double?
                    if let l = k["lower"] { lower = reader.number(l.value, what: "'lower' of \(swhat)", range: .closed(-1e12, 1e12)); if lower == nil { failed = true } }
                    if let u = k["upper"] { upper = reader.number(u.value, what: "'upper' of \(swhat)", range: .closed(-1e12, 1e12)); if upper == nil { failed = true } }
                    let range = type == .exactCapacity ? 0...maxCapacityLimit : (type == .percentChangeInCapacity ? -100...10_000 : -maxCapacityLimit...maxCapacityLimit)
                    guard let adj = reader.require(k, "adjustment", hint: type == .exactCapacity ? "add 'adjustment: 2', the capacity to set" : "add 'adjustment: 1' (or -1 to remove one)"),
                          let v = reader.integer(adj.value, what: "'adjustment' of \(swhat)", range: range) else { failed = true; continue }
                    steps.append(StepAdjustment(lower: lower, upper: upper, adjustment: v))
                }
                if !failed, let problem = Steps.problem(in: steps) {
                    reader.error(.badSteps(problem, of: what, at: reader.location(s.value)))
                    failed = true
                }
            } else { failed = true }
        } else { failed = true }
        var magnitude: Int?
        if let m = keys["min_adjustment_magnitude"] {
            if type != .percentChangeInCapacity {
                reader.error(.magnitudeWithoutPercent(what, at: m.keyLocation))
                failed = true
            } else if let v = reader.integer(m.value, what: "'min_adjustment_magnitude' of \(what)", range: 1...maxCapacityLimit) { magnitude = v } else { failed = true }
        }
        let cool = cooldown(keys, "cooldown", default: isFunction ? 0 : 300, of: what, reader: &reader)
        guard !failed, let alarm, let cool else { return nil }
        return StepScalingPolicy(name: stepName, alarm: alarm, adjustmentType: type, steps: steps, minAdjustmentMagnitude: magnitude, cooldown: cool)
    }

    static func readAlarm(_ node: Node, defaultName: String, of policy: String, isFunction: Bool, reader: inout NodeReader) -> AlarmConfiguration? {
        let what = "the alarm of \(policy)"
        guard let keys = reader.keys(node, allowed: ["name", "metric", "statistic", "period", "evaluation_periods", "datapoints_to_alarm", "threshold",
                                                     "comparison", "missing_data"], context: what) else { return nil }
        var failed = false
        var name = defaultName
        if let n = keys["name"] {
            if let text = reader.literalString(n.value, what: "'name' of \(what)") {
                if text.isEmpty || text.count > 255 || text.contains(where: \.isNewline) {
                    reader.error(.badAlarmName(text, of: what, at: reader.location(n.value)))
                    failed = true
                } else { name = text }
            } else { failed = true }
        }
        var metric: ScalingMetric?
        let allowedMetrics = ScalingMetric.allCases.filter { isFunction ? $0.forFunctions : $0.forVariants }.map(\.rawValue)
        if let m = reader.require(keys, "metric", hint: "add 'metric: \(isFunction ? "ProvisionedConcurrencyUtilization" : "Invocations")'") {
            if let text = reader.literalString(m.value, what: "'metric' of \(what)") {
                if let parsed = ScalingMetric(rawValue: text), allowedMetrics.contains(text) { metric = parsed } else {
                    reader.error(.unknownScalingValue(text, what: isFunction ? "metric of a function" : "metric of a variant", of: what,
                                                      suggestion: suggestion(for: text, among: allowedMetrics), allowed: allowedMetrics, at: reader.location(m.value)))
                    failed = true
                }
            } else { failed = true }
        } else { failed = true }
        var statistic = metric?.statistics.first ?? .sum
        if let s = keys["statistic"] {
            if let text = reader.literalString(s.value, what: "'statistic' of \(what)") {
                let allowed = (metric?.statistics ?? AlarmStatistic.allCases).map(\.rawValue)
                if let parsed = AlarmStatistic(rawValue: text), allowed.contains(text) { statistic = parsed } else {
                    reader.error(.unknownScalingValue(text, what: "statistic", of: what + (metric.map { " (\($0.rawValue) has \($0.statistics.map(\.rawValue).joined(separator: " and ")))" } ?? ""),
                                                      suggestion: suggestion(for: text, among: allowed), allowed: allowed, at: reader.location(s.value)))
                    failed = true
                }
            } else { failed = true }
        }
        var period = 60
        if let p = keys["period"] {
            if let seconds = reader.duration(p.value, what: "'period' of \(what)", range: .seconds(10, 86_400)) {
                let whole = Int(seconds)
                if Double(whole) != seconds || !(whole == 10 || whole == 30 || whole % 60 == 0) {
                    reader.error(.badAlarmPeriod(seconds, of: what, at: reader.location(p.value)))
                    failed = true
                } else { period = whole }
            } else { failed = true }
        }
        var evaluation = 1
        if let e = keys["evaluation_periods"] {
            if let v = reader.integer(e.value, what: "'evaluation_periods' of \(what)", range: 1...8_640) {
                if v * period > maxEvaluationSeconds {
                    reader.error(.alarmRangeTooLong(v, period: period, of: what, at: reader.location(e.value)))
                    failed = true
                } else { evaluation = v }
            } else { failed = true }
        }
        var datapoints = evaluation
        if let d = keys["datapoints_to_alarm"] {
            if let v = reader.integer(d.value, what: "'datapoints_to_alarm' of \(what)", range: 1...max(1, evaluation)) { datapoints = v } else { failed = true }
        }
        var threshold = 0.0
        if let t = reader.require(keys, "threshold", hint: "add 'threshold: 1000', the value the metric is compared with") {
            if let v = reader.number(t.value, what: "'threshold' of \(what)", range: .closed(-1e12, 1e12)) { threshold = v } else { failed = true }
        } else { failed = true }
        var comparison = AlarmComparison.greaterThanOrEqual
        if let c = reader.require(keys, "comparison", hint: "add 'comparison: GreaterThanOrEqualToThreshold' (or GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold)") {
            if let text = reader.literalString(c.value, what: "'comparison' of \(what)") {
                let allowed = AlarmComparison.allCases.map(\.rawValue)
                if let parsed = AlarmComparison(rawValue: text) { comparison = parsed } else {
                    reader.error(.unknownScalingValue(text, what: "comparison", of: what, suggestion: suggestion(for: text, among: allowed), allowed: allowed, at: reader.location(c.value)))
                    failed = true
                }
            } else { failed = true }
        } else { failed = true }
        var missing = MissingDataTreatment.missing
        if let m = keys["missing_data"] {
            if case .mapping = m.value {
                if let k = reader.keys(m.value, allowed: ["fill"], context: "'missing_data' of \(what)"),
                   let f = reader.require(k, "fill", hint: "write 'missing_data: {fill: 0}': a period without data counts as that value"),
                   let v = reader.number(f.value, what: "'fill' of \(what)", range: .closed(-1e12, 1e12)) {
                    missing = .filled(v)
                } else { failed = true }
            } else if let text = reader.literalString(m.value, what: "'missing_data' of \(what)") {
                let allowed = MissingDataTreatment.Treatment.allCases.map(\.rawValue)
                if let t = MissingDataTreatment.Treatment(rawValue: text) { missing = MissingDataTreatment(t) } else {
                    reader.error(.unknownScalingValue(text, what: "missing-data treatment", of: what, suggestion: suggestion(for: text, among: allowed),
                                                      allowed: allowed + ["{fill: VALUE}"], at: reader.location(m.value)))
                    failed = true
                }
            } else { failed = true }
        }
        guard !failed, let metric else { return nil }
        return AlarmConfiguration(name: name, metric: metric, statistic: statistic, period: period, evaluationPeriods: evaluation, datapointsToAlarm: datapoints,
                                  threshold: threshold, comparison: comparison, missingData: missing)
    }

    static func readScheduled(_ node: Node, index: Int, of policy: String, isFunction: Bool, reader: inout NodeReader) -> ScheduledAction? {
        let what = "scheduled action \(index + 1) of \(policy)"
        guard let keys = reader.keys(node, allowed: ["name", "schedule", "timezone", "min", "max"], context: what) else { return nil }
        var failed = false
        let name = readName(keys, default: "scheduled-\(index + 1)", of: what, reader: &reader)
        var schedule = ""
        if let s = reader.require(keys, "schedule", hint: "add 'schedule: cron(0 20 * * ? *)' (or at(2026-12-24T18:00:00), rate(1 day))") {
            if let text = reader.literalString(s.value, what: "'schedule' of \(what)") {
                do {
                    _ = try ScheduleExpression.parse(text)
                    schedule = text
                } catch {
                    reader.error(.badSchedule(text, problem: error.problem, of: what, at: EventRule.offsetLocation(s.value, error.offset, reader: reader)))
                    failed = true
                }
            } else { failed = true }
        } else { failed = true }
        var zone: String?
        if let z = keys["timezone"] {
            if let text = reader.literalString(z.value, what: "'timezone' of \(what)") {
                if TimeZone(identifier: text) == nil {
                    reader.error(.unknownTimeZone(text, of: what, at: reader.location(z.value)))
                    failed = true
                } else { zone = text }
            } else { failed = true }
        }
        var bounds: [String: Int] = [:]
        for key in ["min", "max"] {
            guard let k = keys[key] else { continue }
            if let v = reader.integer(k.value, what: "'\(key)' of \(what)", range: (isFunction ? 0 : 1)...maxCapacityLimit) { bounds[key] = v } else { failed = true }
        }
        if keys["min"] == nil, keys["max"] == nil {
            reader.error(.missingKey("min", in: what, at: keys.location, hint: "a scheduled action sets 'min:', 'max:' or both when it fires"))
            failed = true
        }
        if let lo = bounds["min"], let hi = bounds["max"], lo > hi {
            reader.error(.scalingMinAboveMax(what, min: lo, max: hi, at: keys["min"]?.keyLocation))
            failed = true
        }
        guard !failed, let name else { return nil }
        return ScheduledAction(name: name, schedule: schedule, timeZone: zone, minCapacity: bounds["min"], maxCapacity: bounds["max"])
    }
}
