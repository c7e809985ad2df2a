import EnvironmentAPI
import Foundation
import GRDB

/// Reading the offline store's files: every row a group ever wrote, as JSON objects. What the
/// training-set export and `features query` work from, with no custom reader needed elsewhere
/// (pandas and DuckDB read the same files).
public enum OfflineStore {
    /// `DATA/feature-store/offline/GROUP`.
    public static func folder(data: String, group: String) -> String { data + "/feature-store/offline/" + group }

    /// Every row of the group's files, in file order (partition, then queue position).
    public static func rows(in folder: String) throws -> [[String: Any]] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        var files: [String] = []
        while let item = walker.nextObject() as? String {
            if item.hasSuffix(".jsonl") { files.append(item) }
        }
        var out: [[String: Any]] = []
        for file in files.sorted() {
            guard let data = FileManager.default.contents(atPath: folder + "/" + file) else { continue }
            for line in data.split(separator: 10) where !line.isEmpty {
                guard let row = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { continue }
                out.append(row)
            }
        }
        return out
    }

    /// A JSON value as the API's text (nil for null).
    static func text(_ v: Any?) -> String? {
        guard let v, !(v is NSNull) else { return nil }
        if let list = v as? [Any] { return "[" + list.compactMap { text($0) }.map { "\"\($0)\"" }.joined(separator: ",") + "]" }
        return FeatureFileReader.text(v)
    }

    /// Unix seconds of an event time or an entity row's time: Unix seconds, or ISO-8601 in UTC.
    static func seconds(_ v: Any?) -> Double? {
        if let n = v as? NSNumber { return n.doubleValue }
        if let s = v as? String { return FeatureRecords.anyEventTime(s) }
        return nil
    }
}

/// A point-in-time-correct training set, as Feast's `get_historical_features`: for each entity
/// row and each group, the group's latest record with event time at or before the row's time,
/// unless that record is a deletion or has expired by the group's TTL by then.
public struct PointInTimeJoin {
    public struct Request {
        public var group: FeatureGroupConfiguration
        public var features: [String]
        /// The group's rows (`OfflineStore.rows`).
        public var rows: [[String: Any]]

        public init(group: FeatureGroupConfiguration, features: [String], rows: [[String: Any]]) {
            self.group = group
            self.features = features
            self.rows = rows
        }
    }

    /// A group's history per identifier, sorted by event time (ties: the later write last).
    struct History {
        var times: [Double]
        var rows: [[String: Any]]
    }

    /// The entity rows (header, then cells) with one column per requested feature appended;
    /// a feature without a value is an empty cell. Columns are named by the feature, or
    /// `group__feature` where two groups give the same name.
    public static func join(header: [String], rows entities: [[String]], asOf: String, requests: [Request]) throws -> (header: [String], rows: [[String]]) {
        guard let timeColumn = header.firstIndex(of: asOf) else { throw FeatureRecordError(feature: nil, "the entity file has no column '\(asOf)'") }
        var names: [String: Int] = [:]
        for r in requests { for f in r.features { names[f, default: 0] += 1 } }
        var outHeader = header
        var plans: [(keyColumn: Int, group: FeatureGroupConfiguration, features: [String], history: [String: History])] = []
        for r in requests {
            guard let key = header.firstIndex(of: r.group.recordIdentifier) else {
                throw FeatureRecordError(feature: nil, "the entity file has no column '\(r.group.recordIdentifier)', the record identifier of group '\(r.group.name)'")
            }
            for f in r.features {
                guard r.group.feature(f) != nil else { throw FeatureRecordError(feature: f, "feature group '\(r.group.name)' has no such feature") }
                outHeader.append(names[f]! > 1 ? "\(r.group.name)__\(f)" : f)
            }
            var byID: [String: [(Double, Int, [String: Any])]] = [:]
            for (i, row) in r.rows.enumerated() {
                guard let id = OfflineStore.text(row[r.group.recordIdentifier]), let t = OfflineStore.seconds(row[r.group.eventTime]) else { continue }
                byID[id, default: []].append((t, i, row))
            }
            var history: [String: History] = [:]
            for (id, list) in byID {
                let sorted = list.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
                history[id] = History(times: sorted.map(\.0), rows: sorted.map(\.2))
            }
            plans.append((key, r.group, r.features, history))
        }
        var out: [[String]] = []
        out.reserveCapacity(entities.count)
        for (n, entity) in entities.enumerated() {
            guard entity.count == header.count else { throw FeatureRecordError(feature: nil, "entity row \(n + 1) has \(entity.count) cells, the header \(header.count)") }
            guard let at = OfflineStore.seconds(entity[timeColumn]) ?? Double(entity[timeColumn]) else {
                throw FeatureRecordError(feature: asOf, "entity row \(n + 1): '\(entity[timeColumn])' is not a time (Unix seconds or yyyy-MM-dd'T'HH:mm:ssZ)")
            }
            var line = entity
            for plan in plans {
                var found: [String: Any]?
                if let h = plan.history[entity[plan.keyColumn]] {
                    // The last index with time <= at.
                    var lo = 0, hi = h.times.count
                    while lo < hi {
                        let mid = (lo + hi) / 2
                        if h.times[mid] <= at { lo = mid + 1 } else { hi = mid }
                    }
                    if lo > 0 {
                        let candidate = h.rows[lo - 1]
                        let deleted = (candidate["is_deleted"] as? Bool) ?? false
                        let expired = plan.group.ttlSeconds.map { at >= h.times[lo - 1] + $0 } ?? false
                        if !deleted && !expired { found = candidate }
                    }
                }
                for f in plan.features { line.append(found.flatMap { OfflineStore.text($0[f]) } ?? "") }
            }
            out.append(line)
        }
        return (outHeader, out)
    }
}

/// `features query`: SQL over the offline store. Each group is a table of its rows (its features,
/// then api_invocation_time, write_time, is_deleted), loaded into an in-memory SQLite database.
public enum OfflineQuery {
    public static func run(_ sql: String, groups: [(FeatureGroupConfiguration, [[String: Any]])]) throws -> (columns: [String], rows: [[String]]) {
        let db = try DatabaseQueue()
        return try db.write { db in
            for (g, rows) in groups {
                let columns = g.features.map(\.name) + ["api_invocation_time", "write_time", "is_deleted"]
                let types = g.features.map { f -> String in
                    guard f.collection == nil else { return "TEXT" }
                    switch f.type { case .integral: return "INTEGER"; case .fractional: return "REAL"; case .string: return "TEXT" }
                } + ["TEXT", "TEXT", "INTEGER"]
                let quoted = columns.map { "\"\($0)\"" }
                try db.execute(sql: "CREATE TABLE \"\(g.name)\" (" + zip(quoted, types).map { "\($0) \($1)" }.joined(separator: ", ") + ")")
                let insert = try db.makeStatement(sql: "INSERT INTO \"\(g.name)\" VALUES (" + columns.map { _ in "?" }.joined(separator: ", ") + ")")
                for row in rows {
                    let values: [(any DatabaseValueConvertible)?] = columns.map { c in
                        guard let v = row[c], !(v is NSNull) else { return nil }
                        if c == "is_deleted" { return ((v as? Bool) ?? false) ? 1 : 0 }
                        if let n = v as? NSNumber, String(cString: n.objCType) != "c" { return n.doubleValue == n.doubleValue.rounded() && String(cString: n.objCType) != "d" ? Int64(n.int64Value) : n.doubleValue }
                        return OfflineStore.text(v)
                    }
                    try insert.execute(arguments: StatementArguments(values))
                }
            }
            let statement = try db.makeStatement(sql: sql)
            let columns = statement.columnNames
            var out: [[String]] = []
            let cursor = try Row.fetchCursor(statement)
            while let row = try cursor.next() {
                out.append((0..<row.count).map { i in
                    let v = row[i] as DatabaseValue
                    switch v.storage {
                    case .null: return ""
                    case .int64(let n): return String(n)
                    case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : String(d)
                    case .string(let s): return s
                    case .blob(let b): return "\(b.count) bytes"
                    }
                })
            }
            return (columns, out)
        }
    }
}
