import Events

/// The kinds of resource a stack can declare. The raw value is the stack section's key.
public enum ResourceKind: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case model = "models"
    case featureGroup = "feature_groups"
    case endpoint = "endpoints"
    case function = "functions"
    /// Declared under `gateway:`, as are API keys and usage plans.
    case stage = "stages"
    case apiKey = "api_keys"
    case usagePlan = "usage_plans"
    case eventRule = "event_rules"
    case monitor = "monitors"
    case scalingPolicy = "scaling_policies"

    /// Sections a stack may one day hold that this version does not build yet; `validate` rejects them.
    public static let notYetSupported: [String] = []

    public static func < (a: ResourceKind, b: ResourceKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// Where a resource lives in the stack, written as in the YAML: `endpoints.fraud`.
public struct ResourceAddress: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var kind: ResourceKind
    public var name: String

    public init(_ kind: ResourceKind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    /// Parses `models.x`; nil when the kind is unknown.
    public init?(parsing text: String) {
        guard let dot = text.firstIndex(of: "."),
              let kind = ResourceKind(rawValue: String(text[..<dot])) else { return nil }
        let name = String(text[text.index(after: dot)...])
        guard !name.isEmpty else { return nil }
        self.init(kind, name)
    }

    public var description: String { "\(kind.rawValue).\(name)" }

    public static func < (a: ResourceAddress, b: ResourceAddress) -> Bool {
        a.kind != b.kind ? a.kind < b.kind : a.name < b.name
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = ResourceAddress(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad resource address '\(text)'"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// One attribute's value as plan and state see it.
public enum AttributeValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case string(String)
    case number(Double)
    case bool(Bool)
    /// Derived from a sensitive variable: only a fingerprint is ever kept.
    case sensitive(fingerprint: String)

    public var description: String {
        switch self {
        case .string(let s): return Self.quoted(s)
        case .number(let n): return formatNumber(n)
        case .bool(let b): return b ? "true" : "false"
        case .sensitive: return "(sensitive value)"
        }
    }

    /// A string as a JSON string literal: quotes, backslashes and control characters escaped,
    /// so `"{\"status\":\"ok\"}"` reads back as what the stack holds.
    public static func quoted(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count + 2)
        JSONValue.writeString(s, into: &out)
        return out
    }

    public init(from decoder: any Decoder) throws {
        // Most attributes are strings: trying String first avoids a thrown mismatch for each.
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let n = try? c.decode(Double.self) { self = .number(n); return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        struct Hidden: Codable { var sensitive: String }
        self = .sensitive(fingerprint: try c.decode(Hidden.self).sensitive)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .number(let n): try c.encode(n)
        case .bool(let b): try c.encode(b)
        case .sensitive(let f): try c.encode(["sensitive": f])
        }
    }
}

/// A resource's attributes, flattened to dotted paths (`variants.current.weight`), in path order.
public typealias Attributes = [String: AttributeValue]
