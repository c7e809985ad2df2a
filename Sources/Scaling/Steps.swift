import EnvironmentAPI

/// Step scaling's arithmetic, as Application Auto Scaling documents it: which step a metric value
/// falls in, how an adjustment changes a capacity, and the rules a list of steps must keep.
public enum Steps {
    /// The step that `value` (the alarm's datapoint) falls in. Bounds are relative to the
    /// threshold: above it a step's lower bound is inclusive and its upper bound exclusive; below
    /// it the lower bound is exclusive and the upper bound inclusive (at the threshold itself, the
    /// alarm's direction decides).
    public static func step(for value: Double, threshold: Double, comparison: AlarmComparison = .greaterThanOrEqual,
                            in steps: [StepAdjustment]) -> StepAdjustment? {
        let delta = value - threshold
        let above = delta > 0 || (delta == 0 && (comparison == .greaterThan || comparison == .greaterThanOrEqual))
        return steps.first { s in
            let lower = s.lower ?? -.infinity, upper = s.upper ?? .infinity
            return above ? (delta >= lower && delta < upper) : (delta > lower && delta <= upper)
        }
    }

    /// The capacity after `adjustment` of `type` from `current`. A percent change above 1
    /// rounds down, between 0 and 1 becomes 1, between 0 and -1 becomes -1, below -1 rounds
    /// toward zero; then a change smaller than `minMagnitude` (percent only) becomes it.
    /// Not clamped to the target's bounds: the caller does that.
    public static func apply(_ type: AdjustmentType, _ adjustment: Int, to current: Int, minMagnitude: Int? = nil) -> Int {
        switch type {
        case .changeInCapacity:
            return current + adjustment
        case .exactCapacity:
            return adjustment
        case .percentChangeInCapacity:
            let raw = Double(current) * Double(adjustment) / 100
            var change: Int
            if raw > 1 { change = Int(raw.rounded(.down)) }
            else if raw > 0 { change = 1 }
            else if raw == 0 { change = 0 }
            else if raw > -1 { change = -1 }
            else { change = Int(raw.rounded(.up)) }
            if let m = minMagnitude, change != 0, abs(change) < m { change = change > 0 ? m : -m }
            return current + change
        }
    }

    /// Why `steps` cannot be a step scaling policy (Application Auto Scaling's rules), or nil:
    /// no overlap and no gap between ranges; at most one step without a lower bound and one
    /// without an upper bound; a step with neither bound only alone; a negative lower bound needs
    /// a step without one below it, a positive upper bound a step without one above it.
    public static func problem(in steps: [StepAdjustment]) -> String? {
        guard !steps.isEmpty else { return "a step scaling policy needs at least one step" }
        for (i, s) in steps.enumerated() {
            if let l = s.lower, let u = s.upper, !(l < u) { return "step \(i + 1): its lower bound \(formatCapacityNumber(l)) is not below its upper bound \(formatCapacityNumber(u))" }
            if s.lower == nil, s.upper == nil, steps.count > 1 { return "step \(i + 1) has neither bound, so it covers every value and overlaps the others" }
        }
        if steps.filter({ $0.lower == nil }).count > 1 { return "only one step may leave out its lower bound (minus infinity)" }
        if steps.filter({ $0.upper == nil }).count > 1 { return "only one step may leave out its upper bound (infinity)" }
        let sorted = steps.sorted { ($0.lower ?? -.infinity) < ($1.lower ?? -.infinity) }
        for (a, b) in zip(sorted, sorted.dropFirst()) {
            let end = a.upper ?? .infinity, start = b.lower ?? -.infinity
            if end > start { return "the steps \(range(a)) and \(range(b)) overlap" }
            if end < start { return "there is a gap between the steps \(range(a)) and \(range(b))" }
        }
        if let first = sorted.first, let l = first.lower, l < 0 {
            return "the lowest step starts at \(formatCapacityNumber(l)), below the threshold: add a step without a lower bound under it"
        }
        if let last = sorted.last, let u = last.upper, u > 0 {
            return "the highest step ends at \(formatCapacityNumber(u)), above the threshold: add a step without an upper bound over it"
        }
        return nil
    }

    static func range(_ s: StepAdjustment) -> String {
        "[\(s.lower.map(formatCapacityNumber) ?? "-inf"), \(s.upper.map(formatCapacityNumber) ?? "+inf"))"
    }
}

/// Target tracking's arithmetic: the capacity that brings the metric to its target, rounded so
/// as never to add too little or remove too much (up).
public enum TargetTracking {
    /// `ceil(capacity × value / target)`; nil for a target that is not positive.
    public static func capacity(for value: Double, measuredAt capacity: Double, target: Double) -> Int? {
        guard target > 0, value.isFinite, capacity.isFinite else { return nil }
        let raw = capacity * value / target
        guard raw < 1e9 else { return Int(1e9) }
        return Int((raw - 1e-9).rounded(.up))
    }

    /// The scale-in alarm's threshold: clearly (10%) below the target.
    public static let scaleInFraction = 0.9
    /// Datapoints the alarms need, as AWS's target tracking alarms are observed to use: three
    /// one-minute datapoints above the target to scale out, fifteen below 90% of it to scale in.
    public static let scaleOutDatapoints = 3
    public static let scaleInDatapoints = 15
}
