import EnvironmentAPI
import Foundation
import NIOConcurrencyHelpers

/// Feature groups as a service of the host: the control API's collection (a put stores the
/// schema and loads the group's `load:` files), the records action `ingest` sends batches to,
/// and a timer that flushes the offline store's queue every second.
final class FeatureStoreService: EnvironmentService, @unchecked Sendable {
    /// Opened when the first group is put, or at start when the folder holds a database: an
    /// environment without feature groups writes nothing for them.
    private var opened: FeatureStore?
    private let lock = NIOLock()
    let folder: String
    let clock: @Sendable () -> Double
    var name: String { "feature groups" }
    static let flushInterval = 1.0
    /// Rows per transaction when loading a file.
    static let batchSize = 10_000

    init(directory: String, clock: EnvironmentClock) throws {
        folder = directory + "/data/feature-store"
        self.clock = { clock.now().timeIntervalSince1970 }
        if FileManager.default.fileExists(atPath: folder + "/online.sqlite") { opened = try FeatureStore(folder: folder, clock: self.clock) }
    }

    /// The store, if one is open.
    var current: FeatureStore? { lock.withLock { opened } }

    /// The store, opened now if need be.
    func store() throws -> FeatureStore {
        try lock.withLock {
            if let opened { return opened }
            let s = try FeatureStore(folder: folder, clock: clock)
            opened = s
            return s
        }
    }

    func register(on router: ControlRouter) {
        router.on(FeatureGroupConfiguration.self, put: { [self] c in
            try Self.check(c)
            let store = try store()
            try store.put(c)
            // Files are loaded when the group is new or they changed, not at every apply.
            let files = c.load.map { "\($0.path)=\($0.sha256)" }.joined(separator: "\n")
            if !c.load.isEmpty, !store.wasLoaded(c.name, from: files) {
                let result = try load(c, store: store)
                try store.setLoad(c.name, files: files, result)
                HostLog.write("feature group \(c.name): \(result.summary) from \(c.load.count) file\(c.load.count == 1 ? "" : "s")")
            }
            HostLog.write("feature groups: applied \(c.name)")
            guard let status = try store.status(c.name) else { throw ControlError(message: "feature group \(c.name) vanished", terminal: false) }
            return status
        }, delete: { [self] name in
            do { try current?.delete(name) } catch { HostLog.write("feature group \(name): delete failed: \(error)") }
            HostLog.write("feature groups: deleted \(name)")
        })
        // Readers of the offline store's files (export, query) ask for the queue to be written first.
        router.onAction(.featureGroups, "flush", [String: String].self) { [self] name, _ in
            try current?.flushOffline()
            return ControlAcknowledgement(applied: name)
        }
        router.onAction(.featureGroups, FeatureRowsChunk.action, FeatureRowsChunk.self) { [self] name, chunk in
            guard let store = current, let g = store.group(name) else { throw ControlError(message: "no feature group \(name) runs in this environment", terminal: true) }
            return try ingest(chunk, into: g, store: store)
        }
    }

    /// What the host checks again, whatever validation did.
    static func check(_ c: FeatureGroupConfiguration) throws {
        func bad(_ what: String) -> ControlError { ControlError(message: "feature group \(c.name): \(what)", terminal: true) }
        guard c.feature(c.recordIdentifier)?.collection == nil, c.feature(c.recordIdentifier) != nil else { throw bad("record identifier '\(c.recordIdentifier)' is not a single feature") }
        guard let t = c.feature(c.eventTime), t.collection == nil, t.type != .integral else { throw bad("event time '\(c.eventTime)' is not a Fractional or String feature") }
        if let ttl = c.ttlSeconds, !(ttl.isFinite && ttl >= 1) { throw bad("TTL \(ttl)s") }
        guard c.online || c.offline else { throw bad("no store") }
    }

    /// Loads the group's files: every row is checked first, and a file with a bad row stores
    /// nothing (the first 20 problems are the error); then the rows go in batches.
    func load(_ g: FeatureGroupConfiguration, store: FeatureStore) throws -> FeatureLoadResult {
        let started = Date()
        var result = FeatureLoadResult()
        var checked: [CheckedRecord] = []
        for file in g.load {
            var reader: FeatureFileReader
            do { reader = try FeatureFileReader(contentsOf: file.path, group: g) } catch {
                throw ControlError(message: "feature group \(g.name): \(error)", terminal: true)
            }
            while let item = reader.next() {
                let (line, row) = (item.line, item.result)
                switch row.flatMap({ FeatureRecords.check($0, against: g) }) {
                case .success(let r): checked.append(r)
                case .failure(let e):
                    result.rejected += 1
                    if result.errors.count < FeatureLoadResult.errorLimit { result.errors.append("\(file.path):\(line): \(Self.located(e))") }
                }
            }
            if let problem = reader.fileError { throw ControlError(message: "feature group \(g.name): \(file.path): \(problem)", terminal: true) }
        }
        guard result.rejected == 0 else {
            let more = result.rejected > result.errors.count ? "\n  and \(result.rejected - result.errors.count) more" : ""
            throw ControlError(message: "feature group \(g.name): \(FeatureLoadResult.grouped(result.rejected)) row\(result.rejected == 1 ? "" : "s") of its load files "
                               + "cannot be stored, so none was loaded:\n  " + result.errors.joined(separator: "\n  ") + more, terminal: true)
        }
        var i = 0
        while i < checked.count {
            let batch = Array(checked[i..<min(i + Self.batchSize, checked.count)])
            result.older += try store.write(batch, to: g)
            i += batch.count
        }
        result.loaded = checked.count - result.older
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    /// One chunk from `ingest`: rows that break the schema are rejected (with their line); the
    /// others are stored in one transaction. The chunk is read, checked and turned into the
    /// stores' JSON in parts, one per core; the write that follows is one.
    func ingest(_ chunk: FeatureRowsChunk, into g: FeatureGroupConfiguration, store: FeatureStore) throws -> FeatureLoadResult {
        let started = Date()
        let text = Array(chunk.text.utf8)
        let parts = Self.split(text, csv: chunk.csv, into: max(1, min(ProcessInfo.processInfo.activeProcessorCount, 4)))
        let invoked = FeatureRecords.iso8601(store.clock())
        let results = NIOLockedValueBox([Int: (prepared: [FeatureStore.PreparedRecord], result: FeatureLoadResult, fileError: String?)]())
        DispatchQueue.concurrentPerform(iterations: parts.count) { i in
            let (range, firstLine) = parts[i]
            var bytes: [UInt8] = []
            var line = chunk.firstLine + firstLine
            if chunk.csv {
                bytes = Array((chunk.header ?? "").utf8) + [10]
                line -= 1
            }
            bytes += text[range]
            var reader = FeatureFileReader(bytes: bytes, format: chunk.csv ? .csv : .jsonLines, group: g, firstLine: line)
            var result = FeatureLoadResult()
            var checked: [CheckedRecord] = []
            while let item = reader.next() {
                switch item.result.flatMap({ FeatureRecords.check($0, against: g) }) {
                case .success(let r): checked.append(r)
                case .failure(let e):
                    result.rejected += 1
                    if result.errors.count < FeatureLoadResult.errorLimit { result.errors.append("\(chunk.file):\(item.line): \(Self.located(e))") }
                }
            }
            let prepared = store.prepare(checked, group: g, invoked: invoked)
            results.withLockedValue { $0[i] = (prepared, result, reader.fileError) }
        }
        var prepared: [FeatureStore.PreparedRecord] = []
        var result = FeatureLoadResult()
        for i in 0..<parts.count {
            guard let part = results.withLockedValue({ $0[i] }) else { continue }
            if let problem = part.fileError { throw ControlError(message: "\(chunk.file): \(problem)", terminal: true) }
            prepared += part.prepared
            result.add(part.result)
        }
        result.older = try store.write(prepared, to: g)
        result.loaded = prepared.count - result.older
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    /// `bytes` cut into about `count` ranges at the ends of rows (a quoted CSV cell may hold a
    /// newline), each with the number of lines before it.
    static func split(_ bytes: [UInt8], csv: Bool, into count: Int) -> [(Range<Int>, Int)] {
        guard count > 1, bytes.count > 64 * 1024 else { return [(0..<bytes.count, 0)] }
        var cuts: [Int] = [0]
        var quoted = false
        var target = bytes.count / count
        for (i, b) in bytes.enumerated() {
            if csv && b == 34 { quoted.toggle() }
            if b == 10 && !quoted && i + 1 >= target && cuts.count < count {
                cuts.append(i + 1)
                target += bytes.count / count
            }
        }
        cuts.append(bytes.count)
        var out: [(Range<Int>, Int)] = []
        var lines = 0
        for k in 0..<(cuts.count - 1) where cuts[k] < cuts[k + 1] {
            out.append((cuts[k]..<cuts[k + 1], lines))
            lines += bytes[cuts[k]..<cuts[k + 1]].reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
        }
        return out
    }

    /// `column 'x': ...`, as a row's message names its cell.
    static func located(_ e: FeatureRecordError) -> String {
        e.feature.map { "column '\($0)': \(e.message)" } ?? e.message
    }

    func reconcile(now: Date) async -> Date? {
        guard let store = current else { return nil }
        do { try store.flushOffline() } catch { HostLog.write("feature groups: offline flush failed: \(error)") }
        return now.addingTimeInterval(Self.flushInterval)
    }

    func processExited(pid: Int32, status: Int32) async {}

    func describe(into snapshot: inout EnvironmentSnapshot) async {
        guard let store = current else { return }
        snapshot.featureGroups = store.groupNames.compactMap { try? store.status($0) }
    }

    func shutdown() async {
        do { try current?.flushOffline() } catch { HostLog.write("feature groups: offline flush failed: \(error)") }
    }
}
