import Yams

extension StackLoader {
    /// The largest stack file read, bytes.
    public static let maxFileBytes = 16 * 1_048_576
    /// The most resources one stack may declare.
    public static let maxResources = 100_000

    /// A YAML error where it is: an unclosed quote or collection where it opened, a control
    /// character at its line and column (never echoed raw), a duplicate key at its second
    /// occurrence, naming the first.
    static func yamlDiagnostic(_ error: YamlError, file: String, text: String) -> Diagnostic {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            if problem.hasPrefix("Maximum nesting level reached") {
                return Diagnostic(at: at(mark), "invalid YAML: the file nests deeper than 1000 levels",
                                  hint: "a stack needs a few levels; check for runaway brackets or indentation")
            }
            guard let context, context.mark.line > 0 else { return .yamlSyntax(Diagnostic.printable(problem), at: at(mark)) }
            // The construct that is not closed, where it opened; the place the parser gave up too.
            let opened = context.text.hasPrefix("while ") ? String(context.text.dropFirst(6)) : context.text
            return Diagnostic(at: at(context.mark), "invalid YAML: \(Diagnostic.printable(problem)) (\(opened) that starts here, found at \(mark.line):\(mark.column))",
                              hint: "close the quote or bracket that starts here, or check the indentation up to \(mark.line):\(mark.column)")
        case .reader(let problem, let offset, let value, _):
            let loc = offset.map { location(ofByte: $0, in: text, file: file) } ?? SourceLocation(file: file, line: 1, column: 1)
            let what = value >= 0 ? "character U+\(String(format4: Int(value)))" : "a character"
            return Diagnostic(at: loc, "invalid YAML: \(what) is not allowed (\(Diagnostic.printable(problem)))",
                              hint: "remove it; inside double quotes write it as an escape such as \\u0001")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? ""
            let first = at(context.mark)
            let second = secondOccurrence(of: key, after: context.mark, in: text).map { SourceLocation(file: file, line: $0.line, column: $0.column) }
            return Diagnostic(at: second ?? first, "duplicate key '\(Diagnostic.printable(key))' in one mapping"
                                  + (second != nil ? ", first at \(first)" : ""),
                              hint: "remove or rename one of them (YAML keeps no order of precedence between duplicates)")
        default:
            return .yamlSyntax(Diagnostic.printable("\(error)"), at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

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

    /// Where `key` is written again as a key after its first occurrence at `first`: the same
    /// column in a block mapping, or after `{` or `,` in a flow one.
    static func secondOccurrence(of key: String, after first: Mark, in text: String) -> (line: Int, column: Int)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line >= 1, first.line <= lines.count else { return nil }
        let quotedForms = [key, "\"\(key)\"", "'\(key)'"]
        for (i, line) in lines.enumerated() where i + 1 >= first.line {
            let scalars = Array(line.unicodeScalars)
            var column = 0
            while column < scalars.count {
                let startsKey = column == 0 || scalars[column - 1] == " " || scalars[column - 1] == "{" || scalars[column - 1] == ","
                if startsKey, !(i + 1 == first.line && column + 1 <= first.column) {
                    let rest = String(String.UnicodeScalarView(scalars[column...]))
                    for form in quotedForms where rest.hasPrefix(form) {
                        let after = rest.dropFirst(form.count).drop { $0 == " " }
                        if after.first == ":" && (i + 1 > first.line || column + 1 > first.column) {
                            let blockColumn = column + 1 == first.column || !line.prefix(column).allSatisfy({ $0 == " " })
                            if blockColumn { return (i + 1, column + 1) }
                        }
                    }
                }
                column += 1
            }
        }
        return nil
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
