/// The values a number read from a stack may take. Every numeric read names one, with an upper
/// bound too: a value outside it is a located error at validate, never a number that traps a
/// conversion later (an integer overflow, a timer of 1e300 seconds) or reaches the host.
struct ValueRange: Sendable, Equatable {
    enum Bound: Sendable, Equatable {
        case inclusive(Double)
        case exclusive(Double)

        var value: Double {
            switch self {
            case .inclusive(let v), .exclusive(let v): return v
            }
        }
    }

    var lower: Bound
    var upper: Bound
    /// "s" for durations (values are seconds), "" for plain numbers.
    var unit = ""

    /// From `a` to `b`, both included.
    static func closed(_ a: Double, _ b: Double) -> ValueRange { ValueRange(lower: .inclusive(a), upper: .inclusive(b)) }
    /// Above 0, up to `b` included.
    static func positive(atMost b: Double) -> ValueRange { ValueRange(lower: .exclusive(0), upper: .inclusive(b)) }
    /// A duration in seconds from `a` to `b`, both included.
    static func seconds(_ a: Double, _ b: Double) -> ValueRange { ValueRange(lower: .inclusive(a), upper: .inclusive(b), unit: "s") }
    /// A duration above 0 s, up to `b` seconds included.
    static func positiveSeconds(atMost b: Double) -> ValueRange { ValueRange(lower: .exclusive(0), upper: .inclusive(b), unit: "s") }

    func contains(_ v: Double) -> Bool {
        guard v.isFinite else { return false }
        switch lower {
        case .inclusive(let a): if v < a { return false }
        case .exclusive(let a): if v <= a { return false }
        }
        switch upper {
        case .inclusive(let b): return v <= b
        case .exclusive(let b): return v < b
        }
    }

    func show(_ v: Double) -> String { unit == "s" ? formatDuration(v) : formatNumber(v) }

    /// "between 1 and 64", "above 0 and at most 15m".
    var description: String {
        switch (lower, upper) {
        case (.inclusive(let a), .inclusive(let b)): return "between \(show(a)) and \(show(b))"
        case (.exclusive(let a), .inclusive(let b)): return "above \(show(a)) and at most \(show(b))"
        case (.inclusive(let a), .exclusive(let b)): return "at least \(show(a)) and below \(show(b))"
        case (.exclusive(let a), .exclusive(let b)): return "above \(show(a)) and below \(show(b))"
        }
    }
}

extension NodeReader {
    /// A number, written plainly or as a single `${...}` that evaluates to one at plan time; it
    /// must be finite and in `range`.
    mutating func number(_ node: Node, what: @autoclosure () -> String, range: ValueRange) -> Double? {
        guard let (value, written) = rawNumber(node, what: what()) else { return nil }
        return checked(value, written: written, what: what(), range: range, at: location(node))
    }

    /// A whole number in `range`.
    mutating func integer(_ node: Node, what: @autoclosure () -> String, range: ClosedRange<Int>) -> Int? {
        guard let (value, written) = rawNumber(node, what: what()) else { return nil }
        guard value.isFinite else {
            error(.notFinite(what(), found: written, at: location(node)))
            return nil
        }
        guard value == value.rounded() else {
            error(.wrongType(what(), expected: "a whole number", found: formatNumber(value), at: location(node),
                             hint: "write a whole number, such as \(formatNumber(value.rounded(.down)))"))
            return nil
        }
        let r = ValueRange.closed(Double(range.lowerBound), Double(range.upperBound))
        guard r.contains(value) else {
            error(.outOfRange(what(), value: value, range: r, at: location(node)))
            return nil
        }
        return Int(value)
    }

    /// Seconds, written as a number or as "500ms", "30s", "2m", "1h" (or an expression giving
    /// either), finite and in `range`.
    mutating func duration(_ node: Node, what: @autoclosure () -> String, range: ValueRange) -> Double? {
        if case .scalar(let s) = node, s.style == .plain, node.float != nil || node.int != nil {
            return number(node, what: what(), range: range)
        }
        guard let text = string(node, what: what()) else { return nil }
        let trimmed = text.trimmed
        var seconds: Double?
        if let n = Self.plainNumber(trimmed) {
            seconds = n
        } else {
            for (suffix, factor) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0), ("d", 86_400.0)] where trimmed.hasSuffix(suffix) {
                if let n = Self.plainNumber(String(trimmed.dropLast(suffix.count))) { seconds = n * factor }
                break
            }
        }
        guard let seconds else {
            error(.wrongType(what(), expected: "a duration such as 30s or 2m", found: "'\(Diagnostic.printable(text))'", at: location(node),
                             hint: "write a number with a unit: ms, s, m, h or d"))
            return nil
        }
        return checked(seconds, written: text, what: what(), range: range, at: location(node))
    }

    /// Digits with an optional sign, point and exponent: what a duration's number may be (no
    /// `nan`, `inf` or hexadecimal, which `Double(_:)` would also take).
    static func plainNumber(_ text: String) -> Double? {
        guard !text.isEmpty, text.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || "+-.eE".unicodeScalars.contains($0) }) else { return nil }
        return Double(text)
    }

    private mutating func checked(_ value: Double, written: String, what: @autoclosure () -> String, range: ValueRange, at loc: SourceLocation?) -> Double? {
        guard value.isFinite else {
            error(.notFinite(what(), found: written, at: loc))
            return nil
        }
        guard range.contains(value) else {
            // A duration is shown as written: "1e300m" says more than "1.7e+298h".
            let shown = range.unit == "s" && !written.contains("${") && Self.plainNumber(written) == nil ? written : nil
            error(.outOfRange(what(), value: value, range: range, written: shown, at: loc))
            return nil
        }
        return value
    }

    /// The number a node holds, and how it was written (for messages); not yet checked.
    private mutating func rawNumber(_ node: Node, what: @autoclosure () -> String) -> (Double, String)? {
        guard case .scalar(let s) = node else {
            error(.wrongType(what(), expected: "a number", found: Self.describe(node), at: location(node)))
            return nil
        }
        if s.style == .plain, let d = node.float ?? node.int.map(Double.init) { return (d, s.string) }
        guard s.string.contains("${") else {
            error(.wrongType(what(), expected: "a number", found: Self.describe(node), at: location(node)))
            return nil
        }
        switch evaluate(s.string, at: location(node)) {
        case .value(.number, true)?:
            // Resource attributes appear in plans and state; only outputs may carry secrets.
            error(.sensitiveInResource(what(), at: location(node)))
        case .value(.number(let n), false)?: return (n, formatNumber(n))
        case .value(let v, _)?:
            error(.wrongType(what(), expected: "a number", found: v.typeName, at: location(node)))
        case .knownAfterApply?:
            error(.notKnownAtPlan(s.string, at: location(node)))
        case nil: break
        }
        return nil
    }
}

/// Seconds for messages: "100ms", "30s", "15m", "24h".
func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds > 0 else { return formatNumber(seconds) + "s" }
    if seconds >= 3600, (seconds / 3600).rounded() == seconds / 3600 { return formatNumber(seconds / 3600) + "h" }
    if seconds >= 60, (seconds / 60).rounded() == seconds / 60 { return formatNumber(seconds / 60) + "m" }
    if seconds < 1 { return formatNumber((seconds * 1000 * 1000).rounded() / 1000) + "ms" }
    return formatNumber(seconds) + "s"
}
