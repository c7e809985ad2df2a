/// Many rules' patterns compiled into one machine, in the manner of event-ruler (the library
/// behind EventBridge): each clause is a path of field conditions from the root, clauses that
/// begin with the same conditions share their nodes, and exact and case-insensitive values are
/// found by hashing. Matching an event walks only the transitions the event's values take, so
/// its cost follows what matches, not how many rules there are.
public struct PatternMachine: Sendable {
    struct Transitions: Sendable {
        var path: String
        var exact: [ExactValue: [Int32]] = [:]
        var ignoreCase: [String: [Int32]] = [:]
        /// Prefixes by their length in UTF-8 bytes, so a value is cut once per length.
        var prefixes: [Int: [[UInt8]: [Int32]]] = [:]
        /// Every other operator, tried one by one.
        var others: [(ValueMatcher, Int32)] = []
        /// Children taken when the field is absent (`exists: false`).
        var absent: [Int32] = []
        /// The child for each distinct condition, so identical conditions share their subtree.
        var childFor: [FieldCondition: Int32] = [:]
    }

    struct Node: Sendable {
        var rules: [Int] = []
        var transitions: [Transitions] = []
    }

    private var nodes: [Node] = [Node()]
    /// Every path a rule names, and each of its leading parts: the event is flattened only there.
    public private(set) var paths: Set<String> = []
    public private(set) var ruleCount = 0

    public init() {}

    /// Adds a rule: `id` is what `match` returns for it.
    public mutating func add(_ pattern: EventPattern, id: Int) {
        ruleCount += 1
        for clause in pattern.clauses {
            var node: Int32 = 0
            for condition in clause {
                node = child(of: node, for: condition)
                var p = condition.path
                paths.insert(p)
                while let dot = p.lastIndex(of: ".") {
                    p = String(p[..<dot])
                    paths.insert(p)
                }
            }
            if !nodes[Int(node)].rules.contains(id) { nodes[Int(node)].rules.append(id) }
        }
    }

    private mutating func child(of node: Int32, for condition: FieldCondition) -> Int32 {
        let n = Int(node)
        let t: Int
        if let i = nodes[n].transitions.firstIndex(where: { $0.path == condition.path }) { t = i } else {
            nodes[n].transitions.append(Transitions(path: condition.path))
            t = nodes[n].transitions.count - 1
        }
        if let existing = nodes[n].transitions[t].childFor[condition] { return existing }
        let c = Int32(nodes.count)
        nodes.append(Node())
        var tr = nodes[n].transitions[t]
        tr.childFor[condition] = c
        for m in condition.matchers {
            switch m {
            case .exact(let v): tr.exact[v, default: []].append(c)
            case .equalsIgnoreCase(let s): tr.ignoreCase[s, default: []].append(c)
            case .prefix(let p, false): tr.prefixes[p.utf8.count, default: [:]][Array(p.utf8), default: []].append(c)
            case .exists(false): tr.absent.append(c)
            default: tr.others.append((m, c))
            }
        }
        nodes[n].transitions[t] = tr
        return c
    }

    /// The ids of the rules `event` matches, ascending.
    public func match(_ event: JSONValue) -> [Int] {
        match(FlatEvent(event, keeping: paths))
    }

    public func match(_ event: FlatEvent) -> [Int] {
        var matched: [Int] = []
        visit(0, event, Assignment(), &matched)
        if matched.count > 1 {
            matched.sort()
            var out: [Int] = []
            out.reserveCapacity(matched.count)
            for id in matched where out.last != id { out.append(id) }
            return out
        }
        return matched
    }

    private func visit(_ node: Int32, _ event: FlatEvent, _ assignment: Assignment, _ matched: inout [Int]) {
        let n = nodes[Int(node)]
        matched.append(contentsOf: n.rules)
        for t in n.transitions {
            var present = false
            if let values = event.fields[t.path] {
                for v in values where assignment.admits(v.positions) {
                    present = true
                    let next = assignment.extended(with: v.positions)
                    forEachChild(of: t, accepting: v.value) { visit($0, event, next, &matched) }
                }
            }
            if !present { for c in t.absent { visit(c, event, assignment, &matched) } }
        }
    }

    /// Calls `body` once for each child a value takes (a child reached by two of its matchers,
    /// as `["a", {"prefix": "a"}]`, once).
    private func forEachChild(of t: Transitions, accepting v: ExactValue, _ body: (Int32) -> Void) {
        var seen: [Int32] = []
        func take(_ c: Int32) {
            if seen.contains(c) { return }
            seen.append(c)
            body(c)
        }
        if let cs = t.exact[v] { for c in cs { take(c) } }
        if case .string(let s) = v {
            if !t.ignoreCase.isEmpty, let cs = t.ignoreCase[s.lowercased()] { for c in cs { take(c) } }
            if !t.prefixes.isEmpty {
                let bytes = Array(s.utf8)
                for (length, table) in t.prefixes where length <= bytes.count {
                    if let cs = table[Array(bytes[0..<length])] { for c in cs { take(c) } }
                }
            }
        }
        for (m, c) in t.others where m.accepts(v) { take(c) }
    }
}
