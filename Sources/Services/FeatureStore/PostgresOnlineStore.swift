import EnvironmentAPI
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO

/// A feature group's online store in a PostgreSQL database, which several environments (or
/// machines) may share: one table, `mlgw_feature_records`, keyed by group and identifier, with the
/// same columns and rules as the SQLite store. Calls block their caller until the database
/// answers; the connections run on their own event loop, so a caller on one of the host's loops
/// never waits on itself. Messages name the database without its password.
final class PostgresOnlineStore: @unchecked Sendable {
    let url: PostgresURL
    private let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let lock = NIOLock()
    private var idle: [PostgresConnection] = []
    private var nextID = 0
    private let logger: Logger = {
        var l = Logger(label: "mlgw.feature-store.postgres")
        l.logLevel = .critical
        return l
    }()

    init(url: PostgresURL) throws {
        self.url = url
        try withConnection { c in
            c.query("""
                CREATE TABLE IF NOT EXISTS mlgw_feature_records (grp TEXT NOT NULL, id TEXT NOT NULL, event_time DOUBLE PRECISION NOT NULL,
                    ttl DOUBLE PRECISION, deleted BOOLEAN NOT NULL, record TEXT NOT NULL, PRIMARY KEY (grp, id))
                """, logger: self.logger).map { _ in () }
        }
    }

    deinit {
        for c in idle { let _: EventLoopFuture<Void> = c.close() }
        loops.shutdownGracefully { _ in }
    }

    /// A record as stored: its event time, own TTL, whether soft-deleted, the API's `Record` JSON.
    struct Stored {
        var eventTime: Double
        var ttl: Double?
        var deleted: Bool
        var record: String
    }

    // MARK: calls

    /// Upserts in one statement: a record replaces the stored one when it is newer. Returns how
    /// many were older (a record repeated within the batch counts as older but its newest).
    func upsert(group: String, _ records: [(id: String, eventTime: Double, ttl: Double?, record: String)]) throws -> Int {
        guard !records.isEmpty else { return 0 }
        // One row per identifier (PostgreSQL's ON CONFLICT cannot touch a row twice): the newest, the first on a tie (a later record must be newer).
        var newest: [String: Int] = [:]
        for (i, r) in records.enumerated() {
            if let j = newest[r.id], records[j].eventTime >= r.eventTime { continue }
            newest[r.id] = i
        }
        let chosen = newest.values.sorted().map { records[$0] }
        let ids = chosen.map(\.id), times = chosen.map(\.eventTime), ttls = chosen.map { $0.ttl ?? -1 }, bodies = chosen.map(\.record)
        let query: PostgresQuery = """
            INSERT INTO mlgw_feature_records (grp, id, event_time, ttl, deleted, record)
            SELECT \(group), u.id, u.t, NULLIF(u.ttl, -1), false, u.r FROM unnest(\(ids)::text[], \(times)::float8[], \(ttls)::float8[], \(bodies)::text[]) AS u(id, t, ttl, r)
            ON CONFLICT (grp, id) DO UPDATE SET event_time = excluded.event_time, ttl = excluded.ttl, deleted = false, record = excluded.record
            WHERE excluded.event_time > mlgw_feature_records.event_time
            """
        let written = try withConnection { c in c.query(query, logger: self.logger).map { $0.metadata.rows ?? 0 } }
        return records.count - written
    }

    func read(group: String, id: String) throws -> Stored? {
        let query: PostgresQuery = "SELECT event_time, ttl, deleted, record FROM mlgw_feature_records WHERE grp = \(group) AND id = \(id)"
        return try withConnection { c in
            c.query(query, logger: self.logger).flatMapThrowing { result -> Stored? in
                guard let row = result.rows.first else { return nil }
                let (t, ttl, deleted, record) = try row.decode((Double, Double?, Bool, String).self)
                return Stored(eventTime: t, ttl: ttl, deleted: deleted, record: record)
            }
        }
    }

    func read(group: String, ids: [String]) throws -> [String: Stored] {
        let query: PostgresQuery = "SELECT id, event_time, ttl, deleted, record FROM mlgw_feature_records WHERE grp = \(group) AND id = ANY(\(ids)::text[])"
        return try withConnection { c in
            c.query(query, logger: self.logger).flatMapThrowing { result -> [String: Stored] in
                var out: [String: Stored] = [:]
                for row in result.rows {
                    let (id, t, ttl, deleted, record) = try row.decode((String, Double, Double?, Bool, String).self)
                    out[id] = Stored(eventTime: t, ttl: ttl, deleted: deleted, record: record)
                }
                return out
            }
        }
    }

    /// A soft delete's tombstone, when later than the stored record.
    func tombstone(group: String, id: String, eventTime: Double) throws {
        let query: PostgresQuery = """
            INSERT INTO mlgw_feature_records (grp, id, event_time, ttl, deleted, record) VALUES (\(group), \(id), \(eventTime), NULL, true, '[]')
            ON CONFLICT (grp, id) DO UPDATE SET event_time = excluded.event_time, deleted = true, record = '[]', ttl = NULL
            WHERE excluded.event_time > mlgw_feature_records.event_time
            """
        try withConnection { c in c.query(query, logger: self.logger).map { _ in () } }
    }

    func remove(group: String, id: String) throws {
        let query: PostgresQuery = "DELETE FROM mlgw_feature_records WHERE grp = \(group) AND id = \(id)"
        try withConnection { c in c.query(query, logger: self.logger).map { _ in () } }
    }

    /// How many records the group has, and the bytes of their values.
    func count(group: String) throws -> (Int, Int) {
        let query: PostgresQuery = "SELECT count(*)::int8, coalesce(sum(length(record)), 0)::int8 FROM mlgw_feature_records WHERE grp = \(group)"
        return try withConnection { c in
            c.query(query, logger: self.logger).flatMapThrowing { result in try result.rows.first?.decode((Int, Int).self) ?? (0, 0) }
        }
    }

    func removeGroup(_ group: String) throws {
        let query: PostgresQuery = "DELETE FROM mlgw_feature_records WHERE grp = \(group)"
        try withConnection { c in c.query(query, logger: self.logger).map { _ in () } }
    }

    // MARK: connections

    /// Runs `body` on a pooled connection and waits for its answer.
    func withConnection<T>(_ body: @escaping (PostgresConnection) -> EventLoopFuture<T>) throws -> T {
        let connection = try acquire()
        do {
            let value = try wait(body(connection))
            lock.withLock { idle.append(connection) }
            return value
        } catch {
            let _: EventLoopFuture<Void> = connection.close()
            throw failure(error)
        }
    }

    func acquire() throws -> PostgresConnection {
        if let c = lock.withLock({ idle.popLast() }), !c.isClosed { return c }
        let id = lock.withLock { () -> Int in
            nextID += 1
            return nextID
        }
        var configuration = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                             database: url.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(5)
        do {
            return try wait(PostgresConnection.connect(on: loops.next(), configuration: configuration, id: id, logger: logger))
        } catch {
            throw failure(error)
        }
    }

    /// Waits without `EventLoopFuture.wait()`, which refuses to run on any event loop thread.
    func wait<T>(_ future: EventLoopFuture<T>) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let box = NIOLockedValueBox<Result<T, Error>?>(nil)
        future.whenComplete { result in
            box.withLockedValue { $0 = result }
            done.signal()
        }
        done.wait()
        return try box.withLockedValue { $0! }.get()
    }

    /// The error as a message that names the database without its password.
    func failure(_ error: Error) -> FeatureStoreError {
        var detail = "\(error)"
        if let e = error as? PSQLError {
            detail = e.serverInfo?[.message] ?? "\(e.code)"
        }
        return FeatureStoreError(kind: .internalFailure, message: "the PostgreSQL online store \(url.shown) failed: \(detail)")
    }
}
