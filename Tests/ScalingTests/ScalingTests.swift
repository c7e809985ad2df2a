import EnvironmentAPI
import Foundation
import Scaling
import Testing

/// Application Auto Scaling's documented step arithmetic.
@Suite struct StepArithmeticTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var type: AdjustmentType
        var adjustment: Int
        var current: Int
        var minMagnitude: Int?
        var expected: Int
        var testDescription: String { "\(type.rawValue) \(adjustment) from \(current) -> \(expected)" }
    }

    static let cases: [Case] = [
        Case(type: .percentChangeInCapacity, adjustment: 10, current: 10, expected: 11),   // 10 instances +10% -> 11
        Case(type: .percentChangeInCapacity, adjustment: 30, current: 11, expected: 14),   // +30% of 11 is 3.3 -> 3
        Case(type: .percentChangeInCapacity, adjustment: 10, current: 5, expected: 6),     // 0.5 becomes 1
        Case(type: .percentChangeInCapacity, adjustment: -10, current: 5, expected: 4),    // -0.5 becomes -1
        Case(type: .percentChangeInCapacity, adjustment: -25, current: 10, expected: 8),   // -2.5 rounds toward zero: -2
        Case(type: .percentChangeInCapacity, adjustment: 10, current: 10, minMagnitude: 3, expected: 13),
        Case(type: .percentChangeInCapacity, adjustment: -10, current: 10, minMagnitude: 2, expected: 8),
        Case(type: .percentChangeInCapacity, adjustment: 0, current: 4, expected: 4),
        Case(type: .changeInCapacity, adjustment: 2, current: 3, expected: 5),
        Case(type: .changeInCapacity, adjustment: -1, current: 3, expected: 2),
        Case(type: .exactCapacity, adjustment: 7, current: 3, expected: 7),
    ]

    @Test(arguments: cases) func adjustment(_ c: Case) {
        #expect(Steps.apply(c.type, c.adjustment, to: c.current, minMagnitude: c.minMagnitude) == c.expected)
    }

    /// AAS's example: threshold 50; [0, 10) +10%, [10, 20) +20%, [20, inf) +30%. Above the
    /// threshold the lower bound is inclusive, below it the upper bound is.
    @Test func stepChosenByValueRelativeToThreshold() {
        let out = [StepAdjustment(lower: 0, upper: 10, adjustment: 10), StepAdjustment(lower: 10, upper: 20, adjustment: 20),
                   StepAdjustment(lower: 20, upper: nil, adjustment: 30)]
        #expect(Steps.step(for: 50, threshold: 50, in: out)?.adjustment == 10)
        #expect(Steps.step(for: 59.9, threshold: 50, in: out)?.adjustment == 10)
        #expect(Steps.step(for: 60, threshold: 50, in: out)?.adjustment == 20)
        #expect(Steps.step(for: 75, threshold: 50, in: out)?.adjustment == 30)
        let scaleIn = [StepAdjustment(lower: -10, upper: 0, adjustment: -1), StepAdjustment(lower: nil, upper: -10, adjustment: -2)]
        #expect(Steps.step(for: 50, threshold: 50, comparison: .lessThanOrEqual, in: scaleIn)?.adjustment == -1)
        #expect(Steps.step(for: 40, threshold: 50, comparison: .lessThan, in: scaleIn)?.adjustment == -2)
        #expect(Steps.step(for: 40.1, threshold: 50, comparison: .lessThan, in: scaleIn)?.adjustment == -1)
    }

    struct RuleCase: CustomTestStringConvertible, Sendable {
        var name: String
        var steps: [StepAdjustment]
        var problem: String?
        var testDescription: String { name }
    }

    static let rules: [RuleCase] = [
        RuleCase(name: "contiguous", steps: [StepAdjustment(lower: 0, upper: 10, adjustment: 1), StepAdjustment(lower: 10, upper: nil, adjustment: 2)], problem: nil),
        RuleCase(name: "one unbounded step", steps: [StepAdjustment(lower: nil, upper: nil, adjustment: 1)], problem: nil),
        RuleCase(name: "overlap", steps: [StepAdjustment(lower: 0, upper: 15, adjustment: 1), StepAdjustment(lower: 10, upper: nil, adjustment: 2)],
                 problem: "the steps [0, 15) and [10, +inf) overlap"),
        RuleCase(name: "gap", steps: [StepAdjustment(lower: 0, upper: 10, adjustment: 1), StepAdjustment(lower: 20, upper: nil, adjustment: 2)],
                 problem: "there is a gap between the steps [0, 10) and [20, +inf)"),
        RuleCase(name: "positive upper bound without an unbounded step above", steps: [StepAdjustment(lower: 0, upper: 10, adjustment: 1)],
                 problem: "the highest step ends at 10, above the threshold: add a step without an upper bound over it"),
        RuleCase(name: "negative lower bound without an unbounded step below", steps: [StepAdjustment(lower: -10, upper: 0, adjustment: -1)],
                 problem: "the lowest step starts at -10, below the threshold: add a step without a lower bound under it"),
        RuleCase(name: "two without a lower bound", steps: [StepAdjustment(lower: nil, upper: 0, adjustment: -1), StepAdjustment(lower: nil, upper: -5, adjustment: -2)],
                 problem: "only one step may leave out its lower bound (minus infinity)"),
        RuleCase(name: "empty bounds", steps: [StepAdjustment(lower: 5, upper: 5, adjustment: 1)],
                 problem: "step 1: its lower bound 5 is not below its upper bound 5"),
    ]

    @Test(arguments: rules) func stepRules(_ c: RuleCase) {
        #expect(Steps.problem(in: c.steps) == c.problem)
    }
}

/// CloudWatch's alarm states with missing data: 3 periods, 3 datapoints to alarm unless said.
@Suite struct AlarmEvaluationTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var points: String   // X breaching, 0 not breaching, - missing; oldest first
        var m: Int
        var treatment: MissingDataTreatment
        var previous: AlarmState = .ok
        var expected: AlarmState
        var testDescription: String { "\(points) m=\(m) \(treatment.text) -> \(expected.rawValue)" }
    }

    static let cases: [Case] = [
        Case(points: "XXX", m: 3, treatment: .missing, expected: .alarm),
        Case(points: "0XX", m: 3, treatment: .missing, expected: .ok),
        Case(points: "0XX", m: 2, treatment: .missing, expected: .alarm),
        Case(points: "---", m: 3, treatment: .missing, expected: .insufficientData),
        Case(points: "---", m: 3, treatment: MissingDataTreatment(.ignore), previous: .alarm, expected: .alarm),
        Case(points: "---", m: 3, treatment: MissingDataTreatment(.breaching), expected: .alarm),
        Case(points: "---", m: 3, treatment: MissingDataTreatment(.notBreaching), previous: .alarm, expected: .ok),
        Case(points: "0-X-X", m: 3, treatment: .missing, expected: .ok),
        Case(points: "0XX-X", m: 3, treatment: .missing, expected: .alarm),
        Case(points: "--X--", m: 3, treatment: .missing, previous: .ok, expected: .ok),
        Case(points: "--X--", m: 3, treatment: .missing, previous: .alarm, expected: .alarm),
        Case(points: "--X--", m: 3, treatment: MissingDataTreatment(.ignore), previous: .ok, expected: .ok),
        Case(points: "--X--", m: 3, treatment: MissingDataTreatment(.breaching), expected: .alarm),
        Case(points: "--X--", m: 3, treatment: MissingDataTreatment(.notBreaching), expected: .ok),
        Case(points: "0----", m: 3, treatment: .missing, expected: .ok),
        Case(points: "0----", m: 3, treatment: MissingDataTreatment(.breaching), expected: .alarm),
        // A fill value below the threshold (silence as zero) breaches a "less than" alarm.
        Case(points: "---", m: 3, treatment: .filled(0), expected: .alarm),
        Case(points: "X", m: 3, treatment: .filled(0), previous: .insufficientData, expected: .insufficientData),
        Case(points: "0--", m: 3, treatment: .filled(5), expected: .ok),
    ]

    /// Breaching values are 0 (< 1), not breaching 10; fill values are compared as they are.
    @Test(arguments: cases) func state(_ c: Case) {
        let values: [Double?] = c.points.map { $0 == "X" ? 0 : ($0 == "0" ? 10 : nil) }
        let (state, _) = AlarmEvaluation.state(of: values, datapointsToAlarm: c.m, threshold: 1, comparison: .lessThan,
                                               missingData: c.treatment, previous: c.previous)
        #expect(state == c.expected)
    }
}

@Suite struct AutoscalerTests {
    static let target = ScalableTarget.variant("fraud", "current")

    func tracking(target value: Double = 70, scaleIn: Double = 300, disableScaleIn: Bool = false) -> TargetTrackingPolicy {
        TargetTrackingPolicy(name: "invocations", metric: .invocationsPerInstance, targetValue: value, scaleInCooldown: scaleIn,
                             scaleOutCooldown: 300, disableScaleIn: disableScaleIn)
    }

    /// A minute of `perMinute` requests served by `instances`, sampled each second.
    func minute(_ a: inout Autoscaler, from t: Double, perMinute: Double, instances: Int) -> [ScalingDecision] {
        var decisions: [ScalingDecision] = []
        for s in 0..<60 {
            let time = t + Double(s)
            decisions += a.advance(to: time)
            if perMinute > 0 {
                a.record([.events(.invocations, perMinute / 60), .total(.invocationsPerInstance, sum: perMinute / 60 / Double(instances), count: perMinute / 60)], at: time)
            }
            a.record(capacity: instances, at: time)
        }
        return decisions
    }

    @Test func targetTrackingScalesOutProportionallyAfterThreeMinutesAbove() {
        let config = ScalingPolicyConfiguration(name: "fraud-current", target: Self.target, minCapacity: 1, maxCapacity: 6, targetTracking: [tracking()])
        var a = Autoscaler(config: config, capacity: 1, now: 0)
        var decisions: [ScalingDecision] = []
        for m in 0..<4 { decisions += minute(&a, from: Double(m) * 60, perMinute: 250, instances: 1) }
        // 250 a minute on one instance against 70: ceil(250 / 70) = 4, after the third datapoint.
        #expect(decisions.count == 1)
        #expect(decisions.first?.time == 180)
        #expect(decisions.first?.to == 4)
        #expect(decisions.first?.cause.hasPrefix("monitor alarm TargetTracking-endpoint/fraud/variant/current-AlarmHigh-") == true)
        #expect(decisions.first?.cause.hasSuffix("in state ALARM triggered policy invocations changing the desired capacity from 1 to 4") == true)
    }

    @Test func targetTrackingNeverScalesInWithoutData() {
        let config = ScalingPolicyConfiguration(name: "p", target: Self.target, minCapacity: 1, maxCapacity: 6, targetTracking: [tracking()])
        var a = Autoscaler(config: config, capacity: 4, now: 0)
        let decisions = a.advance(to: 3_600)
        #expect(decisions.isEmpty)
        #expect(a.desired == 4)
        #expect(a.alarms.allSatisfy { $0.state == .insufficientData })
    }

    @Test func targetTrackingScalesInAfterFifteenMinutesClearlyBelow() {
        let config = ScalingPolicyConfiguration(name: "p", target: Self.target, minCapacity: 1, maxCapacity: 6, targetTracking: [tracking()])
        var a = Autoscaler(config: config, capacity: 4, now: 0)
        var decisions: [ScalingDecision] = []
        // 4 instances at 65 a minute each: below the target, not clearly (63 = 90% of 70).
        for m in 0..<16 { decisions += minute(&a, from: Double(m) * 60, perMinute: 260, instances: 4) }
        #expect(decisions.isEmpty)
        // 4 instances at 20 a minute each: ceil(80 / 70) = 2, once 15 datapoints are below.
        for m in 16..<32 { decisions += minute(&a, from: Double(m) * 60, perMinute: 80, instances: 4) }
        #expect(decisions.map(\.to) == [2])
        #expect(decisions.first.map { Int($0.time) } == 31 * 60)
    }

    @Test func severalTrackingPoliciesScaleInOnlyIfAllAgree() {
        let cpu = TargetTrackingPolicy(name: "cpu", metric: .cpuUtilization, targetValue: 50, scaleInCooldown: 0, scaleOutCooldown: 0, disableScaleIn: false)
        let config = ScalingPolicyConfiguration(name: "p", target: Self.target, minCapacity: 1, maxCapacity: 6, targetTracking: [tracking(scaleIn: 0), cpu])
        var a = Autoscaler(config: config, capacity: 4, now: 0)
        var decisions: [ScalingDecision] = []
        for m in 0..<20 {
            for s in 0..<60 {
                let t = Double(m * 60 + s)
                decisions += a.advance(to: t)
                a.record([.total(.invocationsPerInstance, sum: 1.0 / 4, count: 1), .gauge(.cpuUtilization, 48)], at: t)
                a.record(capacity: 4, at: t)
            }
        }
        // Invocations are far below target, CPU is not clearly below 50: no scale-in.
        #expect(decisions.isEmpty)
    }

    func silenceScaleIn(fill: MissingDataTreatment) -> ScalingPolicyConfiguration {
        let alarm = AlarmConfiguration(name: "fraud-silence", metric: .invocations, statistic: .sum, period: 60, evaluationPeriods: 5, datapointsToAlarm: 5,
                                       threshold: 1, comparison: .lessThan, missingData: fill)
        let step = StepScalingPolicy(name: "scale-in-on-silence", alarm: alarm, adjustmentType: .changeInCapacity,
                                     steps: [StepAdjustment(lower: nil, upper: 0, adjustment: -1)], minAdjustmentMagnitude: nil, cooldown: 120)
        return ScalingPolicyConfiguration(name: "p", target: Self.target, minCapacity: 1, maxCapacity: 6, targetTracking: [tracking()], stepScaling: [step])
    }

    @Test func stepScalingScalesInOnSilenceWithAFillValue() {
        var a = Autoscaler(config: silenceScaleIn(fill: .filled(0)), capacity: 4, now: 0)
        let decisions = a.advance(to: 20 * 60)
        // 5 silent minutes to alarm, then one step of -1 per 120 s cooldown, down to the minimum.
        #expect(decisions.map(\.to) == [3, 2, 1])
        #expect(decisions.map(\.time) == [300, 420, 540])
        #expect(decisions.first?.cause == "monitor alarm fraud-silence in state ALARM triggered policy scale-in-on-silence changing the desired capacity from 4 to 3")
    }

    /// The enterprise stack's keep-warm rule sends one request every five minutes: with a
    /// threshold of two, those minutes count as silence too, and the scale-in still happens.
    @Test func aKeepWarmRequestEveryFiveMinutesIsStillSilence() {
        let alarm = AlarmConfiguration(name: "silence", metric: .invocations, statistic: .sum, period: 60, evaluationPeriods: 15, datapointsToAlarm: 15,
                                       threshold: 2, comparison: .lessThan, missingData: .filled(0))
        let step = StepScalingPolicy(name: "silence", alarm: alarm, adjustmentType: .changeInCapacity,
                                     steps: [StepAdjustment(lower: nil, upper: 0, adjustment: -1)], minAdjustmentMagnitude: nil, cooldown: 300)
        let config = ScalingPolicyConfiguration(name: "p", target: Self.target, minCapacity: 1, maxCapacity: 4, stepScaling: [step])
        var a = Autoscaler(config: config, capacity: 3, now: 0)
        var decisions: [ScalingDecision] = []
        for m in 0..<30 {
            decisions += a.advance(to: Double(m * 60))
            if m % 5 == 0 { a.record([.events(.invocations, 1)], at: Double(m * 60 + 10)) }
        }
        decisions += a.advance(to: 30 * 60)
        #expect(decisions.map(\.to) == [2, 1])
        #expect(decisions.map(\.time) == [900, 1200])
    }

    @Test func stepScalingWithMissingDataTreatedAsMissingStaysPut() {
        var a = Autoscaler(config: silenceScaleIn(fill: .missing), capacity: 4, now: 0)
        #expect(a.advance(to: 20 * 60).isEmpty)
        #expect(a.alarms.first { $0.name == "fraud-silence" }?.state == .insufficientData)
    }

    @Test func stepScaleOutInCooldownOnlyWhenLarger() {
        let alarm = AlarmConfiguration(name: "busy", metric: .invocations, statistic: .sum, period: 60, evaluationPeriods: 1, datapointsToAlarm: 1,
                                       threshold: 100, comparison: .greaterThanOrEqual, missingData: .missing)
        let step = StepScalingPolicy(name: "out", alarm: alarm, adjustmentType: .changeInCapacity,
                                     steps: [StepAdjustment(lower: 0, upper: 100, adjustment: 1), StepAdjustment(lower: 100, upper: nil, adjustment: 3)],
                                     minAdjustmentMagnitude: nil, cooldown: 300)
        let config = ScalingPolicyConfiguration(name: "p", target: Self.target, minCapacity: 1, maxCapacity: 10, stepScaling: [step])
        var a = Autoscaler(config: config, capacity: 1, now: 0)
        var decisions: [ScalingDecision] = []
        decisions += minute(&a, from: 0, perMinute: 150, instances: 1)      // +1 -> 2
        decisions += minute(&a, from: 60, perMinute: 150, instances: 2)     // in cooldown: base 1 + 1 = 2, not larger
        decisions += minute(&a, from: 120, perMinute: 250, instances: 2)    // in cooldown: base 1 + 3 = 4, larger
        decisions += minute(&a, from: 180, perMinute: 250, instances: 4)
        #expect(decisions.map(\.to) == [2, 4])
        #expect(decisions.map(\.time) == [60, 180])
    }

    @Test func scheduledActionsFireInTheirTimeZoneAcrossADaylightSavingChange() {
        // 20:00 in Berlin: 18:00 UTC in summer time (until 25 October 2026), 19:00 UTC after.
        let evening = ScheduledAction(name: "evening", schedule: "cron(0 20 * * ? *)", timeZone: "Europe/Berlin", minCapacity: 1, maxCapacity: 1)
        let morning = ScheduledAction(name: "morning", schedule: "cron(0 7 * * ? *)", timeZone: "Europe/Berlin", minCapacity: 2, maxCapacity: 6)
        let config = ScalingPolicyConfiguration(name: "p", target: Self.target, minCapacity: 1, maxCapacity: 6, scheduledActions: [evening, morning])
        let start = Double(ISO8601DateFormatter().date(from: "2026-10-24T12:00:00Z")!.timeIntervalSince1970)
        var a = Autoscaler(config: config, capacity: 4, now: start)
        let decisions = a.advance(to: start + 2 * 86_400)
        let iso = ISO8601DateFormatter()
        #expect(decisions.map { "\($0.policy) \(iso.string(from: Date(timeIntervalSince1970: $0.time))) \($0.from)->\($0.to)" } == [
            "evening 2026-10-24T18:00:00Z 4->1",
            "morning 2026-10-25T06:00:00Z 1->2",
            "evening 2026-10-25T19:00:00Z 2->1",
            "morning 2026-10-26T06:00:00Z 1->2",
        ])
        #expect(decisions.first?.cause == "scheduled action name evening was triggered changing the desired capacity from 4 to 1")
        #expect(a.minCapacity == 2 && a.maxCapacity == 6)
    }

    @Test func registrationBringsTheCapacityInsideTheBounds() {
        let config = ScalingPolicyConfiguration(name: "p", target: Self.target, minCapacity: 2, maxCapacity: 6, targetTracking: [tracking()])
        var a = Autoscaler(config: config, capacity: 1, now: 0)
        let d = a.clampToBounds(now: 0)
        #expect(d?.to == 2)
        #expect(d?.cause == "minimum capacity was set to 2 changing the desired capacity from 1 to 2")
        #expect(a.clampToBounds(now: 1) == nil)
    }

    @Test func aScaleOutEndsTheScaleInCooldown() {
        let config = ScalingPolicyConfiguration(name: "p", target: Self.target, minCapacity: 1, maxCapacity: 10, targetTracking: [tracking(scaleIn: 3_600)])
        var a = Autoscaler(config: config, capacity: 6, now: 0)
        var decisions: [ScalingDecision] = []
        for m in 0..<15 { decisions += minute(&a, from: Double(m) * 60, perMinute: 60, instances: 6) }
        decisions += a.advance(to: 15 * 60)
        #expect(decisions.map(\.to) == [1])   // ceil(60 / 70) = 1
        for m in 15..<18 { decisions += minute(&a, from: Double(m) * 60, perMinute: 300, instances: 1) }
        decisions += a.advance(to: 18 * 60)
        #expect(decisions.map(\.to) == [1, 5])
        // The scale-out ended the hour-long scale-in cooldown: 15 quiet minutes scale in again.
        for m in 18..<34 { decisions += minute(&a, from: Double(m) * 60, perMinute: 70, instances: 5) }
        #expect(decisions.map(\.to) == [1, 5, 1])
    }
}
