import EnvironmentAPI

// Every message about feature groups, in one place.
extension Diagnostic {
    static func unknownFeature(_ name: String, key: String, of what: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'\(key)' of \(what) names '\(printable(name))', which is not one of its features",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "declare it under 'features:', or name one that is")
    }
    static func collectionNotAllowed(_ name: String, role: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "feature '\(printable(name))' of \(what) is a collection and cannot be the \(role)",
                   hint: "use a single Integral or String feature")
    }
    static func badEventTimeType(_ name: String, type: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "the event time feature '\(printable(name))' of \(what) is \(type)",
                   hint: "an event time is Fractional (Unix seconds) or String (yyyy-MM-dd'T'HH:mm:ssZ), as SageMaker requires")
    }
    static func eventTimeIsIdentifier(_ name: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) uses '\(printable(name))' as both its record identifier and its event time",
                   hint: "add a separate event time feature")
    }
    static func noStore(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) has neither an online nor an offline store", hint: "enable at least one: remove 'online: false' or 'offline: false'")
    }
    static func loadFormat(_ path: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "load file '\(printable(path))' of \(what) is neither .csv nor .jsonl",
                   hint: "give a CSV file with a header row, or JSON lines (one object per line)")
    }
    static func descriptionTooLong(_ what: String, length: Int, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'description' of \(what) has \(length) characters", hint: "SageMaker allows up to 128")
    }
    static func ttlNotWholeSeconds(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'online.ttl' of \(what) is not a whole number of seconds", hint: "SageMaker's TTL counts whole seconds: write 90s, 30m, 12h or 7d")
    }
    static func ttlWithoutOnline(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) has a TTL but no online store", hint: "a TTL expires online records: remove 'ttl' or enable the online store")
    }
    static func tooManyFeatures(_ what: String, count: Int, limit: Int, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) declares \(count) features", hint: "SageMaker allows up to \(limit) per group")
    }
    static func invalidFeatureName(_ name: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "feature name '\(printable(name))' of \(what) is invalid",
                   hint: "use 1 to 64 letters and digits, with '-' or '_' between them (SageMaker's rule)")
    }
    static func reservedFeatureName(_ name: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "feature name '\(printable(name))' of \(what) is reserved",
                   hint: "is_deleted, write_time and api_invocation_time are columns every offline row has; rename the feature")
    }
    static func duplicateFeature(_ name: String, of what: String, first: SourceLocation?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "feature '\(printable(name))' of \(what) is declared twice (names are compared without case)",
                   hint: "the first is at \(first?.description ?? "another line"); rename or remove one")
    }
    static func unknownCollection(_ text: String, of what: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "unknown collection '\(printable(text))' for \(what)",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "use List, Set or Vector")
    }
    static func dimensionWithoutVector(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'dimension' of \(what) only goes with 'collection: Vector'", hint: "remove 'dimension', or make the feature a Vector")
    }
    static func unknownOnlineStore(_ text: String, of what: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "unknown online store '\(printable(text))' for \(what)",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "use sqlite (the environment's own, the default) or postgres (with a url)")
    }
    static func urlWithoutPostgres(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'online.url' of \(what) only goes with 'store: postgres'", hint: "add 'store: postgres', or remove 'url'")
    }
    static func badPostgresURL(_ what: String, problem: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'online.url' of \(what) is not a PostgreSQL URL: \(problem)",
                   hint: "write postgres://USER:PASSWORD@HOST:PORT/DATABASE (the value is not shown here: it may hold a password)")
    }
    static func unknownFeatureType(_ text: String, of what: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "unknown type '\(printable(text))' for \(what)",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "use Integral, Fractional or String")
    }
}
