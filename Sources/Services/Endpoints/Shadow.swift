import Atomics
import CShim
import EnvironmentAPI
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// One side of a shadowed request: how the model answered.
struct ShadowSide {
    var variant: String
    /// HTTP status from the model, or nil when no answer came (connection failure).
    var status: Int?
    var body: [ByteBuffer]
    var latencyNanos: UInt64
    var error: String?

    var succeeded: Bool { status.map { (200..<300).contains($0) } ?? false }
}

/// A request copied to a shadow variant: filled in by the production answer (on the request's
/// event loop, before the copy is handed to the shadow lane) and then by the shadow's answer (on
/// the lane's loop); recorded once both are in.
final class ShadowPair {
    let shadow: ShadowRoute
    let time: Double
    let inferenceID: String?
    let input: [ByteBuffer]
    var production: ShadowSide?
    var shadowSide: ShadowSide?

    init(shadow: ShadowRoute, time: Double, inferenceID: String?, input: [ByteBuffer]) {
        self.shadow = shadow
        self.time = time
        self.inferenceID = inferenceID
        self.input = input
    }

    func complete(production side: ShadowSide) {
        production = side
        finishIfReady()
    }

    func complete(shadow side: ShadowSide) {
        shadowSide = side
        finishIfReady()
    }

    /// Hands the pair to the shadow's writer thread, which compares and keeps it: nothing but an
    /// append happens on the event loop.
    private func finishIfReady() {
        guard let production, let shadowSide else { return }
        shadow.outputs.offer(ShadowRecord(time: time, inferenceID: inferenceID, input: input, production: production, shadow: shadowSide))
    }
}

/// Where shadow copies travel: one event loop whose thread runs at the kernel's idle priority
/// (SCHED_IDLE), with its own pool of connections to shadow instances. The host starts one.
final class ShadowLane: @unchecked Sendable {
    struct Copy {
        var pair: ShadowPair
        var head: HTTPRequestHead
        var body: [ByteBuffer]
    }

    struct Pending {
        var copies: [Copy] = []
        /// Whether the lane is collecting every millisecond; it stops after 100 ms without copies.
        var polling = false
        var idlePolls = 0
    }

    let loop: EventLoop
    let pool: UpstreamPool
    /// Copies handed over by the callers' loops: appending costs them a short lock; only the
    /// first copy after a quiet spell wakes the lane, which then collects every millisecond.
    private let pending = NIOLockedValueBox(Pending())

    init(loop: EventLoop) {
        self.loop = loop
        pool = UpstreamPool(loop: loop)
        loop.execute { lowerToIdlePriority(0) }
    }

    func send(_ pairs: [ShadowPair], head: HTTPRequestHead, body: [ByteBuffer]) {
        let wake = pending.withLockedValue { p -> Bool in
            for pair in pairs { p.copies.append(Copy(pair: pair, head: head, body: body)) }
            p.idlePolls = 0
            guard !p.polling else { return false }
            p.polling = true
            return true
        }
        if wake { loop.execute { self.collect() } }
    }

    /// On the lane's loop: sends what was handed over, and looks again in a millisecond.
    private func collect() {
        let (copies, more) = pending.withLockedValue { p -> ([Copy], Bool) in
            let taken = p.copies
            p.copies.removeAll(keepingCapacity: true)
            if taken.isEmpty { p.idlePolls += 1 }
            if p.idlePolls >= 100 { p.polling = false }
            return (taken, p.polling)
        }
        for c in copies { ShadowForwarding.shadowForward(c.pair, head: c.head, body: c.body, pool: pool) }
        if more { loop.scheduleTask(in: .milliseconds(1)) { self.collect() } }
    }
}

/// Moves a thread (0: the calling one) or a process to SCHED_IDLE: it runs only on a CPU that
/// nothing else wants.
@discardableResult
func lowerToIdlePriority(_ pid: Int32) -> Bool {
    mlgw_sched_idle(pid) == 0
}

/// A shadow variant in the routes: its instances, its sampling, and where comparisons go.
final class ShadowRoute: Sendable {
    let variant: VariantRoute
    let samplePercent: Double
    let stats: ShadowStats
    let outputs: ShadowOutputs

    init(variant: VariantRoute, samplePercent: Double, stats: ShadowStats, outputs: ShadowOutputs) {
        self.variant = variant
        self.samplePercent = samplePercent
        self.stats = stats
        self.outputs = outputs
    }
}

/// How a shadow compares with production, over every request both answered (SageMaker shows
/// none of this): agreement (identical answers), mean absolute difference of the numbers in the
/// answers, latency percentiles of each side (last 10,000), error counts.
final class ShadowStats: Sendable {
    private struct State {
        var compared: UInt64 = 0
        var agreements: UInt64 = 0
        var numericPairs: UInt64 = 0
        var absoluteDifferenceSum = 0.0
        var shadowErrors: UInt64 = 0
        var productionErrors: UInt64 = 0
        var productionLatencies: [Double] = []
        var shadowLatencies: [Double] = []
        var next = 0
    }

    static let window = 10_000
    private let state = NIOLockedValueBox(State())
    /// Copies sent to the shadow (counted when sent; compared ones are those that finished).
    let sent = ManagedAtomic<UInt64>(0)

    func record(production: ShadowSide, shadow: ShadowSide) {
        let pb = bytes(production.body), sb = bytes(shadow.body)
        let numbers = production.succeeded && shadow.succeeded ? Self.meanAbsoluteDifference(pb, sb) : nil
        state.withLockedValue { s in
            s.compared += 1
            if !production.succeeded { s.productionErrors += 1 }
            if !shadow.succeeded { s.shadowErrors += 1 }
            if production.succeeded && shadow.succeeded && pb == sb { s.agreements += 1 }
            if let numbers {
                s.numericPairs += 1
                s.absoluteDifferenceSum += numbers
            }
            let p = Double(production.latencyNanos) / 1e6, q = Double(shadow.latencyNanos) / 1e6
            if s.productionLatencies.count < Self.window {
                s.productionLatencies.append(p)
                s.shadowLatencies.append(q)
            } else {
                s.productionLatencies[s.next] = p
                s.shadowLatencies[s.next] = q
                s.next = (s.next + 1) % Self.window
            }
        }
    }

    func summary(shadow: String) -> ShadowComparison {
        state.withLockedValue { s in
            ShadowComparison(
                shadow: shadow, sent: sent.load(ordering: .relaxed), compared: s.compared, agreements: s.agreements,
                numericPairs: s.numericPairs,
                meanAbsoluteDifference: s.numericPairs == 0 ? nil : s.absoluteDifferenceSum / Double(s.numericPairs),
                shadowErrors: s.shadowErrors, productionErrors: s.productionErrors,
                productionLatencyMs: Self.percentiles(s.productionLatencies), shadowLatencyMs: Self.percentiles(s.shadowLatencies))
        }
    }

    static func percentiles(_ values: [Double]) -> LatencyPercentiles {
        guard !values.isEmpty else { return LatencyPercentiles(p50: nil, p90: nil, p99: nil) }
        let sorted = values.sorted()
        func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))] }
        return LatencyPercentiles(p50: at(0.5), p90: at(0.9), p99: at(0.99))
    }

    /// The mean |a - b| over the numbers of two answers (CSV or JSON), when both hold the same
    /// count of numbers; nil otherwise.
    static func meanAbsoluteDifference(_ a: [UInt8], _ b: [UInt8]) -> Double? {
        let x = numbers(a), y = numbers(b)
        guard !x.isEmpty, x.count == y.count else { return nil }
        return zip(x, y).reduce(0) { $0 + abs($1.0 - $1.1) } / Double(x.count)
    }

    static func numbers(_ bytes: [UInt8]) -> [Double] {
        String(decoding: bytes, as: UTF8.self)
            .split(whereSeparator: { ",\n\r\t []{}:\"".contains($0) })
            .compactMap { Double($0) }
    }

    private func bytes(_ parts: [ByteBuffer]) -> [UInt8] {
        var out: [UInt8] = []
        for p in parts { out += p.readableBytesView }
        return out
    }
}

struct ShadowRecord {
    var time: Double
    var inferenceID: String?
    var input: [ByteBuffer]
    var production: ShadowSide
    var shadow: ShadowSide
}

/// Shadow answers kept beside the production ones, one JSON line per compared request, under
/// `{environment}/shadow/{endpoint}/{shadow variant}/yyyy/mm/dd/hh/*.jsonl`.
final class ShadowOutputs: @unchecked Sendable {
    private var queue: HourlyJSONLQueue<ShadowRecord>!

    /// `stats` counts a pair once its file is in place (on the writer's thread): a report counts
    /// exactly the pairs a reader of `shadow/` finds, and lags the traffic by at most one drain
    /// interval (250 ms).
    init(endpoint: String, shadow: String, directory: String, stats: ShadowStats) {
        queue = HourlyJSONLQueue(label: "mlgw.shadow.\(endpoint).\(shadow)", directory: directory, capacity: 20_000,
                                 dropped: ManagedAtomic(0), partition: { record in (shadow, record.time) },
                                 encode: { r, iso, out in Self.line(r, iso: iso, into: &out) },
                                 written: { records in for r in records { stats.record(production: r.production, shadow: r.shadow) } })
    }

    func offer(_ r: ShadowRecord) { queue.offer(r) }
    func close() { queue.close() }
    var dropped: UInt64 { queue.dropped.load(ordering: .relaxed) }

    static func line(_ r: ShadowRecord, iso: [UInt8], into out: inout [UInt8]) {
        func text(_ parts: [ByteBuffer]) -> String {
            var b: [UInt8] = []
            for p in parts { b += p.readableBytesView }
            return String(decoding: b, as: UTF8.self)
        }
        func side(_ s: ShadowSide) -> String {
            var fields = ["\"variant\":\(jsonString(s.variant))", "\"status\":\(s.status.map(String.init) ?? "null")",
                          "\"output\":\(jsonString(text(s.body)))", "\"latencyMs\":\(Double(s.latencyNanos) / 1e6)"]
            if let e = s.error { fields.append("\"error\":\(jsonString(e))") }
            return "{" + fields.joined(separator: ",") + "}"
        }
        var fields = ["\"time\":\"\(String(decoding: iso, as: UTF8.self))\""]
        if let id = r.inferenceID { fields.append("\"inferenceId\":\(jsonString(id))") }
        fields += ["\"input\":\(jsonString(text(r.input)))", "\"production\":\(side(r.production))", "\"shadow\":\(side(r.shadow))"]
        out += Array(("{" + fields.joined(separator: ",") + "}\n").utf8)
    }
}
