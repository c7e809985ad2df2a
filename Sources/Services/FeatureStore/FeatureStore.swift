import EnvironmentAPI
import Foundation
import GRDB
import NIOConcurrencyHelpers

/// A featurestore-runtime error, in the shapes botocore parses.
struct FeatureStoreError: Error {
    enum Kind: String { case validation = "ValidationError", notFound = "ResourceNotFound", internalFailure = "InternalFailure" }
    var kind: Kind
    var message: String

    static func validation(_ m: String) -> FeatureStoreError { FeatureStoreError(kind: .validation, message: m) }
    static func notFound(_ group: String) -> FeatureStoreError {
        FeatureStoreError(kind: .notFound, message: "Resource Not Found: Amazon SageMaker can't find a feature group with name \(group)")
    }
}

/// The environment's feature store: one SQLite database (WAL) in the data folder holds every
/// group's schema, the online store (the latest record per identifier) and the queue of offline
/// rows; a flush moves queued rows into the offline store's files. A write is acknowledged only
/// once its transaction committed, so a record answered with 200 survives a kill -9 of the host
/// (SQLite's WAL with synchronous=NORMAL is durable against a process crash).
///
/// The offline store is JSON lines under `offline/GROUP/year=YYYY/month=MM/day=DD/hour=HH/`,
/// partitioned by event time as SageMaker's S3 layout is. A file appears whole (written aside,
/// then renamed) and is named by the queue positions it holds, so a flush cut short by a crash is
/// redone into the same names and no row is written twice.
final class FeatureStore: @unchecked Sendable {
    let folder: String
    let pool: DatabasePool
    private let lock = NIOLock()
    private var groups: [String: FeatureGroupConfiguration] = [:]
    /// PostgreSQL online stores by the fingerprint of their URL (groups on one database share it).
    private var databases: [String: PostgresOnlineStore] = [:]
    private var loads: [String: FeatureLoadResult] = [:]
    private var lastWrites: [String: Double] = [:]
    /// What identifies the load files each group was last loaded from.
    private var loadedFiles: [String: String] = [:]
    /// Serialises flushes (the timer's and shutdown's).
    private let flushLock = NIOLock()
    /// Rows on their way to the offline store's files.
    let queue: OfflineQueue
    let clock: @Sendable () -> Double

    init(folder: String, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws {
        self.folder = folder
        self.clock = clock
        try FileManager.default.createDirectory(atPath: folder + "/offline", withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        configuration.maximumReaderCount = max(4, ProcessInfo.processInfo.activeProcessorCount * 2)
        pool = try DatabasePool(path: folder + "/online.sqlite", configuration: configuration)
        try pool.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS groups (name TEXT PRIMARY KEY, config TEXT NOT NULL, last_write REAL, offline_rows INTEGER NOT NULL DEFAULT 0,
                                                   offline_bytes INTEGER NOT NULL DEFAULT 0, loaded TEXT, load_result TEXT);
                CREATE TABLE IF NOT EXISTS online (grp TEXT NOT NULL, id TEXT NOT NULL, event_time REAL NOT NULL, ttl REAL,
                                                   deleted INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY (grp, id)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                """)
        }
        let flushed = try pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'flushed'") }.flatMap { Int($0) } ?? 0
        queue = try OfflineQueue(folder: folder + "/offline-queue", firstNumber: flushed + 1)
        // Groups survive a restart of the host with their records: they serve again at once.
        let stored = try pool.read { db in try Row.fetchAll(db, sql: "SELECT name, config, last_write, loaded, load_result FROM groups") }
        for row in stored {
            let name: String = row["name"]
            let text: String = row["config"]
            if let c = try? JSONDecoder().decode(FeatureGroupConfiguration.self, from: Data(text.utf8)) { groups[name] = c }
            if let t: Double = row["last_write"] { lastWrites[name] = t }
            if let sha: String = row["loaded"] { loadedFiles[name] = sha }
            if let result: String = row["load_result"], let r = try? JSONDecoder().decode(FeatureLoadResult.self, from: Data(result.utf8)) { loads[name] = r }
        }
    }

    /// A group that serves: one whose online store is a PostgreSQL database serves once apply has
    /// given it the database's URL again (the URL is never written to disk).
    func group(_ name: String) -> FeatureGroupConfiguration? {
        lock.withLock { groups[name].flatMap { $0.usesPostgres && $0.postgresURL == nil ? nil : $0 } }
    }
    var groupNames: [String] { lock.withLock { groups.keys.sorted() }.filter { group($0) != nil } }

    /// The group's PostgreSQL online store, or nil when its online store is this database.
    func database(_ g: FeatureGroupConfiguration) throws -> PostgresOnlineStore? {
        guard let text = g.postgresURL, let fingerprint = g.onlineStoreFingerprint else { return nil }
        if let db = lock.withLock({ databases[fingerprint] }) { return db }
        guard let url = PostgresURL(text) else { throw FeatureStoreError.validation("feature group \(g.name): the online store's URL is not a PostgreSQL URL") }
        let db = try PostgresOnlineStore(url: url)
        lock.withLock { databases[fingerprint] = db }
        return db
    }

    // MARK: groups

    /// Creates or changes a group. A stored group whose records the new schema cannot keep is
    /// refused: the provider deletes it first, which only a plan that said so does.
    func put(_ c: FeatureGroupConfiguration) throws {
        do { _ = try database(c) } catch let e as FeatureStoreError {
            throw ControlError(message: "feature group \(c.name): \(e.message)", terminal: false)
        }
        if let existing = group(c.name), !existing.keepsRecords(under: c) {
            let held = try status(c.name).map(\.storedData) ?? nil
            guard held == nil else {
                throw ControlError(message: "feature group \(c.name) holds \(held!) under another schema; only a replacement may delete them "
                                   + "(plan again: it shows the replacement, which apply makes with --allow-data-loss)", terminal: true)
            }
        }
        // On disk without the database's URL (it may hold a password).
        let json = String(decoding: try JSONEncoder().encode(c.redacted), as: UTF8.self)
        try pool.write { db in
            try db.execute(sql: "INSERT INTO groups (name, config) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET config = excluded.config",
                           arguments: [c.name, json])
        }
        lock.withLock { groups[c.name] = c }
    }

    /// Removes a group with everything it holds, online and offline.
    func delete(_ name: String) throws {
        try flushOffline()
        if let g = group(name), let db = try database(g) { try db.removeGroup(name) }
        lock.withLock {
            groups[name] = nil
            loads[name] = nil
            lastWrites[name] = nil
            loadedFiles[name] = nil
        }
        try pool.write { db in
            try db.execute(sql: "DELETE FROM groups WHERE name = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM online WHERE grp = ?", arguments: [name])
        }
        queue.forget(name)
        try? FileManager.default.removeItem(atPath: offlineFolder(name))
    }

    /// Whether the group was last loaded from exactly these files.
    func wasLoaded(_ name: String, from files: String) -> Bool { lock.withLock { loadedFiles[name] == files } }

    /// Notes a load, so the same files are not loaded again when the group is applied again.
    func setLoad(_ name: String, files: String, _ result: FeatureLoadResult) throws {
        let json = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        try pool.write { db in try db.execute(sql: "UPDATE groups SET loaded = ?, load_result = ? WHERE name = ?", arguments: [files, json, name]) }
        lock.withLock {
            loads[name] = result
            loadedFiles[name] = files
        }
    }

    func status(_ name: String) throws -> FeatureGroupStatus? {
        guard let c = group(name) else { return nil }
        let shared = try database(c)
        var (online, onlineBytes, published, bytes) = try pool.read { db -> (Int, Int, Int, Int) in
            var online = 0, onlineBytes = 0
            if shared == nil, let r = try Row.fetchOne(db, sql: "SELECT count(*), coalesce(sum(length(record)), 0) FROM online WHERE grp = ?", arguments: [name]) {
                (online, onlineBytes) = (r[0], r[1])
            }
            let row = try Row.fetchOne(db, sql: "SELECT offline_rows, offline_bytes FROM groups WHERE name = ?", arguments: [name])
            return (online, onlineBytes, row?["offline_rows"] ?? 0, row?["offline_bytes"] ?? 0)
        }
        let queued = queue.pendingRows(name)
        if let shared { (online, onlineBytes) = try shared.count(group: name) }
        let (load, last) = lock.withLock { (loads[name], lastWrites[name]) }
        return FeatureGroupStatus(configuration: c.redacted, onlineRecords: online, onlineBytes: onlineBytes, offlineRows: published + queued, offlineBytes: bytes, lastWrite: last, load: load)
    }

    // MARK: writing

    enum Store: String { case online = "OnlineStore", offline = "OfflineStore" }

    /// PutRecord: checks the record, then writes it where it belongs (see `write`).
    func putRecord(_ groupName: String, _ record: [FeatureValue], targets: Set<Store>?, ttl: Double?) throws {
        guard let g = group(groupName) else { throw FeatureStoreError.notFound(groupName) }
        let checked: CheckedRecord
        switch FeatureRecords.check(record, against: g) {
        case .success(let r): checked = r
        case .failure(let e): throw FeatureStoreError.validation(e.description)
        }
        if let targets {
            if targets.contains(.online) && !g.online { throw FeatureStoreError.validation("feature group \(g.name) has no online store (TargetStores names OnlineStore)") }
            if targets.contains(.offline) && !g.offline { throw FeatureStoreError.validation("feature group \(g.name) has no offline store (TargetStores names OfflineStore)") }
        }
        _ = try write([checked], to: g, targets: targets, ttl: ttl)
    }

    /// Writes checked records in one transaction: each goes to the online store when its event
    /// time is newer than the stored record's (PutRecord replaces the whole record), and to
    /// the offline store's queue always. Returns how many were older than what is stored.
    @discardableResult
    func write(_ records: [CheckedRecord], to g: FeatureGroupConfiguration, targets: Set<Store>? = nil, ttl: Double? = nil) throws -> Int {
        try write(prepare(records, group: g, invoked: FeatureRecords.iso8601(clock())), to: g, targets: targets, ttl: ttl)
    }

    /// A checked record with the JSON the stores keep, built before the write (so that a chunk's
    /// records can be prepared on several cores while the one writer works).
    struct PreparedRecord: Sendable {
        var identifier: String
        var eventTime: Double
        var record: String
        var queueLine: [UInt8]
    }

    func prepare(_ records: [CheckedRecord], group g: FeatureGroupConfiguration, invoked: String) -> [PreparedRecord] {
        records.map { r in
            PreparedRecord(identifier: r.identifier, eventTime: r.eventTime, record: FeatureJSON.record(r.values),
                           queueLine: g.offline ? OfflineQueue.line(group: g.name, eventTime: r.eventTime,
                                                                    row: FeatureJSON.offlineRow(r.values, group: g, invoked: invoked, deleted: false)) : [])
        }
    }

    @discardableResult
    func write(_ records: [PreparedRecord], to g: FeatureGroupConfiguration, targets: Set<Store>? = nil, ttl: Double? = nil) throws -> Int {
        let online = g.online && (targets?.contains(.online) ?? true)
        let offline = g.offline && (targets?.contains(.offline) ?? true)
        let now = clock()
        var lines: [UInt8] = []
        if offline {
            lines.reserveCapacity(records.reduce(0) { $0 + $1.queueLine.count })
            for r in records { lines += r.queueLine }
        }
        let shared = try database(g)
        // The offline rows are appended to the queue first; the online write commits after, and
        // takes them back if it fails.
        let older = try queue.append(lines, rows: offline ? [g.name: records.count] : [:]) { () throws -> Int in
            guard online else { return 0 }
            if let shared { return try shared.upsert(group: g.name, records.map { ($0.identifier, $0.eventTime, ttl, $0.record) }) }
            var older = 0
            try pool.write { db in
                // One statement decides: a record newer than the stored one replaces it; any
                // other (older, or as old: SageMaker's "historic" record) changes no row, which is
                // how it is counted.
                let upsert = try db.cachedStatement(sql: """
                    INSERT INTO online (grp, id, event_time, ttl, deleted, record) VALUES (?, ?, ?, ?, 0, ?)
                    ON CONFLICT(grp, id) DO UPDATE SET event_time = excluded.event_time, ttl = excluded.ttl, deleted = 0, record = excluded.record
                    WHERE excluded.event_time > online.event_time
                    """)
                for r in records {
                    try upsert.execute(arguments: [g.name, r.identifier, r.eventTime, ttl, r.record])
                    if db.changesCount == 0 { older += 1 }
                }
            }
            return older
        }
        lock.withLock { lastWrites[g.name] = now }
        return older
    }

    /// DeleteRecord. The delete's event time must be later than the stored record's: a soft
    /// delete otherwise leaves the record (and still writes its marker), a hard one fails.
    func deleteRecord(_ groupName: String, id: String, eventTime text: String, hard: Bool, targets: Set<Store>?) throws {
        guard let g = group(groupName) else { throw FeatureStoreError.notFound(groupName) }
        guard let t = FeatureRecords.anyEventTime(text) else {
            throw FeatureStoreError.validation("EventTime '\(text)' is not an event time: Unix seconds, or yyyy-MM-dd'T'HH:mm:ssZ")
        }
        let online = g.online && (targets?.contains(.online) ?? true)
        let offline = g.offline && (targets?.contains(.offline) ?? true)
        let invoked = FeatureRecords.iso8601(clock())
        let shared = try database(g)
        // The marker goes to the queue; a hard delete that fails takes it back.
        var marker: [UInt8] = []
        if offline {
            let row = FeatureJSON.offlineRow([FeatureValue(g.recordIdentifier, id), FeatureValue(g.eventTime, text)], group: g, invoked: invoked, deleted: true)
            marker = OfflineQueue.line(group: g.name, eventTime: t, row: row)
        }
        try queue.append(marker, rows: offline ? [g.name: 1] : [:]) {
            guard online else { return }
            func tooEarly(_ stored: Double) -> FeatureStoreError {
                FeatureStoreError.validation("EventTime: 400 ValidationException: the delete's EventTime \(text) is not later than the record's (\(FeatureRecords.iso8601(stored)))")
            }
            if let shared {
                let stored = try shared.read(group: g.name, id: id)?.eventTime
                if hard {
                    if let stored, t <= stored { throw tooEarly(stored) }
                    try shared.remove(group: g.name, id: id)
                } else {
                    try shared.tombstone(group: g.name, id: id, eventTime: t)
                }
                return
            }
            try pool.write { db in
                let stored = try Double.fetchOne(db, sql: "SELECT event_time FROM online WHERE grp = ? AND id = ?", arguments: [g.name, id])
                if hard {
                    if let stored, t <= stored { throw tooEarly(stored) }
                    try db.execute(sql: "DELETE FROM online WHERE grp = ? AND id = ?", arguments: [g.name, id])
                } else if stored == nil || t > stored! {
                    // A tombstone: the record is hidden, and only a later write brings it back.
                    try db.execute(sql: """
                        INSERT INTO online (grp, id, event_time, ttl, deleted, record) VALUES (?, ?, ?, NULL, 1, '[]')
                        ON CONFLICT(grp, id) DO UPDATE SET event_time = excluded.event_time, deleted = 1, record = '[]', ttl = NULL
                        """, arguments: [g.name, id, t])
                }
            }
        }
        lock.withLock { lastWrites[g.name] = clock() }
    }

    // MARK: reading

    /// The online record of `id` as the API's `Record` JSON, and when it expires; nil when there
    /// is none, it was deleted, or it expired.
    func read(_ g: FeatureGroupConfiguration, id: String) throws -> (record: String, expiresAt: Double?)? {
        guard g.online else { return nil }
        if let shared = try database(g) {
            guard let s = try shared.read(group: g.name, id: id), !s.deleted else { return nil }
            let expires = (s.ttl ?? g.ttlSeconds).map { s.eventTime + $0 }
            if let expires, clock() >= expires { return nil }
            return (s.record, expires)
        }
        let row = try pool.unsafeRead { db in
            try Row.fetchOne(try db.cachedStatement(sql: "SELECT event_time, ttl, deleted, record FROM online WHERE grp = ? AND id = ?"), arguments: [g.name, id])
        }
        guard let row, (row["deleted"] as Int) == 0 else { return nil }
        let eventTime: Double = row["event_time"]
        let ttl: Double? = row["ttl"] ?? g.ttlSeconds
        let expires = ttl.map { eventTime + $0 }
        if let expires, clock() >= expires { return nil }
        return (row["record"], expires)
    }

    /// The values of `names` in the online record of `id` (nil for a feature the record leaves
    /// out); nil when there is no live record.
    func values(_ g: FeatureGroupConfiguration, id: String, names: [String]) throws -> [String?]? {
        guard let found = try read(g, id: id) else { return nil }
        let values = try JSONDecoder().decode([FeatureValue].self, from: Data(found.record.utf8))
        var byName: [String: String] = [:]
        for v in values { if let s = v.ValueAsString { byName[v.FeatureName] = s } }
        return names.map { byName[$0] }
    }

    /// Several identifiers of one group in one read transaction.
    func read(_ g: FeatureGroupConfiguration, ids: [String]) throws -> [(id: String, record: String, expiresAt: Double?)] {
        guard g.online else { return [] }
        let now = clock()
        if let shared = try database(g) {
            let found = try shared.read(group: g.name, ids: ids)
            return ids.compactMap { id in
                guard let s = found[id], !s.deleted else { return nil }
                let expires = (s.ttl ?? g.ttlSeconds).map { s.eventTime + $0 }
                if let expires, now >= expires { return nil }
                return (id, s.record, expires)
            }
        }
        return try pool.unsafeRead { db in
            let statement = try db.cachedStatement(sql: "SELECT event_time, ttl, deleted, record FROM online WHERE grp = ? AND id = ?")
            var out: [(String, String, Double?)] = []
            for id in ids {
                guard let row = try Row.fetchOne(statement, arguments: [g.name, id]), (row["deleted"] as Int) == 0 else { continue }
                let eventTime: Double = row["event_time"]
                let ttl: Double? = row["ttl"] ?? g.ttlSeconds
                let expires = ttl.map { eventTime + $0 }
                if let expires, now >= expires { continue }
                out.append((id, row["record"], expires))
            }
            return out
        }
    }

    // MARK: the offline store

    func offlineFolder(_ group: String) -> String { folder + "/offline/" + group }

    /// Moves every queued row into the offline store's files: the queue's current log is sealed,
    /// and each sealed log becomes one file per group and hour of event time, named by the log's
    /// number, written aside and renamed; the counts and the log's number are recorded in one
    /// transaction, then the log is deleted. A crash anywhere repeats the log into the same names.
    func flushOffline() throws {
        try flushLock.withLock {
            let flushed = try pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'flushed'") }.flatMap { Int($0) } ?? 0
            for log in try queue.seal() {
                let lines = OfflineQueue.lines(of: queue.folder + "/" + log.name)
                var rows: [String: Int] = [:]
                for line in lines { rows[line.group, default: 0] += 1 }
                guard log.number > flushed else {
                    // Written and counted before a crash; only the log was left.
                    queue.done(log, rows: rows)
                    continue
                }
                let written = FeatureRecords.iso8601(clock())
                let suffix = Array(",\"write_time\":\"\(written)\"}\n".utf8)
                // One file per group and hour of event time. (Appended in place: a copy of the
                // file's bytes per row would be quadratic.)
                struct Partition: Hashable { var group: String; var hour: Int }
                var byPartition: [Partition: [UInt8]] = [:]
                let known = Set(lock.withLock { groups.keys })
                for line in lines where known.contains(line.group) {
                    let key = Partition(group: line.group, hour: Int((line.eventTime / 3600).rounded(.down)))
                    byPartition[key, default: []].append(contentsOf: line.row)
                    byPartition[key]!.removeLast()
                    byPartition[key]!.append(contentsOf: suffix)
                }
                var added: [String: (rows: Int, bytes: Int)] = [:]
                for (key, bytes) in byPartition {
                    let path = Self.partition(offlineFolder(key.group), eventTime: Double(key.hour) * 3600) + "/part-\(log.number).jsonl"
                    if !FileManager.default.fileExists(atPath: path) {
                        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                        let temp = path + ".tmp"
                        try Data(bytes).write(to: URL(fileURLWithPath: temp))
                        guard rename(temp, path) == 0 else { throw FeatureStoreError(kind: .internalFailure, message: "cannot write \(path)") }
                    }
                    var a = added[key.group] ?? (0, 0)
                    a.rows += bytes.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
                    a.bytes += bytes.count
                    added[key.group] = a
                }
                try pool.write { db in
                    for (group, a) in added {
                        try db.execute(sql: "UPDATE groups SET offline_rows = offline_rows + ?, offline_bytes = offline_bytes + ?, last_write = ? WHERE name = ?",
                                       arguments: [a.rows, a.bytes, lock.withLock { lastWrites[group] }, group])
                    }
                    try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('flushed', ?)", arguments: [String(log.number)])
                }
                queue.done(log, rows: rows)
            }
        }
    }

    /// `.../year=2026/month=12/day=02/hour=18`, from the event time (UTC).
    static func partition(_ base: String, eventTime: Double) -> String {
        let whole = Int(eventTime.rounded(.down))
        let (y, m, d) = FeatureRecords.civil(fromDays: whole >= 0 ? whole / 86_400 : (whole - 86_399) / 86_400)
        let hour = ((whole % 86_400) + 86_400) % 86_400 / 3600
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(base)/year=\(y)/month=\(two(m))/day=\(two(d))/hour=\(two(hour))"
    }

    /// Rows waiting for the next flush.
    func queuedRows() -> Int { queue.pendingTotal }
}

/// The JSON the store keeps and answers, built by hand into bytes (it is on every write's path:
/// building it through String appends took 40% of an ingest).
enum FeatureJSON {
    /// `[{"FeatureName":"a","ValueAsString":"1"},...]`, as GetRecord's `Record`.
    static func record(_ values: [FeatureValue]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 48)
        out.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"FeatureName":"#.utf8)
            appendString(v.FeatureName, to: &out)
            if let s = v.ValueAsString {
                out.append(contentsOf: #","ValueAsString":"#.utf8)
                appendString(s, to: &out)
            } else if let list = v.ValueAsStringList {
                out.append(contentsOf: #","ValueAsStringList":["#.utf8)
                for (j, s) in list.enumerated() {
                    if j > 0 { out.append(UInt8(ascii: ",")) }
                    appendString(s, to: &out)
                }
                out.append(UInt8(ascii: "]"))
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    /// One offline row: every feature of the group (typed: numbers as numbers; null when the
    /// record leaves it out), then `api_invocation_time` and `is_deleted`. `write_time` is added
    /// when the row is flushed.
    static func offlineRow(_ values: [FeatureValue], group: FeatureGroupConfiguration, invoked: String, deleted: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(group.features.count * 24 + 96)
        out.append(UInt8(ascii: "{"))
        for f in group.features {
            appendString(f.name, to: &out)
            out.append(UInt8(ascii: ":"))
            // Records are short: a scan is cheaper than hashing every name.
            guard let v = values.first(where: { $0.FeatureName == f.name }) else {
                out.append(contentsOf: "null,".utf8)
                continue
            }
            if let list = v.ValueAsStringList {
                out.append(UInt8(ascii: "["))
                for (j, s) in list.enumerated() {
                    if j > 0 { out.append(UInt8(ascii: ",")) }
                    typed(s, f.type, to: &out)
                }
                out.append(UInt8(ascii: "]"))
            } else if let s = v.ValueAsString {
                typed(s, f.type, to: &out)
            } else {
                out.append(contentsOf: "null".utf8)
            }
            out.append(UInt8(ascii: ","))
        }
        out.append(contentsOf: #""api_invocation_time":""#.utf8)
        out.append(contentsOf: invoked.utf8)
        out.append(contentsOf: (deleted ? #"","is_deleted":true}"# : #"","is_deleted":false}"#).utf8)
        return String(decoding: out, as: UTF8.self)
    }

    /// A checked value as JSON: a String as a string; a number as written when JSON can read it
    /// so (a Fractional written without a point or exponent gets `.0`, so every row of a
    /// Fractional feature reads as a float), else as Swift formats it.
    static func typed(_ s: String, _ type: FeatureType, to out: inout [UInt8]) {
        switch type {
        case .string:
            appendString(s, to: &out)
        case .integral:
            if isJSONNumber(s.utf8, integer: true) { out.append(contentsOf: s.utf8) } else {
                out.append(contentsOf: (FeatureRecords.integral(s).map(String.init) ?? "null").utf8)
            }
        case .fractional:
            if isJSONNumber(s.utf8, integer: false) {
                out.append(contentsOf: s.utf8)
                if !s.utf8.contains(where: { $0 == 46 || $0 == 101 || $0 == 69 }) { out.append(contentsOf: ".0".utf8) }
            } else if let d = FeatureRecords.fractional(s) {
                out.append(contentsOf: (d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) + ".0" : String(d)).utf8)
            } else {
                out.append(contentsOf: "null".utf8)
            }
        }
    }

    /// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` (no fraction or
    /// exponent when `integer`).
    static func isJSONNumber(_ text: String.UTF8View, integer: Bool) -> Bool {
        var it = text.makeIterator()
        var c = it.next()
        func digit(_ b: UInt8?) -> Bool { b.map { $0 >= 48 && $0 <= 57 } ?? false }
        if c == 45 { c = it.next() }
        guard digit(c) else { return false }
        if c == 48 { c = it.next() } else { while digit(c) { c = it.next() } }
        if integer { return c == nil }
        if c == 46 {
            c = it.next()
            guard digit(c) else { return false }
            while digit(c) { c = it.next() }
        }
        if c == 101 || c == 69 {
            c = it.next()
            if c == 43 || c == 45 { c = it.next() }
            guard digit(c) else { return false }
            while digit(c) { c = it.next() }
        }
        return c == nil
    }

    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(34)
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 34 || $0 == 92 }) {
            out.append(contentsOf: s.utf8)
        } else {
            for b in s.utf8 {
                switch b {
                case 34: out.append(contentsOf: [92, 34])
                case 92: out.append(contentsOf: [92, 92])
                case 10: out.append(contentsOf: [92, 110])
                case 13: out.append(contentsOf: [92, 114])
                case 9: out.append(contentsOf: [92, 116])
                case 0..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [92, 117, 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
                default: out.append(b)
                }
            }
        }
        out.append(34)
    }

    static func appendString(_ s: String, to out: inout String) {
        var bytes: [UInt8] = []
        appendString(s, to: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }
}
