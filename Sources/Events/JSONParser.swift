/// Why a JSON text does not parse, worded as EventBridge's parser words it (its reasons are what
/// a user searching for the message will find), with the byte offset.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public var description: String { message }
}

/// A strict JSON parser over UTF-8 bytes (RFC 8259): no comments, no trailing commas, nesting
/// bounded so that no input can exhaust the stack.
public struct JSONParser {
    public static let maxDepth = 200

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        let bytes = Array(text.utf8)
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBufferPointer { b in
            do throws(JSONParseError) { return .success(try parse(b)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        var p = JSONParser(bytes: bytes)
        p.skipSpace()
        let value = try p.value(depth: 0)
        p.skipSpace()
        if p.i < p.bytes.count {
            throw p.fail("Unexpected character (\(p.describe(p.bytes[p.i]))): expected end of input")
        }
        return value
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var i = 0

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private func fail(_ message: String) -> JSONParseError { JSONParseError(message: message, offset: i) }

    private func describe(_ b: UInt8) -> String {
        let c = b < 0x80 ? String(UnicodeScalar(b)) : "?"
        return "'\(c)' (code \(b))"
    }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    private static let expecting = "was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"

    private mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        guard i < bytes.count else { throw fail("Unexpected end-of-input: expected a value") }
        guard depth < Self.maxDepth else { throw fail("JSON nested deeper than \(Self.maxDepth) levels") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default:
            let token = word()
            switch token {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "null": return .null
            case "": throw fail("Unexpected character (\(describe(bytes[i]))): \(Self.expecting)")
            default: throw fail("Unrecognized token '\(token)': \(Self.expecting)")
            }
        }
    }

    /// A run of letters, digits and '_' (what an unquoted token is reported as).
    private mutating func word() -> String {
        let start = i
        while i < bytes.count {
            let b = bytes[i]
            let alnum = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b >= 0x80
            guard alnum else { break }
            i += 1
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
    }

    private mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
        i += 1
        var members: [JSONValue.Member] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard i < bytes.count else { throw fail("Unexpected end-of-input: expected a field name") }
            guard bytes[i] == UInt8(ascii: "\"") else {
                throw fail("Unexpected character (\(describe(bytes[i]))): was expecting double-quote to start field name")
            }
            let key = try string()
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else {
                throw fail(i < bytes.count ? "Unexpected character (\(describe(bytes[i]))): was expecting a colon to separate field name and value"
                                           : "Unexpected end-of-input: expected a colon")
            }
            i += 1
            skipSpace()
            members.append(JSONValue.Member(key, try value(depth: depth + 1)))
            skipSpace()
            guard i < bytes.count else { throw fail("Unexpected end-of-input: expected close marker for Object") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            throw fail("Unexpected character (\(describe(bytes[i]))): was expecting comma to separate Object entries")
        }
    }

    private mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
        i += 1
        var items: [JSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
            return .array(items)
        }
        while true {
            skipSpace()
            items.append(try value(depth: depth + 1))
            skipSpace()
            guard i < bytes.count else { throw fail("Unexpected end-of-input: expected close marker for Array") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw fail("Unexpected character (\(describe(bytes[i]))): was expecting comma to separate Array entries")
        }
    }

    private mutating func number() throws(JSONParseError) -> JSONValue {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        func digits() -> Int {
            let s = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            return i - s
        }
        let intStart = i
        let intDigits = digits()
        guard intDigits > 0 else { throw fail("Unexpected character: expected a digit for a number") }
        if intDigits > 1, bytes[intStart] == UInt8(ascii: "0") { throw fail("Invalid numeric value: leading zeroes not allowed") }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { throw fail("Unexpected character: decimal point must be followed by a digit") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw fail("Unexpected character: exponent must have a digit") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        guard let n = Double(text), n.isFinite else { throw fail("Numeric value (\(text)) out of range") }
        return .number(n, text: text)
    }

    private mutating func string() throws(JSONParseError) -> String {
        i += 1
        let start = i
        // The common case: no escapes; one copy of the bytes.
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            guard b >= 0x20 else { throw fail("Illegal unquoted character (CTRL-CHAR, code \(b)): has to be escaped using backslash to be included in string value") }
            i += 1
        }
        var out = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<i]))
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            guard b >= 0x20 else { throw fail("Illegal unquoted character (CTRL-CHAR, code \(b)): has to be escaped using backslash to be included in string value") }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                i += 1
                continue
            }
            i += 1
            guard i < bytes.count else { break }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw fail("Unexpected end of surrogate pair in a string")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("Invalid low surrogate in a string") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw fail("Invalid escape \\u\(String(code, radix: 16)) in a string") }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw fail("Unrecognized character escape \(describe(e))")
            }
        }
        throw fail("Unexpected end-of-input: was expecting closing quote for a string value")
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("Unexpected end-of-input in a \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[i]
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            default: throw fail("Unexpected character (\(describe(b))): expected a hex-digit for character escape sequence")
            }
            v = v * 16 + d
            i += 1
        }
        return v
    }
}
