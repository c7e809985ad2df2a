/// A key of a YAML mapping with where it was written.
struct Entry {
    var key: String
    var keyLocation: SourceLocation?
    var value: Node
}

/// Reads typed values out of a YAML node tree, recording a diagnostic for every problem. A read
/// that returns nil has always recorded an error first, so that loading goes on, finds the next
/// mistake too, and never drops a value silently. Codable decoding would lose positions, so
/// everything is read from the `Node` tree.
struct NodeReader {
    let file: String
    var diagnostics = Diagnostics()
    /// Resolves `${...}` references; by default nothing may be referenced.
    var resolve: ([String]) -> Resolution = { _ in .undeclared(suggestion: nil) }

    init(file: String) { self.file = file }

    init(file: String, resolve: @escaping ([String]) -> Resolution) {
        self.file = file
        self.resolve = resolve
    }

    /// Errors recorded so far: a reader that gives up must have raised it.
    var errorCount: Int { diagnostics.errorCount }

    func location(_ node: Node) -> SourceLocation? {
        node.mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) }
    }

    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let s):
            if s.style == .plain {
                if node.null != nil { return "nothing (null)" }
                if node.bool != nil { return "a boolean" }
                if node.int != nil || node.float != nil { return "a number" }
            }
            return "a string"
        }
    }

    mutating func error(_ d: Diagnostic) { diagnostics.append(d) }

    /// The entries of a mapping; a diagnostic when `node` is something else.
    mutating func mapping(_ node: Node, what: @autoclosure () -> String) -> [Entry]? {
        guard case .mapping(let mapping) = node else {
            error(.wrongType(what(), expected: "a mapping", found: Self.describe(node), at: location(node)))
            return nil
        }
        var entries: [Entry] = []
        entries.reserveCapacity(mapping.count)
        for (k, v) in mapping {
            guard case .scalar(let s) = k else {
                error(.wrongType("a key in \(what())", expected: "a string", found: Self.describe(k), at: location(k)))
                continue
            }
            entries.append(Entry(key: s.string, keyLocation: location(k), value: v))
        }
        return entries
    }

    /// A mapping's entries checked against the keys `context` allows. Keys in `later` get a "not
    /// supported yet" message instead of "unknown". An unknown key close to an allowed one that
    /// is absent is reported once, with the suggestion, and read as that key, so that a misspelt
    /// required key is not also reported missing.
    mutating func keys(_ node: Node, allowed: [String], later: [String] = [], context: String) -> Keys? {
        guard let entries = mapping(node, what: context) else { return nil }
        return keys(entries, at: location(node), allowed: allowed, later: later, context: context)
    }

    mutating func keys(_ entries: [Entry], at location: SourceLocation?, allowed: [String], later: [String] = [], context: String) -> Keys {
        var keys = Keys(context: context, location: location)
        keys.known.reserveCapacity(entries.count)
        for entry in entries where allowed.contains(entry.key) { keys.known.append(entry) }
        for entry in entries where !allowed.contains(entry.key) {
            if later.contains(entry.key) {
                error(.featureNotAvailable(entry.key, in: context, at: entry.keyLocation))
                continue
            }
            let suggested = suggestion(for: entry.key, among: allowed + later)
            error(.unknownKey(entry.key, in: context, suggestion: suggested, allowed: allowed, at: entry.keyLocation))
            if let suggested, allowed.contains(suggested), keys[suggested] == nil {
                keys.misspelt.append(Entry(key: suggested, keyLocation: entry.keyLocation, value: entry.value))
            }
        }
        return keys
    }

    /// The entry of a key every such mapping needs; a diagnostic naming the key when it is absent.
    mutating func require(_ keys: Keys, _ key: String, hint: String) -> Entry? {
        if let entry = keys[key] { return entry }
        error(.missingKey(key, in: keys.context, at: keys.location, hint: hint))
        return nil
    }

    /// A plain string (no expressions allowed).
    mutating func literalString(_ node: Node, what: @autoclosure () -> String) -> String? {
        guard case .scalar(let s) = node, node.null == nil || s.style != .plain else {
            error(.wrongType(what(), expected: "a string", found: Self.describe(node), at: location(node)))
            return nil
        }
        return s.string
    }

    mutating func bool(_ node: Node, what: @autoclosure () -> String) -> Bool? {
        guard case .scalar(let s) = node, s.style == .plain, let b = node.bool else {
            error(.wrongType(what(), expected: "true or false", found: Self.describe(node), at: location(node)))
            return nil
        }
        return b
    }

    /// A string that may interpolate `${...}`; must be known at plan time.
    mutating func string(_ node: Node, what: @autoclosure () -> String) -> String? {
        guard let text = literalString(node, what: what()) else { return nil }
        guard text.contains("${") else { return text }
        switch evaluate(text, at: location(node)) {
        case .value(_, true)?: error(.sensitiveInResource(what(), at: location(node)))
        case .value(let v, false)?: return v.description
        case .knownAfterApply?: error(.notKnownAtPlan(text, at: location(node)))
        case nil: break
        }
        return nil
    }

    /// Evaluates a template with this reader's references; nil after recording why it failed.
    mutating func evaluate(_ text: String, at loc: SourceLocation?) -> Evaluated? {
        do {
            return try Template.parse(text).evaluate(resolve)
        } catch {
            if let ref = error.reference {
                self.error(.unknownReference(ref, suggestion: error.suggestion, at: loc))
            } else {
                self.error(.expression(error.message, at: loc))
            }
            return nil
        }
    }

    /// A list of strings, or one string standing for a list of one.
    mutating func stringList(_ node: Node, what: @autoclosure () -> String) -> [String]? {
        if case .scalar = node { return literalString(node, what: what()).map { [$0] } }
        guard case .sequence(let seq) = node else {
            error(.wrongType(what(), expected: "a list of strings", found: Self.describe(node), at: location(node)))
            return nil
        }
        var out: [String] = []
        var failed = false
        for item in seq {
            if let s = literalString(item, what: "an item of \(what())") { out.append(s) } else { failed = true }
        }
        return failed ? nil : out
    }

    /// A program and its arguments: a non-empty list of strings known at plan time.
    mutating func command(_ node: Node, context: String, example: String) -> [String]? {
        guard case .sequence(let seq) = node, !seq.isEmpty else {
            error(.wrongType("'command' of \(context)", expected: "a non-empty list such as \(example)",
                             found: Self.describe(node), at: location(node)))
            return nil
        }
        var command: [String] = []
        var failed = false
        for item in seq {
            if let s = string(item, what: "an argument of 'command' of \(context)") { command.append(s) } else { failed = true }
        }
        return failed ? nil : command
    }
}

/// The checked entries of one mapping. A few keys each: arrays searched in order beat a
/// dictionary per mapping (a stack with 240,000 variables reads 240,000 of these).
struct Keys {
    let context: String
    let location: SourceLocation?
    fileprivate(set) var known: [Entry] = []
    /// Unknown keys read as the allowed key they were a misspelling of (already reported),
    /// under the key they stand for.
    fileprivate(set) var misspelt: [Entry] = []

    init(context: String, location: SourceLocation?, known: [Entry] = []) {
        self.context = context
        self.location = location
        self.known = known
    }

    subscript(key: String) -> Entry? {
        for e in known where e.key == key { return e }
        for e in misspelt where e.key == key { return e }
        return nil
    }

    /// Forgets `key` (and what it holds).
    mutating func remove(_ key: String) {
        known.removeAll { $0.key == key }
        misspelt.removeAll { $0.key == key }
    }

    /// Whether the mapping names `key` (or a misspelling of it).
    func has(_ key: String) -> Bool { self[key] != nil }
}

extension String {
    var trimmed: String {
        // Most values have nothing to trim: no copy then.
        guard let f = first, let l = last, f.isWhitespace || l.isWhitespace else { return self }
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
