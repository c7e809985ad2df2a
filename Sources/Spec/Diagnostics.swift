/// A place in a stack file: 1-based line and column, as editors count them.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// One problem found in a stack. Spec problems are collected, never thrown, so that one run
/// reports every mistake.
public struct Diagnostic: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable { case error, warning }

    public var severity: Severity
    public var location: SourceLocation?
    /// Lowercase, one line, names in single quotes.
    public var summary: String
    /// What to type to fix it.
    public var hint: String?

    /// Control characters in the text (a name copied from a broken file) are escaped here, once
    /// for every message: a diagnostic never echoes a raw control byte.
    public init(_ severity: Severity = .error, at location: SourceLocation?, _ summary: String, hint: String? = nil) {
        self.severity = severity
        self.location = location
        self.summary = Self.escapingControls(summary)
        self.hint = hint.map(Self.escapingControls)
    }

    static func escapingControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7f { out += "\\u{" + String(scalar.value, radix: 16) + "}" } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    public var description: String {
        var text = location.map { "\($0): " } ?? ""
        text += "\(severity.rawValue): \(summary)"
        if let hint { text += "\n  hint: \(hint)" }
        return text
    }
}

/// The diagnostics of one load, in the order they were found.
public struct Diagnostics: Sendable, Equatable {
    public private(set) var all: [Diagnostic] = []
    public init() {}

    public var hasErrors: Bool { errorCount > 0 }
    public var errors: [Diagnostic] { all.filter { $0.severity == .error } }

    /// How many errors have been recorded.
    public private(set) var errorCount = 0

    public mutating func append(_ diagnostic: Diagnostic) {
        all.append(diagnostic)
        if diagnostic.severity == .error { errorCount += 1 }
    }
    public mutating func append(contentsOf other: Diagnostics) {
        all += other.all
        errorCount += other.errorCount
    }

    /// Sorted by file, line and column, so output is stable whatever order checks ran in.
    public var sorted: [Diagnostic] {
        all.enumerated().sorted { a, b in
            let la = a.element.location, lb = b.element.location
            if let la, let lb, la != lb {
                if la.file != lb.file { return la.file < lb.file }
                if la.line != lb.line { return la.line < lb.line }
                return la.column < lb.column
            }
            return a.offset < b.offset
        }.map(\.element)
    }
}

// Every message the Spec module can produce lives here, so wording stays consistent.
extension Diagnostic {
    static func yamlSyntax(_ problem: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "invalid YAML: \(problem)", hint: "check indentation and quoting near this position")
    }
    static func unknownKey(_ key: String, in context: String, suggestion: String?, allowed: [String], at loc: SourceLocation?) -> Diagnostic {
        let hint = suggestion.map { "did you mean '\($0)'?" } ?? "allowed keys: \(allowed.joined(separator: ", "))"
        return Diagnostic(at: loc, "unknown key '\(printable(key))' in \(printable(context, limit: 200))", hint: hint)
    }
    static func missingKey(_ key: String, in context: String, at loc: SourceLocation?, hint: String) -> Diagnostic {
        Diagnostic(at: loc, "\(printable(context, limit: 200)) is missing required key '\(key)'", hint: hint)
    }
    static func wrongType(_ what: String, expected: String, found: String, at loc: SourceLocation?, hint: String? = nil) -> Diagnostic {
        Diagnostic(at: loc, "\(printable(what, limit: 200)) must be \(expected), found \(printable(found))", hint: hint)
    }
    static func kindNotAvailable(_ section: String, supported: [String], at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "resource kind '\(section)' is not supported by this version of mlgw-deploy",
                   hint: "remove the '\(section)' section; supported: \(supported.joined(separator: ", ")) (see docs/spec.md)")
    }
    static func stackNameDiffers(_ name: String, from first: String, at loc: SourceLocation?, first firstAt: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "stack name '\(printable(name))' differs from '\(first)' given at \(firstAt?.description ?? "another file")",
                   hint: "every file of one stack must use the same 'stack:' name")
    }
    static func invalidStackName(_ name: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "stack name '\(printable(name))' is invalid", hint: "use lowercase letters, digits, '-' and '_' (it names folders)")
    }
    static func stackHasNoName(at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "the stack has no name", hint: "add 'stack: my-stack' at the top of the file")
    }
    static func featureNotAvailable(_ key: String, in context: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'\(printable(key))' in \(printable(context, limit: 200)) is not supported by this version of mlgw-deploy",
                   hint: "remove '\(key)'; docs/spec.md lists what each kind accepts today")
    }
    static func duplicateResource(_ address: String, first: SourceLocation?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'\(printable(address))' is defined twice",
                   hint: "the first definition is at \(first?.description ?? "another file"); rename or remove one of them")
    }
    static func invalidEnvironmentName(_ name: String, of context: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "environment variable name '\(printable(name))' of \(context) is invalid",
                   hint: "use letters, digits and '_', starting with a letter or '_' (as a shell does)")
    }
    static func invalidName(_ name: String, what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) name '\(printable(name))' is invalid",
                   hint: "use 1 to 63 letters, digits, '-' and '_', starting and ending with a letter or digit")
    }
    static func unknownReference(_ ref: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "reference to undeclared '\(ref)'",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "declare it, or fix the name")
    }
    /// `written`: the value as the stack wrote it, when that says more than the number (`1e300m`).
    static func outOfRange(_ what: String, value: Double, range: ValueRange, written: String? = nil, at loc: SourceLocation?) -> Diagnostic {
        let found = written.map { printable($0) } ?? range.show(value)
        if case .inclusive(0) = range.lower, value < 0 {
            return Diagnostic(at: loc, "\(what) must not be negative, found \(found)", hint: "use a value \(range.description)")
        }
        return Diagnostic(at: loc, "\(what) must be \(range.description), found \(found)", hint: "use a value \(range.description)")
    }
    static func notFinite(_ what: String, found: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) must be a finite number, found \(printable(found))",
                   hint: "write a number such as 10; .nan, .inf and numbers beyond 1e308 are not values a resource can use")
    }
    /// The loader's own check that a kind's reader never gives up without saying why.
    static func unreadableWithoutReason(_ address: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'\(address)' could not be read, and the reader recorded no reason (a defect of mlgw-deploy)",
                   hint: "nothing was planned; please report this with the resource's definition")
    }
    static func missingFile(_ path: String, resolved: String, what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) '\(path)' does not exist (looked for '\(resolved)')",
                   hint: "relative paths resolve against the stack file's folder; fix the path or create the file")
    }
    static func cycle(_ path: [String], at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "dependency cycle: \(path.joined(separator: " -> "))",
                   hint: "break the cycle by removing one of these references")
    }
    static func variableMissing(_ name: String, fromEnv: String?, at loc: SourceLocation?) -> Diagnostic {
        let ways = "pass --var \(name)=VALUE, add it to a --var-file, or give it a 'default'"
        return Diagnostic(at: loc, "variable '\(name)' has no value",
                          hint: fromEnv.map { "set the environment variable \($0), \(ways)" } ?? ways)
    }
    static func variableUndeclared(_ name: String, suggestion: String?) -> Diagnostic {
        Diagnostic(at: nil, "a value was given for undeclared variable '\(name)'",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "declare it under 'variables:' or drop the --var")
    }
    static func variableBadValue(_ name: String, type: String, value: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "value '\(value)' for variable '\(name)' is not a \(type)", hint: "pass a \(type), e.g. --var \(name)=\(type == "number" ? "10" : type == "bool" ? "true" : "text")")
    }
    static func expression(_ problem: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "invalid expression: \(printable(problem, limit: 200))", hint: "expressions look like ${var.name}, ${100 - var.weight} or ${endpoints.NAME.url}")
    }
    static func sensitiveInResource(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) cannot come from a sensitive variable: resource attributes are shown in plans and kept in state",
                   hint: "use a variable that is not sensitive; sensitive values may only feed outputs")
    }
    static func notKnownAtPlan(_ ref: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'\(ref)' is only known after apply and cannot be used here",
                   hint: "use a variable or a literal value for this field")
    }
}

extension Diagnostic {
    /// Text from a stack file as a message may show it: control characters escaped, long text cut.
    static func printable(_ text: String, limit: Int = 80) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if out.unicodeScalars.count >= limit { out += "…"; break }
            if scalar.value < 0x20 || scalar.value == 0x7f || (0x80..<0xa0).contains(scalar.value) {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

func formatNumber(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return String(value)
}
