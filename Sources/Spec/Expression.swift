/// A value a stack computes with: what `${...}` expressions evaluate to.
public enum Value: Sendable, Hashable, Codable, CustomStringConvertible {
    case string(String)
    case number(Double)
    case bool(Bool)

    public var description: String {
        switch self {
        case .string(let s): return s
        case .number(let n): return formatNumber(n)
        case .bool(let b): return b ? "true" : "false"
        }
    }

    public var typeName: String {
        switch self {
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        }
    }
}

/// An expression inside `${...}`: numbers, quoted strings, references (`var.x`,
/// `endpoints.fraud.url`), `+ - * /` and parentheses. Names may contain hyphens, so `a-b` is a
/// name and `a - b` a subtraction, as in Terraform.
public indirect enum Expression: Sendable, Hashable, Codable {
    case number(Double)
    case string(String)
    case reference([String])
    case binary(Operator, Expression, Expression)
    case negate(Expression)

    public enum Operator: String, Sendable, Hashable, Codable { case add = "+", subtract = "-", multiply = "*", divide = "/" }

    /// Every reference the expression makes, in order of appearance.
    public var references: [[String]] {
        switch self {
        case .number, .string: return []
        case .reference(let path): return [path]
        case .binary(_, let l, let r): return l.references + r.references
        case .negate(let e): return e.references
        }
    }
}

/// What a reference resolves to while evaluating.
public enum Resolution: Sendable, Equatable {
    case value(Value, sensitive: Bool)
    /// Known only once the resource exists (a URL, a port).
    case knownAfterApply
    case undeclared(suggestion: String?)
}

/// The result of evaluating an expression or template.
public enum Evaluated: Sendable, Equatable {
    case value(Value, sensitive: Bool)
    case knownAfterApply
}

public struct ExpressionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var reference: String?
    public var suggestion: String?
    public var description: String { message }
}

extension Expression {
    public func evaluate(_ resolve: ([String]) -> Resolution) throws(ExpressionError) -> Evaluated {
        switch self {
        case .number(let n): return .value(.number(n), sensitive: false)
        case .string(let s): return .value(.string(s), sensitive: false)
        case .reference(let path):
            switch resolve(path) {
            case .value(let v, let s): return .value(v, sensitive: s)
            case .knownAfterApply: return .knownAfterApply
            case .undeclared(let suggestion):
                let name = path.joined(separator: ".")
                throw ExpressionError(message: "reference to undeclared '\(name)'", reference: name, suggestion: suggestion)
            }
        case .negate(let e):
            switch try e.evaluate(resolve) {
            case .knownAfterApply: return .knownAfterApply
            case .value(.number(let n), let s): return .value(.number(-n), sensitive: s)
            case .value(let v, _): throw ExpressionError(message: "cannot negate \(v.typeName)")
            }
        case .binary(let op, let l, let r):
            let lv = try l.evaluate(resolve), rv = try r.evaluate(resolve)
            guard case .value(let a, let sa) = lv, case .value(let b, let sb) = rv else { return .knownAfterApply }
            if op == .add, case .string(let x) = a, case .string(let y) = b {
                return .value(.string(x + y), sensitive: sa || sb)
            }
            guard case .number(let x) = a, case .number(let y) = b else {
                throw ExpressionError(message: "'\(op.rawValue)' needs two numbers, found \(a.typeName) and \(b.typeName)")
            }
            let result: Double
            switch op {
            case .add: result = x + y
            case .subtract: result = x - y
            case .multiply: result = x * y
            case .divide:
                guard y != 0 else { throw ExpressionError(message: "division by zero") }
                result = x / y
            }
            return .value(.number(result), sensitive: sa || sb)
        }
    }
}

/// A string that may hold `${...}` expressions. `$${` writes a literal `${`.
public struct Template: Sendable, Hashable, Codable {
    public enum Part: Sendable, Hashable, Codable {
        case text(String)
        case expression(Expression)
    }
    public var parts: [Part]

    public init(parts: [Part]) { self.parts = parts }

    /// True when the whole string is one `${...}`: its value keeps its type (a number stays a number).
    public var isSingleExpression: Bool {
        if parts.count == 1, case .expression = parts[0] { return true }
        return false
    }

    public var references: [[String]] {
        parts.flatMap { part -> [[String]] in
            if case .expression(let e) = part { return e.references }
            return []
        }
    }

    public var hasExpressions: Bool { !references.isEmpty || parts.contains { if case .expression = $0 { return true } else { return false } } }

    public func evaluate(_ resolve: ([String]) -> Resolution) throws(ExpressionError) -> Evaluated {
        if isSingleExpression, case .expression(let e) = parts[0] { return try e.evaluate(resolve) }
        var text = ""
        var sensitive = false
        for part in parts {
            switch part {
            case .text(let t): text += t
            case .expression(let e):
                switch try e.evaluate(resolve) {
                case .knownAfterApply: return .knownAfterApply
                case .value(let v, let s):
                    text += v.description
                    sensitive = sensitive || s
                }
            }
        }
        return .value(.string(text), sensitive: sensitive)
    }

    /// Parses `source`. Errors carry a message for a diagnostic.
    public static func parse(_ source: String) throws(ExpressionError) -> Template {
        var parts: [Part] = []
        var text = ""
        let scalars = Array(source.unicodeScalars)
        var i = 0
        while i < scalars.count {
            if scalars[i] == "$", i + 2 < scalars.count, scalars[i + 1] == "$", scalars[i + 2] == "{" {
                text += "${"
                i += 3
                continue
            }
            if scalars[i] == "$", i + 1 < scalars.count, scalars[i + 1] == "{" {
                guard let close = scalars[(i + 2)...].firstIndex(of: "}") else {
                    throw ExpressionError(message: "'${' without a closing '}'")
                }
                var inner = String.UnicodeScalarView()
                inner.append(contentsOf: scalars[(i + 2)..<close])
                if !text.isEmpty { parts.append(.text(text)); text = "" }
                parts.append(.expression(try ExpressionParser.parse(String(inner))))
                i = close + 1
                continue
            }
            text.unicodeScalars.append(scalars[i])
            i += 1
        }
        if !text.isEmpty || parts.isEmpty { parts.append(.text(text)) }
        return Template(parts: parts)
    }
}

/// Recursive-descent parser for the expression grammar:
/// `expr := term (('+'|'-') term)*`, `term := unary (('*'|'/') unary)*`,
/// `unary := '-' unary | primary`, `primary := number | "string" | reference | '(' expr ')'`.
enum ExpressionParser {
    enum Token: Equatable { case number(Double), string(String), name(String), dot, op(Character), open, close }

    /// The most tokens one `${...}` may hold, and how deep its parentheses and unary minuses
    /// may nest: the parser and evaluation recurse, so both are bounded.
    public static let maxTokens = 1_000
    public static let maxDepth = 64

    static func parse(_ source: String) throws(ExpressionError) -> Expression {
        let all = try tokenize(source)
        guard all.count <= maxTokens else {
            throw ExpressionError(message: "'${...}' holds \(all.count) tokens; at most \(maxTokens) are allowed (split it into variables)")
        }
        var tokens = all[...]
        guard !tokens.isEmpty else { throw ExpressionError(message: "empty '${}'") }
        var depth = 0
        let e = try expression(&tokens, depth: &depth)
        if let extra = tokens.first { throw ExpressionError(message: "unexpected \(describe(extra)) in '\(source)'") }
        return e
    }

    static func describe(_ t: Token) -> String {
        switch t {
        case .number(let n): return "number \(formatNumber(n))"
        case .string(let s): return "string \"\(s)\""
        case .name(let n): return "'\(n)'"
        case .dot: return "'.'"
        case .op(let c): return "'\(c)'"
        case .open: return "'('"
        case .close: return "')'"
        }
    }

    static func isNameChar(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }

    static func tokenize(_ source: String) throws(ExpressionError) -> [Token] {
        var tokens: [Token] = []
        let chars = Array(source)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { i += 1; continue }
            if c == "(" { tokens.append(.open); i += 1; continue }
            if c == ")" { tokens.append(.close); i += 1; continue }
            if c == "." { tokens.append(.dot); i += 1; continue }
            if "+-*/".contains(c) { tokens.append(.op(c)); i += 1; continue }
            if c == "\"" {
                var j = i + 1
                var s = ""
                while j < chars.count, chars[j] != "\"" { s.append(chars[j]); j += 1 }
                guard j < chars.count else { throw ExpressionError(message: "unterminated string in '\(source)'") }
                tokens.append(.string(s))
                i = j + 1
                continue
            }
            // A number starts a token only where a name could not continue (after '.', digits are a name: `variants.1`).
            if c.isNumber, tokens.last != .dot {
                var j = i
                while j < chars.count, chars[j].isNumber || chars[j] == "." { j += 1 }
                // An exponent: 1e300, 2.5E-3.
                if j < chars.count, chars[j] == "e" || chars[j] == "E" {
                    var k = j + 1
                    if k < chars.count, chars[k] == "+" || chars[k] == "-" { k += 1 }
                    if k < chars.count, chars[k].isNumber {
                        while k < chars.count, chars[k].isNumber { k += 1 }
                        j = k
                    }
                }
                guard let n = Double(String(chars[i..<j])) else { throw ExpressionError(message: "bad number '\(String(chars[i..<j]))'") }
                tokens.append(.number(n))
                i = j
                continue
            }
            if isNameChar(c) {
                var j = i
                while j < chars.count {
                    if isNameChar(chars[j]) { j += 1; continue }
                    // A hyphen between two name characters belongs to the name.
                    if chars[j] == "-", j + 1 < chars.count, isNameChar(chars[j + 1]), j > i { j += 1; continue }
                    break
                }
                tokens.append(.name(String(chars[i..<j])))
                i = j
                continue
            }
            throw ExpressionError(message: "unexpected character '\(c)' in '\(source)'")
        }
        return tokens
    }

    static func expression(_ t: inout ArraySlice<Token>, depth: inout Int) throws(ExpressionError) -> Expression {
        var lhs = try term(&t, depth: &depth)
        while let first = t.first, case .op(let c) = first, c == "+" || c == "-" {
            t.removeFirst()
            lhs = .binary(c == "+" ? .add : .subtract, lhs, try term(&t, depth: &depth))
        }
        return lhs
    }

    static func term(_ t: inout ArraySlice<Token>, depth: inout Int) throws(ExpressionError) -> Expression {
        var lhs = try unary(&t, depth: &depth)
        while let first = t.first, case .op(let c) = first, c == "*" || c == "/" {
            t.removeFirst()
            lhs = .binary(c == "*" ? .multiply : .divide, lhs, try unary(&t, depth: &depth))
        }
        return lhs
    }

    /// One level deeper (a parenthesis, a unary minus), or an error past `maxDepth`.
    static func deeper(_ depth: inout Int) throws(ExpressionError) {
        depth += 1
        guard depth <= maxDepth else {
            throw ExpressionError(message: "'${...}' nests deeper than \(maxDepth) levels of parentheses or signs")
        }
    }

    static func unary(_ t: inout ArraySlice<Token>, depth: inout Int) throws(ExpressionError) -> Expression {
        if t.first == .op("-") {
            t.removeFirst()
            try deeper(&depth)
            defer { depth -= 1 }
            return .negate(try unary(&t, depth: &depth))
        }
        return try primary(&t, depth: &depth)
    }

    static func primary(_ t: inout ArraySlice<Token>, depth: inout Int) throws(ExpressionError) -> Expression {
        guard let token = t.popFirst() else { throw ExpressionError(message: "expression ends too early") }
        switch token {
        case .number(let n): return .number(n)
        case .string(let s): return .string(s)
        case .open:
            try deeper(&depth)
            defer { depth -= 1 }
            let e = try expression(&t, depth: &depth)
            guard t.popFirst() == .close else { throw ExpressionError(message: "missing ')'") }
            return e
        case .name(let first):
            var path = [first]
            while t.first == .dot {
                t.removeFirst()
                guard case .name(let next)? = t.popFirst() else { throw ExpressionError(message: "a name must follow '.'") }
                path.append(next)
            }
            return .reference(path)
        default:
            throw ExpressionError(message: "unexpected \(describe(token))")
        }
    }
}
