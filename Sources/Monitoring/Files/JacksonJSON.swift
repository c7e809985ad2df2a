import Events

/// JSON text as Model Monitor's analyzer writes it (Jackson's pretty printer: `"key" : value`,
/// two-space indents, `[ {` openings) with numbers in Java's `Double.toString` form (`0.0`,
/// `1.14E7`), so the files read like SageMaker's to people and parse the same for programs.
public enum JacksonJSON {
    public static func text(_ value: JSONValue) -> String {
        var out = ""
        write(value, indent: 0, into: &out)
        out += "\n"
        return out
    }

    static func write(_ value: JSONValue, indent: Int, into out: inout String) {
        switch value {
        case .object(let members):
            if members.isEmpty { out += "{ }"; return }
            out += "{\n"
            for (i, m) in members.enumerated() {
                out += String(repeating: "  ", count: indent + 1)
                JSONValue.writeString(m.key, into: &out)
                out += " : "
                write(m.value, indent: indent + 1, into: &out)
                out += i == members.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: "  ", count: indent) + "}"
        case .array(let items):
            if items.isEmpty { out += "[ ]"; return }
            out += "[ "
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                write(item, indent: indent, into: &out)
            }
            out += " ]"
        default:
            value.write(into: &out)
        }
    }

    /// A double as JSON: Java's `Double.toString` (scientific below 1e-3 and from 1e7), and
    /// `"NaN"` / `"Infinity"` as strings, as the analyzer writes them.
    public static func double(_ x: Double) -> JSONValue {
        guard x.isFinite else { return .string(x.isNaN ? "NaN" : x > 0 ? "Infinity" : "-Infinity") }
        return .number(x, text: javaDouble(x))
    }

    /// A count written as a whole number (`item_count`, `num_present`).
    public static func integer(_ n: Int) -> JSONValue { .number(n) }

    static func javaDouble(_ x: Double) -> String {
        if x == 0 { return x.sign == .minus ? "-0.0" : "0.0" }
        // The shortest digits that read back as x, from Swift's own shortest representation.
        let (negative, digits, exponent) = shortestDigits(x)
        var s = negative ? "-" : ""
        let magnitude = abs(x)
        if magnitude >= 1e-3 && magnitude < 1e7 {
            // exponent: the position of the decimal point after the first digit (d.ddd × 10^exponent).
            if exponent >= 0 {
                let whole = digits.count > exponent + 1 ? String(digits.prefix(exponent + 1)) : digits + String(repeating: "0", count: exponent + 1 - digits.count)
                let fraction = digits.count > exponent + 1 ? String(digits.dropFirst(exponent + 1)) : "0"
                s += whole + "." + fraction
            } else {
                s += "0." + String(repeating: "0", count: -exponent - 1) + digits
            }
            return s
        }
        let first = digits.prefix(1)
        let rest = digits.count > 1 ? String(digits.dropFirst()) : "0"
        return s + first + "." + rest + "E" + String(exponent)
    }

    /// Sign, significant digits (no trailing zeros) and decimal exponent of x's shortest form.
    static func shortestDigits(_ x: Double) -> (Bool, String, Int) {
        var text = "\(abs(x))"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = String(parts[0])
        let fracPart = parts.count > 1 ? String(parts[1]) : ""
        var all = intPart + fracPart
        // The decimal point sits after intPart.count digits.
        var pointAfter = intPart.count + exponent
        while all.hasPrefix("0") && all.count > 1 {
            all.removeFirst()
            pointAfter -= 1
        }
        while all.hasSuffix("0") && all.count > 1 { all.removeLast() }
        return (x < 0, all, pointAfter - 1)
    }
}
