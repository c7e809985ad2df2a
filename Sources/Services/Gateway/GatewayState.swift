import Atomics
import EnvironmentAPI
import Foundation
import NIOConcurrencyHelpers

/// One route, compiled for matching.
final class CompiledRoute: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
        case greedy(String)
    }

    let config: RouteConfiguration
    let stage: String
    let segments: [Segment]
    let metrics: RouteMetrics
    /// Sort key: literal segments first, greedy last, a named method before ANY.
    let specificity: (Int, Int, Int, Int)
    /// `STAGE METHOD /path`: how usage plans name the route.
    let qualifiedKey: String
    /// The route's own throttle, for every caller together.
    let bucket: Bucket?
    /// `"stage":"…","route":"…"` for access log lines, escaped once.
    let logFields: String

    init(_ config: RouteConfiguration, stage: String, metrics: RouteMetrics, bucket: Bucket?) {
        self.config = config
        self.stage = stage
        self.metrics = metrics
        self.bucket = bucket
        qualifiedKey = "\(stage) \(config.key)"
        logFields = "\"stage\":\(jsonString(stage)),\"route\":\(jsonString(config.key))"
        segments = config.path.split(separator: "/").map { s in
            if s.hasPrefix("{") && s.hasSuffix("+}") { return .greedy(String(s.dropFirst().dropLast(2))) }
            if s.hasPrefix("{") && s.hasSuffix("}") { return .parameter(String(s.dropFirst().dropLast())) }
            return .literal(String(s))
        }
        let literals = segments.filter { if case .literal = $0 { return true } else { return false } }.count
        let greedy = segments.contains { if case .greedy = $0 { return true } else { return false } } ? 1 : 0
        specificity = (greedy, -literals, -segments.count, config.method == "ANY" ? 1 : 0)
    }

    /// The path parameters when `parts` matches this route's path.
    func match(_ parts: ArraySlice<Substring>) -> [String: String]? {
        var params: [String: String] = [:]
        var i = parts.startIndex
        for (n, segment) in segments.enumerated() {
            switch segment {
            case .literal(let l):
                guard i < parts.endIndex, parts[i] == l else { return nil }
            case .parameter(let p):
                guard i < parts.endIndex else { return nil }
                params[p] = String(parts[i].removingPercentEncoding)
            case .greedy(let p):
                guard i < parts.endIndex, n == segments.count - 1 else { return nil }
                params[p] = parts[i...].map { String($0.removingPercentEncoding) }.joined(separator: "/")
                return params
            }
            i += 1
        }
        return i == parts.endIndex ? params : nil
    }
}

final class CompiledStage: Sendable {
    let config: StageConfiguration
    let routes: [CompiledRoute]
    let verifiers: [String: JWTVerifier]
    /// The stage's throttle, for every caller together.
    let bucket: Bucket?

    init(config: StageConfiguration, routes: [CompiledRoute], verifiers: [String: JWTVerifier], bucket: Bucket?) {
        self.config = config
        self.routes = routes
        self.verifiers = verifiers
        self.bucket = bucket
    }

    /// The route for a method and path, and its parameters; `pathExists` tells a wrong method
    /// (for CORS preflights) from an unknown path.
    func route(method: String, parts: ArraySlice<Substring>) -> (CompiledRoute, [String: String])? {
        for r in routes where r.config.method == method || r.config.method == "ANY" {
            if let params = r.match(parts) { return (r, params) }
        }
        return nil
    }
}

/// Counters of one route: requests, 4xx, 5xx, latency, integration latency.
final class RouteMetrics: Sendable {
    let requests = ManagedAtomic<UInt64>(0)
    let errors4xx = ManagedAtomic<UInt64>(0)
    let errors5xx = ManagedAtomic<UInt64>(0)
    let latency = LatencyHistogram()
    let integrationLatency = LatencyHistogram()
}

/// A token bucket with its own lock, kept across configuration changes (a new rate applies to
/// the tokens already there).
final class Bucket: @unchecked Sendable {
    private let lock = NIOLock()
    private var state: TokenBucket?
    private var throttle: Throttle

    init(_ throttle: Throttle) {
        self.throttle = throttle
    }

    func update(_ t: Throttle) { lock.withLock { throttle = t } }

    func take() -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds
        return lock.withLock {
            var b = state ?? TokenBucket(tokens: Double(throttle.burst), last: now)
            let ok = b.take(rate: throttle.rate, burst: throttle.burst, now: now)
            state = b
            return ok
        }
    }
}

/// One key's use of its quota in the current period, durable: before a request is admitted past
/// what the key's file records, the counter reserves a block of requests ahead and writes it
/// (one small write into the page cache, which a killed process does not lose). After a kill -9
/// the count read back is the reservation: never fewer requests than were admitted, at most a
/// block (`chunk(for:)`, 1% of the quota, 1 to 100) more. The quota is never exceeded.
final class QuotaCounter: @unchecked Sendable {
    private let lock = NIOLock()
    private(set) var count: GatewayState.QuotaCount
    /// What the file says: requests up to this number may be admitted without writing again.
    private var reserved: Int
    private let path: String
    private var fd: Int32 = -1

    init(path: String) {
        self.path = path
        var loaded = GatewayState.QuotaCount(period: "", used: 0)
        if let data = FileManager.default.contents(atPath: path), let saved = try? JSONDecoder().decode(GatewayState.QuotaCount.self, from: data) {
            loaded = saved
        }
        count = loaded
        reserved = loaded.used
    }

    /// The block a counter reserves ahead for a quota of `limit`.
    static func chunk(for limit: Int) -> Int { max(1, min(100, limit / 100)) }

    /// Counts a request; false when the period's quota is used up (or cannot be recorded).
    func take(limit: Int, period: String) -> Bool {
        lock.withLock {
            if count.period != period {
                count = GatewayState.QuotaCount(period: period, used: 0)
                reserved = 0
            }
            guard count.used < limit else { return false }
            if count.used + 1 > reserved {
                let next = min(limit, count.used + Self.chunk(for: limit))
                // A request the file cannot vouch for is not admitted.
                guard write(GatewayState.QuotaCount(period: period, used: next)) else { return false }
                reserved = next
            }
            count.used += 1
            return true
        }
    }

    var value: GatewayState.QuotaCount { lock.withLock { count } }

    /// Writes the exact count (a clean shutdown loses nothing, not even a reservation).
    func flush() {
        lock.withLock {
            if write(count) { reserved = count.used }
            if fd >= 0 { close(fd); fd = -1 }
        }
    }

    /// Under the lock: the record in place, one write of a fixed size (a process killed between
    /// two writes leaves one or the other, never half).
    private func write(_ c: GatewayState.QuotaCount) -> Bool {
        if fd < 0 { fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
        guard fd >= 0, var data = try? JSONEncoder().encode(c) else { return false }
        data.append(contentsOf: [UInt8](repeating: 0x20, count: max(0, 128 - data.count)))
        return data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) } == data.count
    }
}

/// What a valid API key allows, resolved when the configuration changes.
struct KeyEntry: Sendable {
    var name: String
    var plan: UsagePlanConfiguration
    /// The plan's throttle for this key, and its per-route overrides by `STAGE METHOD /path`.
    var bucket: Bucket?
    var routeBuckets: [String: Bucket]
    var quota: QuotaCounter?
}

/// A token bucket: `rate` tokens a second up to `burst`; a request takes one.
struct TokenBucket {
    var tokens: Double
    var last: UInt64

    mutating func take(rate: Double, burst: Int, now: UInt64) -> Bool {
        tokens = min(Double(burst), tokens + Double(now &- last) / 1e9 * rate)
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

/// The gateway's configuration as the router reads it: immutable, swapped whole on each change.
final class GatewaySnapshot: Sendable {
    let stages: [String: CompiledStage]
    /// By the SHA-256 of the key's value: enabled keys with a usage plan.
    let keys: [String: KeyEntry]

    init(stages: [String: CompiledStage], keys: [String: KeyEntry]) {
        self.stages = stages
        self.keys = keys
    }
}

/// Everything the gateway keeps: the configuration (stages, keys, plans, authorizers' keys), the
/// throttling buckets, the quota counts (persisted, so they survive a restart of the host), the
/// per-route metrics and the access log.
final class GatewayState: @unchecked Sendable {
    let directory: String
    private let current = NIOLockedValueBox(GatewaySnapshot(stages: [:], keys: [:]))
    private var stageConfigs: [String: StageConfiguration] = [:]
    private var keyConfigs: [String: APIKeyConfiguration] = [:]
    private var planConfigs: [String: UsagePlanConfiguration] = [:]
    private var verifiers: [String: (JWTAuthorizer, JWTVerifier)] = [:]
    private var routeMetrics: [String: RouteMetrics] = [:]
    private let configLock = NIOLock()

    /// Buckets and quota counters by name, kept across rebuilds (under `configLock`).
    private var buckets: [String: Bucket] = [:]
    private var quotas: [String: QuotaCounter] = [:]
    let accessLog: AccessLog
    /// One file per key counting against a quota (`QuotaCounter`).
    let quotaFolder: String

    struct QuotaCount: Codable {
        var period: String
        var used: Int
    }

    let clock: any HostClock

    init(directory: String, clock: any HostClock = EnvironmentClock()) {
        self.directory = directory
        self.clock = clock
        // Under data/: destroy removes it with the environment.
        try? FileManager.default.createDirectory(atPath: directory + "/data/gateway", withIntermediateDirectories: true)
        quotaFolder = directory + "/data/gateway/quota"
        try? FileManager.default.createDirectory(atPath: quotaFolder, withIntermediateDirectories: true)
        accessLog = AccessLog(path: directory + "/logs/gateway/access.log")
    }

    var snapshot: GatewaySnapshot { current.withLockedValue { $0 } }

    // MARK: configuration

    func putStage(_ config: StageConfiguration) throws {
        try configLock.withLock {
            for a in config.authorizers where verifiers[a.name]?.0 != a {
                verifiers[a.name] = (a, try Self.loadVerifier(a))
            }
            stageConfigs[config.name] = config
            rebuild()
        }
    }

    func deleteStage(_ name: String) { configLock.withLock { stageConfigs[name] = nil; rebuild() } }
    func putKey(_ config: APIKeyConfiguration) { configLock.withLock { keyConfigs[config.name] = config; rebuild() } }
    func deleteKey(_ name: String) { configLock.withLock { keyConfigs[name] = nil; rebuild() } }
    func putPlan(_ config: UsagePlanConfiguration) { configLock.withLock { planConfigs[config.name] = config; rebuild() } }
    func deletePlan(_ name: String) { configLock.withLock { planConfigs[name] = nil; rebuild() } }

    static func loadVerifier(_ a: JWTAuthorizer) throws -> JWTVerifier {
        let data: Data
        if let file = a.jwksFile {
            guard let d = FileManager.default.contents(atPath: file) else {
                throw ControlError(message: "authorizer '\(a.name)': cannot read the JWKS file \(file)", terminal: true)
            }
            data = d
        } else if let url = a.jwksURL {
            data = try fetch(url, authorizer: a.name)
        } else {
            throw ControlError(message: "authorizer '\(a.name)' has no JWKS", terminal: true)
        }
        do {
            return try JWTVerifier(config: a, jwks: data)
        } catch {
            throw ControlError(message: "authorizer '\(a.name)': \(error)", terminal: true)
        }
    }

    /// Reads a JWKS from a URL on this machine (an identity provider run beside the tests).
    static func fetch(_ url: String, authorizer: String) throws -> Data {
        guard let u = URL(string: url), u.scheme == "http", let host = u.host, ["127.0.0.1", "localhost"].contains(host) else {
            throw ControlError(message: "authorizer '\(authorizer)': the local provider reads a JWKS URL only from http://127.0.0.1 or http://localhost; use jwks_file with a copy of the key set", terminal: true)
        }
        do {
            let path = (u.path.isEmpty ? "/" : u.path) + (u.query.map { "?" + $0 } ?? "")
            let response = try LoopbackHTTP.request("GET", port: u.port ?? 80, path: path, timeout: 5)
            guard response.status == 200 else { throw ControlError(message: "HTTP \(response.status)", terminal: true) }
            return Data(response.body)
        } catch {
            throw ControlError(message: "authorizer '\(authorizer)': cannot read the JWKS (the URL is not shown; it may hold a secret): \(error)", terminal: false)
        }
    }

    /// Under `configLock`: a bucket kept across rebuilds, with the throttle now configured.
    private func bucket(_ name: String, _ throttle: Throttle?) -> Bucket? {
        guard let throttle else { return nil }
        if let b = buckets[name] { b.update(throttle); return b }
        let b = Bucket(throttle)
        buckets[name] = b
        return b
    }

    /// Under `configLock`: compiles every stage and key and swaps the snapshot.
    private func rebuild() {
        var stages: [String: CompiledStage] = [:]
        for (name, config) in stageConfigs {
            let routes = config.routes.map { r -> CompiledRoute in
                let key = "\(name) \(r.key)"
                let m = routeMetrics[key] ?? RouteMetrics()
                routeMetrics[key] = m
                return CompiledRoute(r, stage: name, metrics: m, bucket: bucket("route \(key)", r.throttle))
            }.sorted { $0.specificity < $1.specificity }
            var v: [String: JWTVerifier] = [:]
            for a in config.authorizers { v[a.name] = verifiers[a.name]?.1 }
            stages[name] = CompiledStage(config: config, routes: routes, verifiers: v, bucket: bucket("stage \(name)", config.throttle))
        }
        var keys: [String: KeyEntry] = [:]
        for k in keyConfigs.values where k.enabled {
            // API Gateway refuses a key that no usage plan covers.
            guard let planName = k.usagePlan, let plan = planConfigs[planName] else { continue }
            var routeBuckets: [String: Bucket] = [:]
            for (route, t) in plan.routeThrottles { routeBuckets[route] = bucket("key \(k.name) \(plan.name) \(route)", t) }
            var quota: QuotaCounter?
            if plan.quotaLimit != nil {
                quota = quotas[k.name] ?? QuotaCounter(path: "\(quotaFolder)/\(Self.fileName(forKey: k.name)).json")
                quotas[k.name] = quota
            }
            keys[k.valueSHA256] = KeyEntry(name: k.name, plan: plan, bucket: bucket("key \(k.name) \(plan.name)", plan.throttle),
                                           routeBuckets: routeBuckets, quota: quota)
        }
        let snapshot = GatewaySnapshot(stages: stages, keys: keys)
        current.withLockedValue { $0 = snapshot }
    }

    // MARK: throttling and quotas

    /// Counts a request against the key's quota; false when the period's quota is used up.
    func countQuota(_ quota: QuotaCounter, limit: Int, period: QuotaPeriod) -> Bool {
        quota.take(limit: limit, period: periods.current(period, now: clock.now()))
    }

    let periods = PeriodClock()

    /// A key's name as a file name: names a stack gives are letters, digits, `-` and `_`; any
    /// other name (sent to the control API directly) is its SHA-256, never a path.
    static func fileName(forKey name: String) -> String {
        let plain = !name.isEmpty && name.count <= 128 && name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
        }
        return plain ? name : "sha256-" + SHA256.hex(of: name)
    }

    /// `2026-11-26`, `2026-W48` or `2026-11`, in UTC.
    static func periodID(_ period: QuotaPeriod, at date: Date) -> String {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .weekOfYear, .yearForWeekOfYear], from: date)
        switch period {
        case .week: return String(format: "%04d-W%02d", c.yearForWeekOfYear ?? 0, c.weekOfYear ?? 0)
        case .month: return String(format: "%04d-%02d", c.year ?? 0, c.month ?? 0)
        case .day: return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
        }
    }

    func shutdown() {
        for q in configLock.withLock({ Array(quotas.values) }) { q.flush() }
        accessLog.close()
    }

    // MARK: reading

    func describe(into s: inout EnvironmentSnapshot) {
        configLock.withLock {
            // A JWKS URL from a sensitive variable may carry a credential: only its fingerprint leaves.
            s.stages = stageConfigs.keys.sorted().map { name in
                var c = stageConfigs[name]!
                c.authorizers = c.authorizers.map(\.redacted)
                return c
            }
            s.apiKeys = keyConfigs.keys.sorted().map { keyConfigs[$0]! }
            s.usagePlans = planConfigs.keys.sorted().map { planConfigs[$0]! }
            s.routes = routeMetrics.keys.sorted().compactMap { key in
                let m = routeMetrics[key]!
                let parts = key.split(separator: " ", maxSplits: 1)
                guard parts.count == 2, stageConfigs[String(parts[0])]?.routes.contains(where: { $0.key == parts[1] }) == true else { return nil }
                func ms(_ q: Double) -> Double? { m.latency.quantile(q).map { $0 * 1000 } }
                return RouteMetricsSummary(stage: String(parts[0]), route: String(parts[1]), requests: m.requests.load(ordering: .relaxed),
                                           errors4xx: m.errors4xx.load(ordering: .relaxed), errors5xx: m.errors5xx.load(ordering: .relaxed),
                                           latencyMs: LatencyPercentiles(p50: ms(0.5), p90: ms(0.9), p99: ms(0.99)))
            }
        }
    }

    /// Prometheus text for every route.
    func prometheus() -> String {
        let metrics: [(String, RouteMetrics)] = configLock.withLock { routeMetrics.map { ($0.key, $0.value) } }
        guard !metrics.isEmpty else { return "" }
        var out = "# HELP mlgw_gateway_requests_total Requests per gateway route.\n# TYPE mlgw_gateway_requests_total counter\n"
        var latency = "# HELP mlgw_gateway_latency_seconds Time from a request's last byte to its answer.\n# TYPE mlgw_gateway_latency_seconds histogram\n"
        for (key, m) in metrics.sorted(by: { $0.0 < $1.0 }) {
            let parts = key.split(separator: " ", maxSplits: 1)
            let labels = "stage=\"\(parts[0])\",route=\"\(parts.count > 1 ? parts[1] : "")\""
            out += "mlgw_gateway_requests_total{\(labels)} \(m.requests.load(ordering: .relaxed))\n"
            out += "mlgw_gateway_errors_total{\(labels),class=\"4xx\"} \(m.errors4xx.load(ordering: .relaxed))\n"
            out += "mlgw_gateway_errors_total{\(labels),class=\"5xx\"} \(m.errors5xx.load(ordering: .relaxed))\n"
            var cumulative: UInt64 = 0
            for (i, bound) in LatencyHistogram.bounds.enumerated() {
                cumulative += m.latency.buckets[i].load(ordering: .relaxed)
                latency += "mlgw_gateway_latency_seconds_bucket{\(labels),le=\"\(bound)\"} \(cumulative)\n"
            }
            latency += "mlgw_gateway_latency_seconds_bucket{\(labels),le=\"+Inf\"} \(m.latency.count)\n"
            latency += "mlgw_gateway_latency_seconds_sum{\(labels)} \(Double(m.latency.sumNanos.load(ordering: .relaxed)) / 1e9)\n"
            latency += "mlgw_gateway_latency_seconds_count{\(labels)} \(m.latency.count)\n"
        }
        return out + latency
    }
}

/// The current quota period's id (day, week, month in UTC), recomputed once per UTC day.
final class PeriodClock: @unchecked Sendable {
    private let lock = NIOLock()
    private var day = Int.min
    private var ids: [QuotaPeriod: String] = [:]

    func current(_ period: QuotaPeriod, now: Date) -> String {
        let today = Int((now.timeIntervalSince1970 / 86_400).rounded(.down))
        return lock.withLock {
            if today != day {
                let date = Date(timeIntervalSince1970: Double(today) * 86_400 + 1)
                for p in QuotaPeriod.allCases { ids[p] = GatewayState.periodID(p, at: date) }
                day = today
            }
            return ids[period]!
        }
    }
}

/// The gateway's access log: one JSON line per request, appended by a background thread so that
/// a request never waits for the disk. Lines are whole when a reader looks.
final class AccessLog: @unchecked Sendable {
    private let lock = NIOLock()
    private var pending: [String] = []
    private var fd: Int32
    private var closed = false
    let dropped = ManagedAtomic<UInt64>(0)

    init(path: String) {
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        let thread = Thread { [weak self] in
            while let self, !self.isClosed {
                usleep(50_000)
                self.flush()
            }
        }
        thread.name = "mlgw-access-log"
        thread.start()
    }

    var isClosed: Bool { lock.withLock { closed } }

    func append(_ line: String) {
        lock.withLock {
            if pending.count < 100_000 { pending.append(line) } else { dropped.wrappingIncrement(ordering: .relaxed) }
        }
    }

    func flush() {
        let lines: [String] = lock.withLock { let l = pending; pending = []; return l }
        guard !lines.isEmpty, fd >= 0 else { return }
        var text = lines.joined(separator: "\n") + "\n"
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }

    func close() {
        flush()
        lock.withLock { closed = true }
    }
}
