/// An event pattern as EventBridge reads it, compiled into clauses: each clause is a list of
/// field conditions that must all hold; a pattern matches when any clause does (`$or` expands
/// into several clauses). Built by `EventPattern.parse`, which rejects what EventBridge rejects
/// with EventBridge's reasons, naming where in the pattern the problem is.
public struct EventPattern: Sendable, Equatable {
    /// The pattern as written.
    public let json: JSONValue
    /// Each clause's conditions: by path, then the conditions that need a field to be absent last
    /// (so an `exists: false` inside an array of objects is judged against the element the other
    /// conditions chose).
    public let clauses: [[FieldCondition]]

    /// EventBridge's bound on the clauses an `$or` may expand into.
    public static let maxCombinations = 1_000
}

/// One field's condition: the field (a dotted path, as `detail.state`) matches when any of its
/// matchers does.
public struct FieldCondition: Sendable, Hashable {
    public var path: String
    public var matchers: [ValueMatcher]

    /// Whether the condition can hold with the field absent (`exists: false` among its matchers).
    public var acceptsAbsence: Bool { matchers.contains(.exists(false)) }

    /// Whether every matcher is an exact value (found by hashing).
    public var isExactOnly: Bool { matchers.allSatisfy { if case .exact = $0 { return true } else { return false } } }
}

/// A leaf value of an event, typed as JSON types it: exact matching is type-sensitive ("300" is
/// not 300), and numbers compare by value (300 is 300.0).
public enum ExactValue: Sendable, Hashable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
}

/// One element of a field's array in a pattern.
public enum ValueMatcher: Sendable, Hashable {
    case exact(ExactValue)
    case prefix(String, ignoreCase: Bool)
    case suffix(String, ignoreCase: Bool)
    case equalsIgnoreCase(String)
    case wildcard(Wildcard)
    case anythingBut(AnythingBut)
    case numeric(NumericRange)
    case exists(Bool)
    case cidr(CIDR)
}

/// What `anything-but` excludes; it matches a value that is present and not excluded.
public enum AnythingBut: Sendable, Hashable {
    case values(Set<ExactValue>)
    case prefixes([String])
    case suffixes([String])
    case wildcards([Wildcard])
    /// Lowercased.
    case ignoringCase(Set<String>)
}

/// `numeric`: `=` a value, or a lower and/or an upper bound.
public struct NumericRange: Sendable, Hashable {
    public var lower: Double?
    public var lowerInclusive = false
    public var upper: Double?
    public var upperInclusive = false

    public func contains(_ x: Double) -> Bool {
        if let l = lower { if lowerInclusive ? x < l : x <= l { return false } }
        if let u = upper { if upperInclusive ? x > u : x >= u { return false } }
        return true
    }
}

/// Where in a pattern a problem is, and EventBridge's reason.
public struct EventPatternError: Error, Sendable, Equatable, CustomStringConvertible {
    /// EventBridge's reason, as in `Event pattern is not valid. Reason: REASON`.
    public var reason: String
    /// The keys (and array indexes, as decimal text) leading to the offending part.
    public var path: [String]

    public var message: String { "Event pattern is not valid. Reason: \(reason)" }
    public var description: String { message }
}

extension EventPattern {
    /// Parses a pattern from its JSON text (as PutRule and TestEventPattern take it).
    public static func parse(text: String) throws(EventPatternError) -> EventPattern {
        let json: JSONValue
        do { json = try JSONParser.parse(text) } catch { throw EventPatternError(reason: error.message, path: []) }
        return try parse(json)
    }

    public static func parse(_ json: JSONValue) throws(EventPatternError) -> EventPattern {
        guard case .object(let members) = json else { throw EventPatternError(reason: "Filter is not an object", path: []) }
        guard !members.isEmpty else { throw EventPatternError(reason: "Empty objects are not allowed", path: []) }
        var compiler = PatternCompiler()
        let clauses = try compiler.clauses(of: members, prefix: "", path: [])
        // Exact values first: they are hash lookups in the machine and the most selective, so a
        // clause's operators that must be tried one by one are only reached by events that got
        // that far. Conditions that accept an absent field last.
        let ordered = clauses.map { clause in
            clause.sorted { a, b in
                if a.acceptsAbsence != b.acceptsAbsence { return !a.acceptsAbsence }
                if a.isExactOnly != b.isExactOnly { return a.isExactOnly }
                return a.path < b.path
            }
        }
        return EventPattern(json: json, clauses: ordered)
    }
}

/// Turns a pattern's JSON into clauses, checking every operator's operand.
struct PatternCompiler {
    typealias Clause = [FieldCondition]

    func fail(_ reason: String, _ path: [String]) -> EventPatternError { EventPatternError(reason: reason, path: path) }

    /// The clauses an object's members describe: the product of its fields' and `$or`s' clauses.
    mutating func clauses(of members: [JSONValue.Member], prefix: String, path: [String]) throws(EventPatternError) -> [Clause] {
        var result: [Clause] = [[]]
        for m in members {
            let here = path + [m.key]
            let options: [Clause]
            if m.key == "$or", case .array(let items) = m.value, items.allSatisfy({ $0.objectMembers != nil }) {
                guard items.count >= 2 else { throw fail("$or must have at least 2 alternatives", here) }
                var all: [Clause] = []
                for (i, item) in items.enumerated() {
                    all += try clauses(of: item.objectMembers ?? [], prefix: prefix, path: here + [String(i)])
                }
                options = all
            } else {
                let fieldPath = prefix.isEmpty ? m.key : prefix + "." + m.key
                switch m.value {
                case .object(let inner):
                    options = try clauses(of: inner, prefix: fieldPath, path: here)
                case .array(let items):
                    guard !items.isEmpty else { throw fail("Empty arrays are not allowed", here) }
                    var matchers: [ValueMatcher] = []
                    for (i, item) in items.enumerated() { matchers.append(try matcher(item, path: here + [String(i)])) }
                    options = [[FieldCondition(path: fieldPath, matchers: matchers)]]
                default:
                    throw fail("\"\(m.key)\" must be an object or an array", here)
                }
            }
            var next: [Clause] = []
            for a in result {
                for b in options {
                    next.append(a + b)
                    guard next.count <= EventPattern.maxCombinations else {
                        throw fail("Rule is too complex - the $or operators expand into more than \(EventPattern.maxCombinations) combinations", here)
                    }
                }
            }
            result = next
        }
        return result
    }

    func matcher(_ value: JSONValue, path: [String]) throws(EventPatternError) -> ValueMatcher {
        switch value {
        case .string(let s): return .exact(.string(s))
        case .number(let n, _): return .exact(.number(n))
        case .bool(let b): return .exact(.bool(b))
        case .null: return .exact(.null)
        case .array: throw fail("Match value must be String, number, true, false, or null", path)
        case .object(let members):
            guard members.count == 1, let op = members.first else {
                throw fail(members.isEmpty ? "Empty objects are not allowed" : "Only one key allowed in match expression", path)
            }
            return try operatorMatcher(op.key, op.value, path: path + [op.key])
        }
    }

    func operatorMatcher(_ op: String, _ operand: JSONValue, path: [String]) throws(EventPatternError) -> ValueMatcher {
        switch op {
        case "prefix", "suffix":
            if case .string(let s) = operand { return op == "prefix" ? .prefix(s, ignoreCase: false) : .suffix(s, ignoreCase: false) }
            if let inner = operand.objectMembers, inner.count == 1, inner[0].key == "equals-ignore-case" {
                guard case .string(let s) = inner[0].value else { throw fail("equals-ignore-case match pattern must be a string", path + ["equals-ignore-case"]) }
                return op == "prefix" ? .prefix(s.lowercased(), ignoreCase: true) : .suffix(s.lowercased(), ignoreCase: true)
            }
            throw fail("\(op) match pattern must be a string", path)
        case "equals-ignore-case":
            guard case .string(let s) = operand else { throw fail("equals-ignore-case match pattern must be a string", path) }
            return .equalsIgnoreCase(s.lowercased())
        case "wildcard":
            guard case .string(let s) = operand else { throw fail("wildcard match pattern must be a string", path) }
            return .wildcard(try Wildcard(s, path: path))
        case "anything-but":
            return .anythingBut(try anythingBut(operand, path: path))
        case "numeric":
            return .numeric(try numeric(operand, path: path))
        case "exists":
            guard case .bool(let b) = operand else { throw fail("exists match pattern must be either true or false.", path) }
            return .exists(b)
        case "cidr":
            guard case .string(let s) = operand else { throw fail("prefix match pattern must be a string", path) }
            return .cidr(try CIDR(parsing: s, path: path))
        default:
            throw fail("Unrecognized match type \(op)", path)
        }
    }

    func anythingBut(_ operand: JSONValue, path: [String]) throws(EventPatternError) -> AnythingBut {
        switch operand {
        case .string(let s): return .values([.string(s)])
        case .number(let n, _): return .values([.number(n)])
        case .array(let items):
            var values: Set<ExactValue> = []
            for (i, item) in items.enumerated() {
                switch item {
                case .string(let s): values.insert(.string(s))
                case .number(let n, _): values.insert(.number(n))
                default: throw fail("Inside anything but list, start|null|boolean is not supported.", path + [String(i)])
                }
            }
            guard !values.isEmpty else { throw fail("Empty arrays are not allowed", path) }
            return .values(values)
        case .object(let members):
            guard members.count == 1, let op = members.first else {
                throw fail("Value of anything-but must be an array or single string/number value.", path)
            }
            let here = path + [op.key]
            func strings(_ reason: String, allowEmpty: Bool) throws(EventPatternError) -> [String] {
                let items: [JSONValue]
                switch op.value {
                case .string: items = [op.value]
                case .array(let a): items = a
                case .object: throw fail("Value of anything-but must be an array or single string/number value.", here)
                default: throw fail(reason, here)
                }
                var out: [String] = []
                let listed = items.count > 1 || op.value.objectMembers == nil && op.value.stringValue == nil
                for (i, item) in items.enumerated() {
                    guard case .string(let s) = item else { throw fail(reason, listed ? here + [String(i)] : here) }
                    if !allowEmpty, s.isEmpty { throw fail("Null prefix/suffix not allowed", here) }
                    out.append(s)
                }
                guard !out.isEmpty else { throw fail("Empty arrays are not allowed", here) }
                return out
            }
            switch op.key {
            case "prefix": return .prefixes(try strings("prefix/suffix match pattern must be a string", allowEmpty: false))
            case "suffix": return .suffixes(try strings("prefix/suffix match pattern must be a string", allowEmpty: false))
            case "wildcard":
                var compiled: [Wildcard] = []
                for s in try strings("wildcard match pattern must be a string", allowEmpty: true) { compiled.append(try Wildcard(s, path: here)) }
                return .wildcards(compiled)
            case "equals-ignore-case":
                return .ignoringCase(Set(try strings("Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
                                                     allowEmpty: true).map { $0.lowercased() }))
            default:
                throw fail("Unsupported anything-but pattern: \(op.key)", here)
            }
        default:
            throw fail("Value of anything-but must be an array or single string/number value.", path)
        }
    }

    func numeric(_ operand: JSONValue, path: [String]) throws(EventPatternError) -> NumericRange {
        guard case .array(let items) = operand else { throw fail("Value of numeric must be an array.", path) }
        var range = NumericRange()
        var i = 0
        var sawLower = false, sawUpper = false, sawEquals = false
        while i < items.count {
            guard case .string(let op) = items[i] else { throw fail("Value of numeric must be an array of operator, number pairs.", path + [String(i)]) }
            guard i + 1 < items.count, case .number(let n, _) = items[i + 1] else { throw fail("Value of \(op) must be numeric", path + [String(i)]) }
            switch op {
            case "=":
                guard !sawLower, !sawUpper, !sawEquals else { throw fail("Bad numeric range operator: =", path + [String(i)]) }
                sawEquals = true
                range = NumericRange(lower: n, lowerInclusive: true, upper: n, upperInclusive: true)
            case ">", ">=":
                guard !sawLower, !sawEquals else { throw fail("Bad numeric range operator: \(op)", path + [String(i)]) }
                sawLower = true
                range.lower = n
                range.lowerInclusive = op == ">="
            case "<", "<=":
                guard !sawUpper, !sawEquals else { throw fail("Bad numeric range operator: \(op)", path + [String(i)]) }
                sawUpper = true
                range.upper = n
                range.upperInclusive = op == "<="
            default:
                throw fail("Unrecognized numeric range operator: \(op)", path + [String(i)])
            }
            i += 2
        }
        guard sawLower || sawUpper || sawEquals else { throw fail("Empty arrays are not allowed", path) }
        if let l = range.lower, let u = range.upper, l > u || (l == u && !(range.lowerInclusive && range.upperInclusive)) {
            throw fail("Bottom must be less than top", path)
        }
        return range
    }
}
