import Yams

/// A key of a YAML mapping with where it was written.
struct Entry {
    var key: String
    var keyLocation: SourceLocation?
    var value: Node
}

/// Reads typed values out of a Yams node tree, recording a diagnostic for every problem and
/// returning nil for that value, so that loading goes on and finds the next mistake too.
/// Codable decoding would lose positions, so everything is read from the `Node` tree.
struct NodeReader {
    let file: String
    var diagnostics = Diagnostics()

    init(file: String) { self.file = file }

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
    mutating func mapping(_ node: Node, what: String) -> [Entry]? {
        guard case .mapping(let mapping) = node else {
            error(.wrongType(what, expected: "a mapping", found: Self.describe(node), at: location(node)))
            return nil
        }
        var entries: [Entry] = []
        for (k, v) in mapping {
            guard case .scalar(let s) = k else {
                error(.wrongType("a key in \(what)", expected: "a string", found: Self.describe(k), at: location(k)))
                continue
            }
            entries.append(Entry(key: s.string, keyLocation: location(k), value: v))
        }
        return entries
    }

    /// Flags keys outside `allowed`; keys in `later` get a "not supported yet" message instead of
    /// "unknown". Returns entries by key for the known ones.
    mutating func checkKeys(_ entries: [Entry], allowed: [String], later: [String] = [], context: String) -> [String: Entry] {
        var byKey: [String: Entry] = [:]
        for entry in entries {
            if allowed.contains(entry.key) {
                byKey[entry.key] = entry
            } else if later.contains(entry.key) {
                error(.featureNotAvailable(entry.key, in: context, at: entry.keyLocation))
            } else {
                error(.unknownKey(entry.key, in: context, suggestion: suggestion(for: entry.key, among: allowed + later),
                                  allowed: allowed, at: entry.keyLocation))
            }
        }
        return byKey
    }

    /// A plain string (no expressions allowed).
    mutating func literalString(_ node: Node, what: String) -> String? {
        guard case .scalar(let s) = node, node.null == nil || s.style != .plain else {
            error(.wrongType(what, expected: "a string", found: Self.describe(node), at: location(node)))
            return nil
        }
        return s.string
    }

    mutating func bool(_ node: Node, what: String) -> Bool? {
        guard case .scalar(let s) = node, s.style == .plain, let b = node.bool else {
            error(.wrongType(what, expected: "true or false", found: Self.describe(node), at: location(node)))
            return nil
        }
        return b
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

extension NodeReader {
    /// A number, written plainly or as a single `${...}` that evaluates to one at plan time.
    mutating func number(_ node: Node, what: String, resolve: ([String]) -> Resolution) -> Double? {
        guard case .scalar(let s) = node else {
            error(.wrongType(what, expected: "a number", found: Self.describe(node), at: location(node)))
            return nil
        }
        if s.style == .plain, let d = node.float ?? node.int.map(Double.init) { return d }
        guard s.string.contains("${") else {
            error(.wrongType(what, expected: "a number", found: Self.describe(node), at: location(node)))
            return nil
        }
        switch evaluate(s.string, at: location(node), resolve: resolve) {
        case .value(.number, true)?:
            // Resource attributes appear in plans and state; only outputs may carry secrets.
            error(.sensitiveInResource(what, at: location(node)))
        case .value(.number(let n), false)?: return n
        case .value(let v, _)?:
            error(.wrongType(what, expected: "a number", found: v.typeName, at: location(node)))
        case .knownAfterApply?:
            error(.notKnownAtPlan(s.string, at: location(node)))
        case nil: break
        }
        return nil
    }

    /// A whole number, with the same rules as `number`.
    mutating func integer(_ node: Node, what: String, resolve: ([String]) -> Resolution) -> Int? {
        guard let d = number(node, what: what, resolve: resolve) else { return nil }
        guard d == d.rounded(), abs(d) < 1e9 else {
            error(.wrongType(what, expected: "a whole number", found: formatNumber(d), at: location(node)))
            return nil
        }
        return Int(d)
    }

    /// A string that may interpolate `${...}`; must be known at plan time.
    mutating func string(_ node: Node, what: String, resolve: ([String]) -> Resolution) -> String? {
        guard let text = literalString(node, what: what) else { return nil }
        guard text.contains("${") else { return text }
        switch evaluate(text, at: location(node), resolve: resolve) {
        case .value(_, true)?: error(.sensitiveInResource(what, at: location(node)))
        case .value(let v, false)?: return v.description
        case .knownAfterApply?: error(.notKnownAtPlan(text, at: location(node)))
        case nil: break
        }
        return nil
    }

    mutating func evaluate(_ text: String, at loc: SourceLocation?, resolve: ([String]) -> Resolution) -> Evaluated? {
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
}

extension NodeReader {
    /// A program and its arguments: a non-empty list of strings known at plan time.
    mutating func command(_ node: Node, context: String, example: String, resolve: ([String]) -> Resolution) -> [String]? {
        guard case .sequence(let seq) = node, !seq.isEmpty else {
            error(.wrongType("'command' of \(context)", expected: "a non-empty list such as \(example)",
                             found: Self.describe(node), at: location(node)))
            return nil
        }
        var command: [String] = []
        var ok = true
        for item in seq {
            if let s = string(item, what: "an argument of 'command' of \(context)", resolve: resolve) { command.append(s) } else { ok = false }
        }
        return ok ? command : nil
    }
}

/// Identity lines for a command: its words, and the content of each argument that names a file
/// (a script), so that editing the script is a change.
func commandIdentity(_ command: [String], in directory: String, files: any SpecFileSystem) -> [String] {
    var identity = ["command=" + command.joined(separator: "\u{0}")]
    for arg in command {
        if let h = files.sha256(ofFileAt: PathMath.resolve(arg, against: directory)) { identity.append("file \(arg)=\(h)") }
    }
    return identity
}

/// Names of models, endpoints and variants, as SageMaker allows them.
func isValidName(_ name: String) -> Bool {
    let scalars = Array(name.unicodeScalars)
    guard (1...63).contains(scalars.count) else { return false }
    func alnum(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) }
    guard alnum(scalars.first!), alnum(scalars.last!) else { return false }
    return scalars.allSatisfy { alnum($0) || $0 == "-" || $0 == "_" }
}

extension NodeReader {
    /// Seconds, written as a number or as "500ms", "30s", "2m", "1h".
    mutating func duration(_ node: Node, what: String, resolve: ([String]) -> Resolution) -> Double? {
        if case .scalar(let s) = node, s.style == .plain, node.float != nil || node.int != nil {
            return number(node, what: what, resolve: resolve)
        }
        guard let text = string(node, what: what, resolve: resolve) else { return nil }
        for (suffix, factor) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] where text.hasSuffix(suffix) {
            if let n = Double(text.dropLast(suffix.count)) { return n * factor }
        }
        error(.wrongType(what, expected: "a duration such as 30s or 2m", found: "'\(text)'", at: location(node)))
        return nil
    }
}
