import EnvironmentAPI

extension FeatureGroup {
    /// SageMaker's limit on a group's features.
    static let maxFeatures = 2_500
    /// SageMaker's longest TTL unit is weeks; a century is beyond any use.
    static let maxTTL = 100.0 * 365 * 86_400

    static func read(_ entry: ResourceEntry, reader: inout NodeReader, in context: ReadContext) -> FeatureGroup? {
        let what = "feature group '\(entry.name)'"
        guard let keys = reader.keys(entry.node, allowed: ["record_identifier", "event_time", "features", "online", "offline", "load", "description"],
                                     context: what) else { return nil }
        var failed = false
        var features: [FeatureDefinition] = []
        if let f = reader.require(keys, "features", hint: "add 'features:' mapping each feature's name to Integral, Fractional or String") {
            if let read = readFeatures(f.value, of: what, reader: &reader) { features = read } else { failed = true }
        } else { failed = true }
        // Names are checked against the features only when those could be read.
        let featuresRead = !failed
        var group = FeatureGroup(name: entry.name, recordIdentifier: "", eventTime: "", features: features, location: reader.location(entry.node))
        func named(_ key: String, hint: String, check: (FeatureDefinition, SourceLocation?) -> Bool) -> String? {
            guard let e = reader.require(keys, key, hint: hint) else { return nil }
            guard let name = reader.literalString(e.value, what: "'\(key)' of \(what)") else { return nil }
            guard featuresRead else { return name }
            guard let feature = features.first(where: { $0.name == name }) else {
                reader.error(.unknownFeature(name, key: key, of: what, suggestion: suggestion(for: name, among: features.map(\.name)), at: reader.location(e.value)))
                return nil
            }
            return check(feature, reader.location(e.value)) ? name : nil
        }
        if let id = named("record_identifier", hint: "name the feature that identifies a record, such as 'record_identifier: customer_id'", check: { f, loc in
            guard f.collection == nil else {
                reader.error(.collectionNotAllowed(f.name, role: "record identifier", of: what, at: loc))
                return false
            }
            return true
        }) { group.recordIdentifier = id } else { failed = true }
        if let t = named("event_time", hint: "name the feature that stamps a record's time, such as 'event_time: event_time'", check: { f, loc in
            guard f.collection == nil, f.type != .integral else {
                reader.error(.badEventTimeType(f.name, type: f.typeText, of: what, at: loc))
                return false
            }
            return true
        }) { group.eventTime = t } else { failed = true }
        if !failed, group.recordIdentifier == group.eventTime, let e = keys["event_time"] {
            reader.error(.eventTimeIsIdentifier(group.eventTime, of: what, at: reader.location(e.value)))
            failed = true
        }
        if let o = keys["online"] {
            if !readOnline(o.value, into: &group, of: what, reader: &reader) { failed = true }
        }
        if let o = keys["offline"] {
            if case .mapping = o.value {
                if let ok = reader.keys(o.value, allowed: ["enabled"], context: "'offline' of \(what)") {
                    if let e = ok["enabled"] {
                        if let b = reader.bool(e.value, what: "'offline.enabled' of \(what)") { group.offline = b } else { failed = true }
                    }
                } else { failed = true }
            } else if let b = reader.bool(o.value, what: "'offline' of \(what)") { group.offline = b } else { failed = true }
        }
        if !group.online && !group.offline {
            reader.error(.noStore(what, at: keys["offline"]?.keyLocation ?? keys["online"]?.keyLocation))
            failed = true
        }
        if let l = keys["load"] {
            if let paths = reader.stringList(l.value, what: "'load' of \(what)") {
                for path in paths {
                    let resolved = PathMath.resolve(path, against: context.stackDirectory)
                    guard path.hasSuffix(".csv") || path.hasSuffix(".jsonl") || path.hasSuffix(".json") else {
                        reader.error(.loadFormat(path, of: what, at: reader.location(l.value)))
                        failed = true
                        continue
                    }
                    guard let hash = context.files.sha256(ofFileAt: resolved) else {
                        reader.error(.missingFile(path, resolved: resolved, what: "load file of \(what)", at: reader.location(l.value)))
                        failed = true
                        continue
                    }
                    group.load.append(path)
                    group.loadFiles.append(FeatureLoadFile(path: resolved, sha256: hash))
                }
            } else { failed = true }
        }
        if let d = keys["description"] {
            if let text = reader.literalString(d.value, what: "'description' of \(what)") {
                if text.count > 128 {
                    reader.error(.descriptionTooLong(what, length: text.count, at: reader.location(d.value)))
                    failed = true
                } else { group.description = text }
            } else { failed = true }
        }
        return failed ? nil : group
    }

    /// `online: true|false`, or `online: {enabled, ttl}`.
    static func readOnline(_ node: Node, into group: inout FeatureGroup, of what: String, reader: inout NodeReader) -> Bool {
        guard case .mapping = node else {
            guard let b = reader.bool(node, what: "'online' of \(what)") else { return false }
            group.online = b
            return true
        }
        guard let ok = reader.keys(node, allowed: ["enabled", "ttl", "store", "url"], context: "'online' of \(what)") else { return false }
        var fine = true
        if let e = ok["enabled"] {
            if let b = reader.bool(e.value, what: "'online.enabled' of \(what)") { group.online = b } else { fine = false }
        }
        var postgres = false
        if let s = ok["store"] {
            if let text = reader.literalString(s.value, what: "'online.store' of \(what)") {
                switch text {
                case "sqlite": break
                case "postgres": postgres = true
                default:
                    reader.error(.unknownOnlineStore(text, of: what, suggestion: suggestion(for: text, among: ["sqlite", "postgres"]), at: reader.location(s.value)))
                    fine = false
                }
            } else { fine = false }
        }
        switch (postgres, ok["url"]) {
        case (true, nil):
            reader.error(.missingKey("url", in: "'online' of \(what)", at: ok.location,
                                     hint: "give the database as a sensitive variable: url: ${var.features_db} (postgres://USER:PASSWORD@HOST:PORT/DB)"))
            fine = false
        case (false, let u?):
            reader.error(.urlWithoutPostgres(what, at: u.keyLocation))
            fine = false
        case (true, let u?):
            if let text = reader.literalString(u.value, what: "'online.url' of \(what)") {
                switch reader.evaluate(text, at: reader.location(u.value)) {
                case .value(let v, _)?:
                    let url = v.description
                    if let problem = PostgresURL.problem(url) {
                        // The URL may hold a password: the message never shows it.
                        reader.error(.badPostgresURL(what, problem: problem, at: reader.location(u.value)))
                        fine = false
                    } else { group.postgresURL = url }
                case .knownAfterApply?:
                    reader.error(.notKnownAtPlan(text, at: reader.location(u.value)))
                    fine = false
                case nil: fine = false
                }
            } else { fine = false }
        case (false, nil): break
        }
        if let t = ok["ttl"] {
            if let seconds = reader.duration(t.value, what: "'online.ttl' of \(what)", range: .seconds(1, maxTTL)) {
                if seconds != seconds.rounded() {
                    reader.error(.ttlNotWholeSeconds(what, at: reader.location(t.value)))
                    fine = false
                } else if !group.online {
                    reader.error(.ttlWithoutOnline(what, at: t.keyLocation))
                    fine = false
                } else { group.ttlSeconds = seconds }
            } else { fine = false }
        }
        return fine
    }

    /// `name: Type`, or `name: {type, collection, dimension}`, in the order written.
    static func readFeatures(_ node: Node, of what: String, reader: inout NodeReader) -> [FeatureDefinition]? {
        guard let entries = reader.mapping(node, what: "'features' of \(what)") else { return nil }
        guard !entries.isEmpty else {
            reader.error(.wrongType("'features' of \(what)", expected: "a mapping of at least two features (the identifier and the event time)",
                                    found: "an empty mapping", at: reader.location(node)))
            return nil
        }
        guard entries.count <= maxFeatures else {
            reader.error(.tooManyFeatures(what, count: entries.count, limit: maxFeatures, at: reader.location(node)))
            return nil
        }
        var out: [FeatureDefinition] = []
        var seen: [String: SourceLocation?] = [:]
        var failed = false
        for e in entries {
            let lower = e.key.lowercased()
            if !isValidFeatureName(e.key) {
                reader.error(.invalidFeatureName(e.key, of: what, at: e.keyLocation))
                failed = true
                continue
            }
            if FeatureGroupConfiguration.reservedNames.contains(lower) {
                reader.error(.reservedFeatureName(e.key, of: what, at: e.keyLocation))
                failed = true
                continue
            }
            if let first = seen[lower] {
                reader.error(.duplicateFeature(e.key, of: what, first: first, at: e.keyLocation))
                failed = true
                continue
            }
            seen[lower] = e.keyLocation
            let subject = "feature '\(e.key)' of \(what)"
            var typeNode = e.value
            var collection: FeatureCollection?
            var dimension: Int?
            if case .mapping = e.value {
                guard let fk = reader.keys(e.value, allowed: ["type", "collection", "dimension"], context: subject),
                      let t = reader.require(fk, "type", hint: "add 'type: Integral', 'Fractional' or 'String'") else { failed = true; continue }
                typeNode = t.value
                if let c = fk["collection"] {
                    guard let text = reader.literalString(c.value, what: "'collection' of \(subject)") else { failed = true; continue }
                    guard let kind = FeatureCollection(rawValue: text) else {
                        reader.error(.unknownCollection(text, of: subject, suggestion: suggestion(for: text, among: FeatureCollection.allCases.map(\.rawValue)),
                                                        at: reader.location(c.value)))
                        failed = true
                        continue
                    }
                    collection = kind
                }
                if let d = fk["dimension"] {
                    guard collection == .vector else {
                        reader.error(.dimensionWithoutVector(subject, at: d.keyLocation))
                        failed = true
                        continue
                    }
                    guard let n = reader.integer(d.value, what: "'dimension' of \(subject)", range: 1...8_192) else { failed = true; continue }
                    dimension = n
                } else if collection == .vector {
                    reader.error(.missingKey("dimension", in: subject, at: fk.location, hint: "a vector has a fixed length: add 'dimension: 3'"))
                    failed = true
                    continue
                }
            }
            guard let text = reader.literalString(typeNode, what: "the type of \(subject)") else { failed = true; continue }
            guard let type = FeatureType(rawValue: text) else {
                reader.error(.unknownFeatureType(text, of: subject, suggestion: suggestion(for: text, among: FeatureType.allCases.map(\.rawValue)),
                                                 at: reader.location(typeNode)))
                failed = true
                continue
            }
            out.append(FeatureDefinition(name: e.key, type: type, collection: collection, dimension: dimension))
        }
        return failed ? nil : out
    }

    /// SageMaker's feature names: 1 to 64 letters and digits, with '-' or '_' between them.
    static func isValidFeatureName(_ name: String) -> Bool {
        let b = Array(name.utf8)
        guard (1...64).contains(b.count) else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
        guard alnum(b[0]), alnum(b[b.count - 1]) else { return false }
        return b.allSatisfy { alnum($0) || $0 == 45 || $0 == 95 }
    }
}
