import EnvironmentAPI

/// Where a progressive rollout stands, as a pure state machine: the controller feeds it what the
/// rolling-out variant did since its step began, and carries out the decision. A step advances
/// only once its bake time is over *and* it has seen `minRequests` requests: with too little
/// traffic it waits, up to `maxWaitSeconds`, then rolls back, halts or stays (as canary analysers
/// treat missing metrics), so a broken model never rolls out on silence.
struct RolloutProgress: Sendable, Equatable {
    enum Phase: Sendable, Equatable {
        case stepping(Int)
        case completed
        case rolledBack(String)
        /// Stopped at a step's share: nothing advances or rolls back any more.
        case halted(String)
    }

    enum Decision: Sendable, Equatable {
        case none
        case advanced(toStep: Int)
        case completed
        case rolledBack(String)
        case halted(String)
        /// The bake time is over but the step has not seen enough requests: it waits (said once per step).
        case waitingForTraffic(String)
    }

    let config: RolloutConfiguration
    private(set) var phase: Phase = .stepping(0)
    private(set) var stepStartedAt: Double
    /// Why the current step waits, once it does.
    private(set) var waiting: String?

    init(config: RolloutConfiguration, now: Double) {
        self.config = config
        self.stepStartedAt = now
    }

    /// The rolling-out variant's share of traffic, in percent.
    var share: Double {
        switch phase {
        case .stepping(let i): return config.steps[i]
        case .completed: return config.steps.last!
        case .rolledBack: return 0
        case .halted: return config.steps[max(0, step)]
        }
    }

    private(set) var haltedAt = -1

    /// `requests`, `errors` and `p99Ms` cover the current step so far.
    mutating func evaluate(now: Double, requests: UInt64, errors: UInt64, p99Ms: Double?) -> Decision {
        guard case .stepping(let i) = phase else { return .none }
        if requests >= UInt64(config.minRequests) {
            let rate = Double(errors) / Double(requests)
            if let limit = config.maxErrorRate, rate > limit {
                let reason = "error rate \(rounded(rate)) over \(requests) requests at step \(i + 1) (\(formatShare(config.steps[i]))%) exceeded \(rounded(limit))"
                phase = .rolledBack(reason)
                return .rolledBack(reason)
            }
            if let limit = config.maxP99LatencyMs, let p99 = p99Ms, p99 > limit {
                let reason = "p99 model latency \(rounded(p99)) ms at step \(i + 1) (\(formatShare(config.steps[i]))%) exceeded \(rounded(limit)) ms"
                phase = .rolledBack(reason)
                return .rolledBack(reason)
            }
        }
        guard now - stepStartedAt >= config.bakeSeconds else { return .none }
        if requests < UInt64(config.minRequests) {
            let seen = "step \(i + 1) (\(formatShare(config.steps[i]))%) has seen \(requests) of the \(config.minRequests) requests it needs to be judged"
            let waited = now - stepStartedAt - config.bakeSeconds
            if waited >= config.maxWaitSeconds, config.onTooLittleTraffic != .stay {
                let reason = "\(seen) after waiting \(formatShare(config.maxWaitSeconds))s beyond its bake time"
                waiting = nil
                if config.onTooLittleTraffic == .halt {
                    phase = .halted(reason)
                    haltedAt = i
                    return .halted(reason)
                }
                phase = .rolledBack(reason)
                return .rolledBack(reason)
            }
            guard waiting == nil else { return .none }
            let limit = config.onTooLittleTraffic == .stay ? "for as long as it takes" : "up to \(formatShare(config.maxWaitSeconds))s, then it will \(config.onTooLittleTraffic == .halt ? "halt" : "roll back")"
            waiting = "\(seen); waiting \(limit)"
            return .waitingForTraffic(waiting!)
        }
        stepStartedAt = now
        waiting = nil
        if i + 1 < config.steps.count {
            phase = .stepping(i + 1)
            return .advanced(toStep: i + 1)
        }
        phase = .completed
        return .completed
    }

    /// Routing weights: the rolling-out variant gets its share; the others split the rest in
    /// proportion to their declared weights.
    func weights(declared: [(name: String, weight: Double)], rollingOut: String) -> [String: Double] {
        let others = declared.filter { $0.name != rollingOut }
        let total = others.reduce(0) { $0 + $1.weight }
        var out: [String: Double] = [rollingOut: share]
        for o in others { out[o.name] = total > 0 ? (100 - share) * o.weight / total : (100 - share) / Double(max(others.count, 1)) }
        return out
    }

    var status: RolloutStatus.State {
        switch phase {
        case .stepping: return .progressing
        case .completed: return .completed
        case .rolledBack: return .rolledBack
        case .halted: return .halted
        }
    }

    var step: Int {
        switch phase {
        case .stepping(let i): return i
        case .halted: return haltedAt
        case .completed, .rolledBack: return -1
        }
    }

    /// Why it rolled back or halted, or why its step waits.
    var reason: String? {
        switch phase {
        case .rolledBack(let r), .halted(let r): return r
        case .stepping: return waiting
        case .completed: return nil
        }
    }

    private func rounded(_ v: Double) -> String { String((v * 10_000).rounded() / 10_000) }
    private func formatShare(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}

/// A running rollout of one variant: its progress, and the variant's counters when its current
/// step began (the step is judged on what happened since).
final class RolloutRun: @unchecked Sendable {
    let variant: String
    let model: ModelRegistration?
    var progress: RolloutProgress
    var history: [String] = []
    private var baseRequests: UInt64 = 0
    private var baseErrors: UInt64 = 0
    private var baseBuckets: [UInt64] = []

    init(variant: String, model: ModelRegistration?, config: RolloutConfiguration, now: Double, metrics: VariantMetrics) {
        self.variant = variant
        self.model = model
        self.progress = RolloutProgress(config: config, now: now)
        rebase(metrics)
    }

    func rebase(_ m: VariantMetrics) {
        baseRequests = m.invocations.load(ordering: .relaxed)
        baseErrors = m.errors5xx.load(ordering: .relaxed) + m.modelErrors.load(ordering: .relaxed)
        baseBuckets = m.modelLatency.buckets.map { $0.load(ordering: .relaxed) }
    }

    /// Requests, errors and the p99 model latency (an upper bucket bound, ms) since the step began.
    func sinceStep(_ m: VariantMetrics) -> (requests: UInt64, errors: UInt64, p99Ms: Double?) {
        let requests = m.invocations.load(ordering: .relaxed) &- baseRequests
        let errors = m.errors5xx.load(ordering: .relaxed) + m.modelErrors.load(ordering: .relaxed) &- baseErrors
        let counts = zip(m.modelLatency.buckets, baseBuckets).map { $0.0.load(ordering: .relaxed) &- $0.1 }
        let total = counts.reduce(0, +)
        guard total > 0 else { return (requests, errors, nil) }
        var seen: UInt64 = 0
        for (i, c) in counts.enumerated() {
            seen += c
            if Double(seen) >= 0.99 * Double(total) {
                return (requests, errors, i < LatencyHistogram.bounds.count ? LatencyHistogram.bounds[i] * 1000 : .infinity)
            }
        }
        return (requests, errors, .infinity)
    }

    var status: RolloutStatus {
        RolloutStatus(config: progress.config, state: progress.status, step: progress.step >= 0 ? progress.step : nil,
                      share: progress.share, reason: progress.reason, history: history)
    }
}
