/// A feature's value type, as SageMaker Feature Store names it.
public enum FeatureType: String, Sendable, Codable, CaseIterable {
    case integral = "Integral"
    case fractional = "Fractional"
    case string = "String"
}

/// A collection feature holds several values of its type (SageMaker's `CollectionType`).
public enum FeatureCollection: String, Sendable, Codable, CaseIterable {
    case list = "List"
    case set = "Set"
    /// A fixed number of values: `dimension`.
    case vector = "Vector"
}

/// One feature of a group: its name, type, and whether it holds a collection.
public struct FeatureDefinition: Sendable, Equatable, Codable {
    public var name: String
    public var type: FeatureType
    public var collection: FeatureCollection?
    /// A vector's length.
    public var dimension: Int?

    public init(name: String, type: FeatureType, collection: FeatureCollection? = nil, dimension: Int? = nil) {
        self.name = name
        self.type = type
        self.collection = collection
        self.dimension = dimension
    }

    /// "Integral", "String List", "Fractional Vector(3)": how plans show a feature's type.
    public var typeText: String {
        guard let collection else { return type.rawValue }
        return "\(type.rawValue) \(collection.rawValue)" + (dimension.map { "(\($0))" } ?? "")
    }
}

/// A file a group is warmed up from when it is applied (`load:`): CSV with a header, or JSON lines.
public struct FeatureLoadFile: Sendable, Equatable, Codable {
    public var path: String
    public var sha256: String

    public init(path: String, sha256: String) {
        self.path = path
        self.sha256 = sha256
    }
}

/// A feature group (PUT /_control/feature-groups/NAME): its schema and stores. A put that keeps
/// the schema compatible (features only added, TTL changed, other load files) keeps the stored
/// records; the provider deletes the group first when the schema changed incompatibly.
public struct FeatureGroupConfiguration: ControlConfiguration {
    public typealias Status = FeatureGroupStatus
    public static let collection = ControlCollection.featureGroups

    public var name: String
    public var recordIdentifier: String
    public var eventTime: String
    public var features: [FeatureDefinition]
    public var online: Bool
    /// The online store's default time to live, in seconds; nil keeps records until replaced.
    public var ttlSeconds: Double?
    public var offline: Bool
    public var load: [FeatureLoadFile]
    public var description: String?
    /// Where the online store lives: nil for the environment's own SQLite database, or a
    /// PostgreSQL URL (which may carry a password: snapshots carry only its fingerprint).
    public var postgresURL: String?
    /// What a snapshot reports instead of the URL.
    public var postgresURLFingerprint: String?

    public init(name: String, recordIdentifier: String, eventTime: String, features: [FeatureDefinition], online: Bool,
                ttlSeconds: Double?, offline: Bool, load: [FeatureLoadFile], description: String?, postgresURL: String? = nil) {
        self.postgresURL = postgresURL
        self.name = name
        self.recordIdentifier = recordIdentifier
        self.eventTime = eventTime
        self.features = features
        self.online = online
        self.ttlSeconds = ttlSeconds
        self.offline = offline
        self.load = load
        self.description = description
    }

    public func feature(_ name: String) -> FeatureDefinition? { features.first { $0.name == name } }

    /// Whether the online store is a PostgreSQL database.
    public var usesPostgres: Bool { postgresURL != nil || postgresURLFingerprint != nil }

    /// The fingerprint the PostgreSQL URL is known by in plans, state and snapshots.
    public var onlineStoreFingerprint: String? {
        postgresURL.map { SHA256.hex(of: "mlgw-sensitive:" + $0) } ?? postgresURLFingerprint
    }

    /// As a snapshot may show it: the URL replaced by its fingerprint.
    public var redacted: FeatureGroupConfiguration {
        guard postgresURL != nil else { return self }
        var r = self
        r.postgresURLFingerprint = onlineStoreFingerprint
        r.postgresURL = nil
        return r
    }

    /// Whether records stored under `self` stay valid under `next`: the same identifier, event
    /// time and stores, and every feature kept with its type (new features may be added).
    public func keepsRecords(under next: FeatureGroupConfiguration) -> Bool {
        guard recordIdentifier == next.recordIdentifier, eventTime == next.eventTime, online == next.online, offline == next.offline,
              onlineStoreFingerprint == next.onlineStoreFingerprint else { return false }
        return features.allSatisfy { next.feature($0.name) == $0 }
    }

    /// The columns SageMaker adds to every offline row; no feature may use them.
    public static let reservedNames = ["is_deleted", "write_time", "api_invocation_time"]

    /// SageMaker's arn of a group, with the local account.
    public static func arn(_ name: String) -> String { "arn:aws:sagemaker:us-east-1:000000000000:feature-group/\(name)" }
}

/// What a load of records did: rows stored, rows older than what the online store holds (kept
/// in the offline store only), rows rejected with the first reasons.
public struct FeatureLoadResult: Sendable, Equatable, Codable {
    public var loaded: Int
    public var older: Int
    public var rejected: Int
    /// `FILE:LINE: column 'x': ...`, the first 20.
    public var errors: [String]
    public var seconds: Double

    public init(loaded: Int = 0, older: Int = 0, rejected: Int = 0, errors: [String] = [], seconds: Double = 0) {
        self.loaded = loaded
        self.older = older
        self.rejected = rejected
        self.errors = errors
        self.seconds = seconds
    }

    public static let errorLimit = 20

    public mutating func add(_ other: FeatureLoadResult) {
        loaded += other.loaded
        older += other.older
        rejected += other.rejected
        errors += other.errors.prefix(max(0, Self.errorLimit - errors.count))
        seconds += other.seconds
    }

    /// "loaded 1,000 rows (2 older than stored, 1 rejected) in 0.05s".
    public var summary: String {
        var text = "loaded \(Self.grouped(loaded)) rows"
        var notes: [String] = []
        if older > 0 { notes.append("\(Self.grouped(older)) older than stored, offline only") }
        if rejected > 0 { notes.append("\(Self.grouped(rejected)) rejected") }
        if !notes.isEmpty { text += " (" + notes.joined(separator: ", ") + ")" }
        return text + " in " + String(format: "%.2fs", seconds)
    }

    /// 1204331 as "1,204,331".
    public static func grouped(_ n: Int) -> String {
        let digits = String(abs(n))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }
}

/// A group as the host runs it, with what its stores hold.
public struct FeatureGroupStatus: Sendable, Equatable, Codable {
    public var configuration: FeatureGroupConfiguration
    /// Records in the online store, soft-deleted and expired ones included.
    public var onlineRecords: Int
    /// Bytes of the online records' values as stored (the API's `Record` JSON).
    public var onlineBytes: Int = 0
    /// Rows in the offline store, written or about to be.
    public var offlineRows: Int
    public var offlineBytes: Int
    /// Unix seconds of the last write to either store.
    public var lastWrite: Double?
    /// What the `load:` files gave at the last apply.
    public var load: FeatureLoadResult?

    public init(configuration: FeatureGroupConfiguration, onlineRecords: Int, onlineBytes: Int = 0, offlineRows: Int, offlineBytes: Int,
                lastWrite: Double?, load: FeatureLoadResult?) {
        self.onlineBytes = onlineBytes
        self.configuration = configuration
        self.onlineRecords = onlineRecords
        self.offlineRows = offlineRows
        self.offlineBytes = offlineBytes
        self.lastWrite = lastWrite
        self.load = load
    }

    /// What deleting the group loses, in words: "1,204,331 online records and 3,400 offline rows".
    public var storedData: String? {
        guard onlineRecords > 0 || offlineRows > 0 else { return nil }
        var parts: [String] = []
        if configuration.online { parts.append("\(FeatureLoadResult.grouped(onlineRecords)) online record\(onlineRecords == 1 ? "" : "s")") }
        if configuration.offline { parts.append("\(FeatureLoadResult.grouped(offlineRows)) offline row\(offlineRows == 1 ? "" : "s") of history") }
        return parts.joined(separator: " and ")
    }
}

/// `POST /_control/feature-groups/NAME/rows`: a piece of a CSV or JSON-lines file that
/// `ingest` sends, cut at a row's end. The host reads it with the same reader as `load:` files,
/// stores the rows that follow the schema in one transaction (all of them or none), and answers
/// with what it did, each rejected row named `FILE:LINE`.
public struct FeatureRowsChunk: Sendable, Codable {
    public var file: String
    public var csv: Bool
    /// A CSV file's header row, which every chunk is read under.
    public var header: String?
    /// The file's line number of the chunk's first line.
    public var firstLine: Int
    public var text: String

    public init(file: String, csv: Bool, header: String?, firstLine: Int, text: String) {
        self.file = file
        self.csv = csv
        self.header = header
        self.firstLine = firstLine
        self.text = text
    }

    public static let action = "rows"
}

/// One feature's value as the featurestore-runtime API carries it: always text.
public struct FeatureValue: Sendable, Equatable, Codable {
    public var FeatureName: String
    public var ValueAsString: String?
    public var ValueAsStringList: [String]?

    public init(_ name: String, _ value: String) {
        FeatureName = name
        ValueAsString = value
    }

    public init(_ name: String, list: [String]) {
        FeatureName = name
        ValueAsStringList = list
    }
}

/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`, as libpq writes it.
public struct PostgresURL: Sendable, Equatable {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String

    public init?(_ text: String) {
        guard Self.problem(text) == nil, let c = URLComponentsLite(text) else { return nil }
        (user, password, host, port, database) = (c.user, c.password, c.host, c.port ?? 5432, c.path)
    }

    /// Why `text` is not such a URL (never quoting it: it may hold a password), or nil.
    public static func problem(_ text: String) -> String? {
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") else { return "it does not start with postgres://" }
        guard let c = URLComponentsLite(text) else { return "it has no USER@HOST part" }
        if c.user.isEmpty { return "it names no user" }
        if c.host.isEmpty { return "it names no host" }
        if let p = c.port, !(1...65535).contains(p) { return "its port is not from 1 to 65535" }
        if c.portText != nil && c.port == nil { return "its port is not a number" }
        if c.path.isEmpty { return "it names no database" }
        return nil
    }

    /// The URL without its password, for messages.
    public var shown: String { "postgres://\(user)@\(host):\(port)/\(database)" }
}

/// Enough of a URL's parts for a database URL (percent-decoded user and password).
struct URLComponentsLite {
    var user: String
    var password: String?
    var host: String
    var portText: String?
    var port: Int?
    var path: String

    init?(_ text: String) {
        guard let scheme = text.range(of: "://") else { return nil }
        let rest = text[scheme.upperBound...]
        guard let at = rest.lastIndex(of: "@") else { return nil }
        let credentials = rest[..<at]
        let location = rest[rest.index(after: at)...]
        if let colon = credentials.firstIndex(of: ":") {
            user = String(credentials[..<colon]).removingPercentEncoding ?? String(credentials[..<colon])
            let p = credentials[credentials.index(after: colon)...]
            password = String(p).removingPercentEncoding ?? String(p)
        } else {
            user = String(credentials).removingPercentEncoding ?? String(credentials)
        }
        let hostPort: Substring
        if let slash = location.firstIndex(of: "/") {
            hostPort = location[..<slash]
            path = String(location[location.index(after: slash)...].prefix { $0 != "?" })
        } else {
            hostPort = location
            path = ""
        }
        if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            portText = String(hostPort[hostPort.index(after: colon)...])
            port = Int(portText!)
        } else {
            host = String(hostPort)
        }
    }
}
