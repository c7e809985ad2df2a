import Atomics
import EnvironmentAPI
import Foundation
import NIOConcurrencyHelpers

/// A latency histogram with fixed buckets, lock-free (one relaxed atomic add per observation).
final class LatencyHistogram: Sendable {
    /// Upper bounds in seconds, as Prometheus `le` labels.
    static let bounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    static let boundsNanos: [UInt64] = bounds.map { UInt64($0 * 1e9) }

    let buckets = (0...bounds.count).map { _ in ManagedAtomic<UInt64>(0) }
    let sumNanos = ManagedAtomic<UInt64>(0)

    func observe(nanos: UInt64) {
        var i = 0
        while i < Self.boundsNanos.count, nanos > Self.boundsNanos[i] { i += 1 }
        buckets[i].wrappingIncrement(ordering: .relaxed)
        sumNanos.wrappingIncrement(by: nanos, ordering: .relaxed)
    }

    var count: UInt64 { buckets.reduce(0) { $0 + $1.load(ordering: .relaxed) } }

    /// The bucket bound below which `q` of observations fall (an upper estimate).
    func quantile(_ q: Double) -> Double? {
        let counts = buckets.map { $0.load(ordering: .relaxed) }
        let total = counts.reduce(0, +)
        guard total > 0 else { return nil }
        var seen: UInt64 = 0
        for (i, c) in counts.enumerated() {
            seen += c
            if Double(seen) >= q * Double(total) { return i < Self.bounds.count ? Self.bounds[i] : .infinity }
        }
        return .infinity
    }
}

/// The counters of one variant, as SageMaker reports them per endpoint and variant: requests sent
/// to the model, 4xx and 5xx answers, model errors (the model answered non-2xx), model latency
/// (from forwarding the request to the model's last byte) and overhead latency (everything else
/// between the request's last byte in and the answer going out).
final class VariantMetrics: Sendable {
    let invocations = ManagedAtomic<UInt64>(0)
    let errors4xx = ManagedAtomic<UInt64>(0)
    let errors5xx = ManagedAtomic<UInt64>(0)
    let modelErrors = ManagedAtomic<UInt64>(0)
    let modelLatency = LatencyHistogram()
    let overheadLatency = LatencyHistogram()
}

/// Every variant's counters by endpoint and variant. They outlive route swaps (a weight change
/// does not reset them) and are dropped with the endpoint.
final class MetricsRegistry: Sendable {
    /// Each monitor's latest run: drift per feature, violations per check.
    let monitors = MonitorMetrics()
    private let variants = NIOLockedValueBox<[String: [String: VariantMetrics]]>([:])
    /// Requests refused before a variant was chosen (unknown variant, bad request), by endpoint.
    private let refused = NIOLockedValueBox<[String: ManagedAtomic<UInt64>]>([:])
    /// Capture records dropped because the queue was full, by endpoint (kept across writer changes).
    private let captureDropped = NIOLockedValueBox<[String: ManagedAtomic<UInt64>]>([:])

    func captureDroppedCounter(_ endpoint: String) -> ManagedAtomic<UInt64> { Self.counter(endpoint, in: captureDropped) }

    func refusedCounter(_ endpoint: String) -> ManagedAtomic<UInt64> { Self.counter(endpoint, in: refused) }

    /// The endpoint's counter in `box`, made on first use.
    private static func counter(_ endpoint: String, in box: NIOLockedValueBox<[String: ManagedAtomic<UInt64>]>) -> ManagedAtomic<UInt64> {
        box.withLockedValue { all in
            if let c = all[endpoint] { return c }
            let c = ManagedAtomic<UInt64>(0)
            all[endpoint] = c
            return c
        }
    }

    func variant(_ endpoint: String, _ variant: String) -> VariantMetrics {
        variants.withLockedValue { all in
            if let m = all[endpoint]?[variant] { return m }
            let m = VariantMetrics()
            all[endpoint, default: [:]][variant] = m
            return m
        }
    }

    func drop(endpoint: String) {
        variants.withLockedValue { $0[endpoint] = nil }
        refused.withLockedValue { $0[endpoint] = nil }
        captureDropped.withLockedValue { $0[endpoint] = nil }
    }

    func summary(_ endpoint: String, _ variant: String) -> VariantMetricsSummary {
        let m = self.variant(endpoint, variant)
        let modelCount = m.modelLatency.count, overheadCount = m.overheadLatency.count
        return VariantMetricsSummary(
            invocations: m.invocations.load(ordering: .relaxed), errors4xx: m.errors4xx.load(ordering: .relaxed),
            errors5xx: m.errors5xx.load(ordering: .relaxed), modelErrors: m.modelErrors.load(ordering: .relaxed),
            meanModelLatencyMs: modelCount == 0 ? nil : Double(m.modelLatency.sumNanos.load(ordering: .relaxed)) / Double(modelCount) / 1e6,
            meanOverheadLatencyMs: overheadCount == 0 ? nil : Double(m.overheadLatency.sumNanos.load(ordering: .relaxed)) / Double(overheadCount) / 1e6,
            p50LatencyMs: m.modelLatency.quantile(0.5).flatMap { $0.isFinite ? $0 * 1000 : nil },
            p99LatencyMs: m.modelLatency.quantile(0.99).flatMap { $0.isFinite ? $0 * 1000 : nil })
    }

    /// Prometheus text exposition (version 0.0.4) of every counter, plus instance counts from the routes.
    func prometheus(routes: RouteTable) -> String {
        let all = variants.withLockedValue { $0 }
        let refusedCounts = refused.withLockedValue { $0.mapValues { $0.load(ordering: .relaxed) } }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) { out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n" }
        func labels(_ e: String, _ v: String) -> String { "endpoint=\"\(escape(e))\",variant=\"\(escape(v))\"" }
        let rows = all.keys.sorted().flatMap { e in all[e]!.keys.sorted().map { (e, $0, all[e]![$0]!) } }
        let counters: [(String, String, (VariantMetrics) -> UInt64)] = [
            ("mlgw_endpoint_invocations_total", "Requests sent to a variant's model.", { $0.invocations.load(ordering: .relaxed) }),
            ("mlgw_endpoint_invocation_4xx_errors_total", "Requests answered with a 4xx status.", { $0.errors4xx.load(ordering: .relaxed) }),
            ("mlgw_endpoint_invocation_5xx_errors_total", "Requests answered with a 5xx status.", { $0.errors5xx.load(ordering: .relaxed) }),
            ("mlgw_endpoint_model_errors_total", "Requests the model answered with a non-2xx status (ModelError).", { $0.modelErrors.load(ordering: .relaxed) }),
        ]
        for (name, help, read) in counters {
            family(name, "counter", help)
            for (e, v, m) in rows { out += "\(name){\(labels(e, v))} \(read(m))\n" }
        }
        family("mlgw_endpoint_refused_requests_total", "counter", "Requests refused before a variant was chosen (for example an unknown target variant).")
        for e in refusedCounts.keys.sorted() { out += "mlgw_endpoint_refused_requests_total{endpoint=\"\(escape(e))\"} \(refusedCounts[e]!)\n" }
        for (name, help, pick) in [("mlgw_endpoint_model_latency_seconds", "Time the model took to answer, as seen by the router.", { (m: VariantMetrics) in m.modelLatency }),
                                   ("mlgw_endpoint_overhead_latency_seconds", "Time the router added around the model's answer.", { (m: VariantMetrics) in m.overheadLatency })] {
            family(name, "histogram", help)
            for (e, v, m) in rows {
                let h = pick(m)
                var cumulative: UInt64 = 0
                for (i, bound) in LatencyHistogram.bounds.enumerated() {
                    cumulative += h.buckets[i].load(ordering: .relaxed)
                    out += "\(name)_bucket{\(labels(e, v)),le=\"\(bound)\"} \(cumulative)\n"
                }
                cumulative += h.buckets[LatencyHistogram.bounds.count].load(ordering: .relaxed)
                out += "\(name)_bucket{\(labels(e, v)),le=\"+Inf\"} \(cumulative)\n"
                out += "\(name)_sum{\(labels(e, v))} \(Double(h.sumNanos.load(ordering: .relaxed)) / 1e9)\n"
                out += "\(name)_count{\(labels(e, v))} \(cumulative)\n"
            }
        }
        let dropped = captureDropped.withLockedValue { $0.mapValues { $0.load(ordering: .relaxed) } }
        family("mlgw_endpoint_capture_dropped_total", "counter", "Captured records dropped because the capture queue was full.")
        for e in dropped.keys.sorted() { out += "mlgw_endpoint_capture_dropped_total{endpoint=\"\(escape(e))\"} \(dropped[e]!)\n" }
        family("mlgw_endpoint_healthy_instances", "gauge", "Model-server instances of a variant that receive traffic.")
        for (e, v, _) in rows {
            out += "mlgw_endpoint_healthy_instances{\(labels(e, v))} \(routes.endpoint(e)?.variant(named: v)?.upstreams.count ?? 0)\n"
        }
        out += monitors.prometheus(escape: escape)
        return out
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
