/// The control API between `mlgw-deploy` (the local provider) and an environment host, as one
/// typed table both sides use: each collection names its path, the configuration a PUT carries
/// and the status it answers. Providers calls `put`/`delete` through it; the host registers one
/// handler per collection. Neither side spells a path by hand.
public enum ControlCollection: String, Sendable, Codable, CaseIterable, Comparable {
    case models
    case featureGroups = "feature-groups"
    case eventRules = "event-rules"
    case monitors
    case scalingPolicies = "scaling-policies"
    case endpoints
    case functions
    case stages = "gateway/stages"
    case apiKeys = "gateway/api-keys"
    case usagePlans = "gateway/usage-plans"

    /// `/_control/models`.
    public var path: String { ControlPath.prefix + rawValue }

    /// `/_control/models/NAME`. Resource names are letters, digits, '-' and '_': no escaping.
    public func path(_ name: String) -> String { path + "/" + name }

    /// The collection and the name a request path addresses, or nil for anything else.
    public static func parse(_ path: String) -> (ControlCollection, String)? {
        guard path.hasPrefix(ControlPath.prefix) else { return nil }
        let rest = path.dropFirst(ControlPath.prefix.count)
        guard let slash = rest.lastIndex(of: "/"), let collection = ControlCollection(rawValue: String(rest[..<slash])) else { return nil }
        let name = String(rest[rest.index(after: slash)...])
        guard !name.isEmpty, !name.contains("/") else { return nil }
        return (collection, name)
    }

    public static func < (a: ControlCollection, b: ControlCollection) -> Bool { a.rawValue < b.rawValue }
}

/// The control calls that are not a collection.
public enum ControlPath {
    public static let prefix = "/_control/"
    public static let health = "/_control/health"
    public static let snapshot = "/_control/snapshot"
    public static let shutdown = "/_control/shutdown"
    /// GET: the environment's clock; POST `clock/advance` moves it forward.
    public static let clock = "/_control/clock"
    public static let clockAdvance = "/_control/clock/advance"
    /// POST: one event onto the bus (`events put`); POST `events/recent` follows it.
    public static let eventsPut = "/_control/events/put"
    public static let eventsRecent = "/_control/events/recent"
}

/// A configuration the host converges to when it receives it (PUT is idempotent and
/// level-based); `Status` is what it answers once it has converged.
public protocol ControlConfiguration: Sendable, Codable, Equatable {
    associatedtype Status: Sendable & Codable
    static var collection: ControlCollection { get }
    /// The resource's name; the path's last segment is authoritative.
    var name: String { get set }
}

/// The answer of a collection whose PUT and DELETE need to say no more than "done".
public struct ControlAcknowledgement: Sendable, Codable, Equatable {
    public var applied: String

    public init(applied: String) { self.applied = applied }
}

/// An error body from the control API.
public struct ControlError: Sendable, Codable, Error, CustomStringConvertible {
    public var message: String
    /// Retrying cannot fix it (a bad artifact); otherwise a second apply may pass.
    public var terminal: Bool

    public init(message: String, terminal: Bool) {
        self.message = message
        self.terminal = terminal
    }

    public var description: String { message }
}
