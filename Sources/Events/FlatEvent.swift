/// An event as matching reads it: every leaf value under its dotted path (`detail.state`), with
/// the array elements it sits in, so that conditions on fields of one object in an array are
/// judged against the same element (Anna's first name with Anna's last name, not Jones's).
public struct FlatEvent: Sendable {
    public struct Value: Sendable {
        public var value: ExactValue
        /// (array, element) for each array on the way to the value, outermost first.
        public var positions: [ArrayPosition]

        public init(value: ExactValue, positions: [ArrayPosition]) {
            self.value = value
            self.positions = positions
        }
    }

    public struct ArrayPosition: Sendable, Hashable {
        public var array: Int32
        public var index: Int32
    }

    public private(set) var fields: [String: [Value]] = [:]
    private var arrays: Int32 = 0

    /// Flattens `event`; with `paths`, only the fields a matcher can ask about (and the objects
    /// on the way to them) are kept.
    public init(_ event: JSONValue, keeping paths: Set<String>? = nil) {
        walk(event, path: "", positions: [], keeping: paths)
    }

    private mutating func walk(_ value: JSONValue, path: String, positions: [ArrayPosition], keeping: Set<String>?) {
        switch value {
        case .object(let members):
            for m in members {
                let p = path.isEmpty ? m.key : path + "." + m.key
                if let keeping, !keeping.contains(p) { continue }
                walk(m.value, path: p, positions: positions, keeping: keeping)
            }
        case .array(let items):
            let id = arrays
            arrays += 1
            for (i, item) in items.enumerated() {
                walk(item, path: path, positions: positions + [ArrayPosition(array: id, index: Int32(i))], keeping: keeping)
            }
        case .string(let s): fields[path, default: []].append(Value(value: .string(s), positions: positions))
        case .number(let n, _): fields[path, default: []].append(Value(value: .number(n), positions: positions))
        case .bool(let b): fields[path, default: []].append(Value(value: .bool(b), positions: positions))
        case .null: fields[path, default: []].append(Value(value: .null, positions: positions))
        }
    }
}

/// The array elements a partial match has committed to.
struct Assignment {
    var positions: [FlatEvent.ArrayPosition] = []

    /// Whether `value` sits in the elements chosen so far (or in arrays not chosen yet).
    func admits(_ value: [FlatEvent.ArrayPosition]) -> Bool {
        if positions.isEmpty || value.isEmpty { return true }
        for p in value {
            for q in positions where q.array == p.array && q.index != p.index { return false }
        }
        return true
    }

    func extended(with value: [FlatEvent.ArrayPosition]) -> Assignment {
        if value.isEmpty { return self }
        var out = self
        for p in value where !positions.contains(p) { out.positions.append(p) }
        return out
    }
}

extension ValueMatcher {
    /// Whether one present leaf value satisfies the matcher (`exists` is judged by the caller
    /// for absence; here a present value satisfies `exists: true`).
    public func accepts(_ v: ExactValue) -> Bool {
        switch self {
        case .exact(let e): return e == v
        case .exists(let b): return b
        case .prefix(let p, let ignoreCase):
            guard case .string(let s) = v else { return false }
            return ignoreCase ? s.lowercased().utf8.starts(with: p.utf8) : s.utf8.starts(with: p.utf8)
        case .suffix(let p, let ignoreCase):
            guard case .string(let s) = v else { return false }
            return (ignoreCase ? s.lowercased() : s).utf8.reversed().starts(with: p.utf8.reversed())
        case .equalsIgnoreCase(let p):
            guard case .string(let s) = v else { return false }
            return s.lowercased() == p
        case .wildcard(let w):
            guard case .string(let s) = v else { return false }
            return w.matches(s)
        case .numeric(let r):
            guard case .number(let n) = v else { return false }
            return r.contains(n)
        case .cidr(let c):
            guard case .string(let s) = v else { return false }
            return c.contains(s)
        case .anythingBut(let a):
            switch a {
            case .values(let excluded): return !excluded.contains(v)
            case .prefixes(let ps):
                guard case .string(let s) = v else { return true }
                return !ps.contains { s.utf8.starts(with: $0.utf8) }
            case .suffixes(let ps):
                guard case .string(let s) = v else { return true }
                return !ps.contains { s.utf8.reversed().starts(with: $0.utf8.reversed()) }
            case .wildcards(let ws):
                guard case .string(let s) = v else { return true }
                return !ws.contains { $0.matches(s) }
            case .ignoringCase(let excluded):
                guard case .string(let s) = v else { return true }
                return !excluded.contains(s.lowercased())
            }
        }
    }
}

extension EventPattern {
    /// Whether `event` matches, judged clause by clause (the reference the compiled matcher is
    /// tested against, and the loop-over-rules baseline of the benchmark).
    public func matches(_ event: JSONValue) -> Bool { matches(FlatEvent(event)) }

    /// The same on an event already flattened (a loop over rules flattens once).
    public func matches(_ flat: FlatEvent) -> Bool {
        clauses.contains { PatternEvaluation.clause($0[...], flat, Assignment()) }
    }
}

enum PatternEvaluation {
    static func clause(_ conditions: ArraySlice<FieldCondition>, _ event: FlatEvent, _ assignment: Assignment) -> Bool {
        guard let c = conditions.first else { return true }
        let rest = conditions.dropFirst()
        var present = false
        for v in event.fields[c.path] ?? [] where assignment.admits(v.positions) {
            present = true
            if c.matchers.contains(where: { $0.accepts(v.value) }), clause(rest, event, assignment.extended(with: v.positions)) { return true }
        }
        return !present && c.acceptsAbsence && clause(rest, event, assignment)
    }
}
