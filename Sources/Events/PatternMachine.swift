/// Many rules' patterns compiled into one machine, in the manner of event-ruler (the library
/// behind EventBridge): each clause is a path of field conditions from the root, clauses that
/// begin with the same conditions share their nodes, and exact and case-insensitive values are
/// found by hashing. Matching an event walks only the transitions the event's values take, so
/// its cost follows what matches, not how many rules there are.
public struct PatternMachine: Sendable {
    struct Transitions: Sendable {
        var path: String
        /// The path's index in an `IndexedEvent`.
        var field: Int32
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

    /// The key steps of every path a rule names, as a trie: an event is flattened by walking it
    /// (no path strings are built per event) into one slot per path.
    struct PathNode: Sendable {
        var children: [String: Int32] = [:]
        var field: Int32 = -1
    }

    private var nodes: [Node] = [Node()]
    private var pathNodes: [PathNode] = [PathNode()]
    private var fieldCount: Int32 = 0
    /// Every path a rule names, and each of its leading parts.
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
            nodes[n].transitions.append(Transitions(path: condition.path, field: field(for: condition.path)))
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

    /// The slot of a dotted path (created on first use).
    private mutating func field(for path: String) -> Int32 {
        var n: Int32 = 0
        for step in path.split(separator: ".", omittingEmptySubsequences: false) {
            if let c = pathNodes[Int(n)].children[String(step)] { n = c } else {
                pathNodes.append(PathNode())
                let c = Int32(pathNodes.count - 1)
                pathNodes[Int(n)].children[String(step)] = c
                n = c
            }
        }
        if pathNodes[Int(n)].field < 0 {
            pathNodes[Int(n)].field = fieldCount
            fieldCount += 1
        }
        return pathNodes[Int(n)].field
    }

    /// The ids of the rules `event` matches, ascending.
    public func match(_ event: JSONValue) -> [Int] {
        var indexed = IndexedEvent(fields: Int(fieldCount))
        flatten(event, node: 0, positions: [], into: &indexed)
        return match(indexed)
    }

    /// The same, from an event flattened by path (the clause-by-clause evaluator's form).
    public func match(_ event: FlatEvent) -> [Int] {
        var indexed = IndexedEvent(fields: Int(fieldCount))
        for (path, values) in event.fields {
            var n: Int32 = 0
            var found = true
            for step in path.split(separator: ".", omittingEmptySubsequences: false) {
                guard let c = pathNodes[Int(n)].children[String(step)] else { found = false; break }
                n = c
            }
            if found, pathNodes[Int(n)].field >= 0 { indexed.values[Int(pathNodes[Int(n)].field)] += values }
        }
        return match(indexed)
    }

    /// An event's leaf values in one slot per path the machine knows.
    struct IndexedEvent {
        var values: [[FlatEvent.Value]]
        var arrays: Int32 = 0
        init(fields: Int) { values = Array(repeating: [], count: fields) }
    }

    private func flatten(_ value: JSONValue, node: Int32, positions: [FlatEvent.ArrayPosition], into e: inout IndexedEvent) {
        switch value {
        case .object(let members):
            for m in members {
                var n = node
                if m.key.utf8.contains(UInt8(ascii: ".")) {
                    // A dotted key is the same as nested keys.
                    var found = true
                    for step in m.key.split(separator: ".", omittingEmptySubsequences: false) {
                        guard let c = pathNodes[Int(n)].children[String(step)] else { found = false; break }
                        n = c
                    }
                    guard found else { continue }
                } else {
                    guard let c = pathNodes[Int(node)].children[m.key] else { continue }
                    n = c
                }
                flatten(m.value, node: n, positions: positions, into: &e)
            }
        case .array(let items):
            let id = e.arrays
            e.arrays += 1
            for (i, item) in items.enumerated() {
                flatten(item, node: node, positions: positions + [FlatEvent.ArrayPosition(array: id, index: Int32(i))], into: &e)
            }
        default:
            let f = pathNodes[Int(node)].field
            guard f >= 0 else { return }
            let leaf: ExactValue
            switch value {
            case .string(let s): leaf = .string(s)
            case .number(let n, _): leaf = .number(n)
            case .bool(let b): leaf = .bool(b)
            default: leaf = .null
            }
            e.values[Int(f)].append(FlatEvent.Value(value: leaf, positions: positions))
        }
    }

    private func match(_ event: IndexedEvent) -> [Int] {
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

    private func visit(_ node: Int32, _ event: IndexedEvent, _ assignment: Assignment, _ matched: inout [Int]) {
        let n = Int(node)
        if !nodes[n].rules.isEmpty { matched.append(contentsOf: nodes[n].rules) }
        // Elements are read in place (`nodes[n].transitions[i].exact`), never copied out: a copy
        // of a transition retains and releases each of its tables, which the profile showed.
        for i in nodes[n].transitions.indices {
            var present = false
            let field = Int(nodes[n].transitions[i].field)
            for v in event.values[field] where assignment.admits(v.positions) {
                present = true
                let next = assignment.extended(with: v.positions)
                forEachChild(n, i, accepting: v.value) { visit($0, event, next, &matched) }
            }
            if !present { for c in nodes[n].transitions[i].absent { visit(c, event, assignment, &matched) } }
        }
    }

    /// Calls `body` once for each child a value takes (a child reached by two of its matchers,
    /// as `["a", {"prefix": "a"}]`, once).
    private func forEachChild(_ n: Int, _ i: Int, accepting v: ExactValue, _ body: (Int32) -> Void) {
        var first: Int32 = -1
        var more: [Int32] = []
        func take(_ c: Int32) {
            if c == first || (!more.isEmpty && more.contains(c)) { return }
            if first < 0 { first = c } else { more.append(c) }
            body(c)
        }
        if let cs = nodes[n].transitions[i].exact[v] { for c in cs { take(c) } }
        if case .string(let s) = v {
            if !nodes[n].transitions[i].ignoreCase.isEmpty, let cs = nodes[n].transitions[i].ignoreCase[s.lowercased()] { for c in cs { take(c) } }
            if !nodes[n].transitions[i].prefixes.isEmpty {
                let bytes = Array(s.utf8)
                for (length, table) in nodes[n].transitions[i].prefixes where length <= bytes.count {
                    if let cs = table[Array(bytes[0..<length])] { for c in cs { take(c) } }
                }
            }
        }
        for (m, c) in nodes[n].transitions[i].others where m.accepts(v) { take(c) }
    }
}
