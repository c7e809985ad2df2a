import EnvironmentAPI

/// A feature group (SageMaker Feature Store): records keyed by an identifier feature, stamped by
/// an event-time feature, kept in an online store (the latest record per identifier, with an
/// optional time to live) and an offline store (every write, as history). `load:` files warm the
/// group up when it is applied. Adding features, changing the TTL or the load files changes the
/// group in place; changing the identifier, the event time, a feature's type or which stores it
/// has replaces it, and a replacement deletes the records it holds (apply asks for
/// `--allow-data-loss`).
public struct FeatureGroup: ResourceDefinition {
    public static let kind = ResourceKind.featureGroup
    public static let section = ["feature_groups"]
    public static let singular = "feature group"
    public static let referenceableAttributes = ["name", "arn"]

    public var name: String
    public var recordIdentifier: String
    public var eventTime: String
    /// In the order written.
    public var features: [FeatureDefinition]
    public var online = true
    public var ttlSeconds: Double?
    /// A PostgreSQL online store's URL (always handled as a secret: plans and state show a fingerprint).
    public var postgresURL: String?
    public var offline = true
    /// The files as written, and as found on this machine.
    public var load: [String] = []
    public var loadFiles: [FeatureLoadFile] = []
    public var description: String?
    public var location: SourceLocation?

    public var dependencies: [ResourceAddress] { [] }

    /// What a group keeps is data, not configuration: replacing or removing it deletes it.
    public static var keepsData: Bool { true }

    public static func runningAttributes(of c: FeatureGroupConfiguration) -> Attributes {
        var a: Attributes = [:]
        a["record_identifier"] = .string(c.recordIdentifier)
        a["event_time"] = .string(c.eventTime)
        for f in c.features { a["features.\(f.name)"] = .string(f.typeText) }
        a["online.enabled"] = .bool(c.online)
        if let ttl = c.ttlSeconds { a["online.ttl"] = .number(ttl) }
        if let fingerprint = c.onlineStoreFingerprint {
            a["online.store"] = .string("postgres")
            a["online.url"] = .sensitive(fingerprint: fingerprint)
        }
        a["offline.enabled"] = .bool(c.offline)
        if !c.load.isEmpty { a["load_sha256"] = .string(SHA256.hex(of: c.load.map { "\($0.path)=\($0.sha256)" }.joined(separator: "\n"))) }
        return a
    }

    static let replacingPaths: Set<String> = ["record_identifier", "event_time", "online.enabled", "offline.enabled", "online.store", "online.url"]

    /// Used for the note beside one changed attribute, which exists on both sides: a feature
    /// whose type changed replaces the group.
    public static func replacementReason(changed paths: [String]) -> String? {
        let replacing = paths.filter { replacingPaths.contains($0) || $0.hasPrefix("features.") }
        return replacing.isEmpty ? nil : "\(replacing.joined(separator: ", ")) changed, which a feature group cannot change in place"
    }

    /// A feature added is in place; one removed or retyped replaces the group.
    public static func replacementReason(changed paths: [String], before: Attributes, after: Attributes) -> String? {
        var reasons: [String] = []
        for path in paths {
            if replacingPaths.contains(path) {
                reasons.append("\(path) changed")
            } else if path.hasPrefix("features.") {
                let feature = path.dropFirst("features.".count)
                switch (before[path], after[path]) {
                case (let b?, let a?): reasons.append("feature '\(feature)' changed type from \(b.text) to \(a.text)")
                case (_?, nil): reasons.append("feature '\(feature)' was removed")
                default: break
                }
            }
        }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ") + "; a feature group only adds features in place"
    }

    public static func note(forChangedAttribute path: String) -> String? {
        switch path {
        case "online.ttl": return "in place; applies to records without their own TTL"
        case "load_sha256": return "in place; the files are loaded again (records older than the stored ones go to the offline store only)"
        default: return nil
        }
    }
}

extension AttributeValue {
    /// A string as it is, anything else as plans show it.
    var text: String {
        if case .string(let s) = self { return s }
        return description
    }
}

extension FeatureGroup: ReadableDefinition {
    func configuration(in index: ResourceIndex, local: LocalSettings) -> FeatureGroupConfiguration {
        FeatureGroupConfiguration(name: name, recordIdentifier: recordIdentifier, eventTime: eventTime, features: features, online: online,
                                  ttlSeconds: ttlSeconds, offline: offline, load: loadFiles, description: description, postgresURL: postgresURL)
    }

    var declaredAttributes: Attributes {
        load.isEmpty ? [:] : ["load": .string(load.joined(separator: ", "))]
    }
}

extension ResourceSpec {
    public var featureGroup: FeatureGroup? { value(as: FeatureGroup.self) }
}
