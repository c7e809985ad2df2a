extension StackLoader {
    /// The largest stack file read, bytes.
    public static let maxFileBytes = 16 * 1_048_576
    /// The most resources one stack may declare.
    public static let maxResources = 100_000

    /// 1-based line and column (in Unicode scalars) of the byte at `offset`.
    static func location(ofByte offset: Int, in text: String, file: String) -> SourceLocation {
        var line = 1, column = 1, consumed = 0
        for scalar in text.unicodeScalars {
            if consumed >= offset { break }
            consumed += String(scalar).utf8.count
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return SourceLocation(file: file, line: line, column: column)
    }

    /// The file as UTF-8 text, or where its first byte that is not UTF-8 is. A stack is never
    /// repaired silently: a replaced byte would change a name or a value.
    public static func decode(_ bytes: [UInt8], path: String, absolutePath: String) -> (source: StackSource?, problem: Diagnostic?) {
        guard bytes.count <= maxFileBytes else {
            return (nil, Diagnostic(at: SourceLocation(file: path, line: 1, column: 1),
                                       "stack file is \(bytes.count / 1_048_576) MB, more than the \(maxFileBytes / 1_048_576) MB a stack file may have",
                                       hint: "split the stack into a folder of files, or move data out of it"))
        }
        if let text = String(validating: bytes, as: UTF8.self) {
            return (StackSource(path: path, absolutePath: absolutePath, text: text), nil)
        }
        // The longest valid prefix: where the first bad byte is.
        var good = 0
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let s): good += String(s).utf8.count
            case .emptyInput, .error: break loop
            }
        }
        let prefix = String(decoding: bytes[..<good], as: UTF8.self)
        let loc = location(ofByte: good, in: prefix + " ", file: path)
        let byte = good < bytes.count ? bytes[good] : 0
        return (nil, Diagnostic(at: loc, "stack file is not UTF-8: byte 0x\(String(byte, radix: 16, uppercase: true)) here is not part of a UTF-8 character",
                                   hint: "save the file as UTF-8 (for example: iconv -f latin1 -t utf-8)"))
    }
}

extension String {
    /// Four hex digits, upper case: "00E9".
    init(format4 value: Int) {
        let hex = String(value, radix: 16, uppercase: true)
        self = String(repeating: "0", count: Swift.max(0, 4 - hex.count)) + hex
    }
}
