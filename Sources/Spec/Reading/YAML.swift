import CYaml

/// A YAML node as the stack reader needs it: scalars with their text, style and position,
/// mappings as ordered pairs, sequences. Composed from libyaml's events by `YAMLComposer`, which
/// is iterative (no recursion, so no nesting depth can exhaust the stack), keeps nothing per node
/// but what the reader uses (a 10 MB stack stays lean), and reports a duplicate key where it is
/// written again. (libyaml is the C library Yams builds; its module is visible to Yams' users.)
enum Node {
    case scalar(Scalar)
    case mapping(Mapping)
    case sequence(Items)
    /// `*name`: aliases are not read (the reader says so where one is used).
    case alias(Mark)

    /// 1-based line and column (in Unicode scalars), as editors count them.
    struct Mark: Equatable {
        var line: Int
        var column: Int
    }

    struct Scalar {
        enum Style: Equatable { case plain, singleQuoted, doubleQuoted, literal, folded }
        var string: String
        var style: Style
        var mark: Mark
    }

    struct Mapping: Sequence {
        var pairs: [(key: Node, value: Node)]
        var mark: Mark
        var count: Int { pairs.count }
        func makeIterator() -> IndexingIterator<[(key: Node, value: Node)]> { pairs.makeIterator() }
    }

    struct Items: RandomAccessCollection {
        var items: [Node]
        var mark: Mark
        var startIndex: Int { 0 }
        var endIndex: Int { items.count }
        subscript(i: Int) -> Node { items[i] }
    }

    var mark: Mark? {
        switch self {
        case .scalar(let s): return s.mark
        case .mapping(let m): return m.mark
        case .sequence(let s): return s.mark
        case .alias(let m): return m
        }
    }

    /// How many pairs a mapping has.
    var mappingCount: Int? { if case .mapping(let m) = self { return m.count } else { return nil } }

    private var plain: String? {
        if case .scalar(let s) = self, s.style == .plain { return s.string }
        return nil
    }

    /// A plain `null`, `~` or nothing (YAML's core schema).
    var null: Void? {
        switch plain {
        case ""?, "~"?, "null"?, "Null"?, "NULL"?: return ()
        default: return nil
        }
    }

    /// `true`/`false` (and YAML 1.1's yes/no/on/off), in any case.
    var bool: Bool? {
        guard case .scalar(let s) = self else { return nil }
        switch s.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: return nil
        }
    }

    /// A plain whole number: decimal, or 0x, 0o, 0b and 0-prefixed octal; `_` separates digits.
    var int: Int? {
        guard var text = plain, !text.isEmpty else { return nil }
        if text.contains("_") { text.removeAll { $0 == "_" } }
        if text == "0" { return 0 }
        let negative = text.hasPrefix("-")
        let body = negative || text.hasPrefix("+") ? String(text.dropFirst()) : text
        let sign = negative ? "-" : ""
        for (prefix, radix) in [("0x", 16), ("0b", 2), ("0o", 8), ("0", 8)] where body.hasPrefix(prefix) {
            return Int(sign + body.dropFirst(prefix.count), radix: radix)
        }
        return Int(sign + body)
    }

    /// A plain number: digits with an optional sign, point and exponent, or `.inf`, `-.inf`, `.nan`.
    var float: Double? {
        guard var text = plain, !text.isEmpty else { return nil }
        switch text.lowercased() {
        case ".inf", "+.inf": return .infinity
        case "-.inf": return -.infinity
        case ".nan": return .nan
        default: break
        }
        if text.contains("_") { text.removeAll { $0 == "_" } }
        // Not Double's own grammar, which also takes "nan", "inf" and hexadecimal.
        guard text.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || "+-.eE".unicodeScalars.contains($0) }),
              text.unicodeScalars.contains(where: { ("0"..."9").contains($0) }) else { return nil }
        return Double(text)
    }
}

/// Builds a `Node` tree from a YAML text with libyaml's parser, one event at a time.
enum YAMLComposer {
    /// How deep collections may nest; a stack needs a handful of levels.
    static let maxDepth = 200

    /// A collection being built. A class, so that appending to it never copies what it holds
    /// (an enum payload taken out and put back would copy its array: quadratic for big mappings).
    private final class Frame {
        let isMapping: Bool
        let mark: Node.Mark
        var pairs: [(key: Node, value: Node)] = []
        var items: [Node] = []
        var key: Node?

        init(isMapping: Bool, mark: Node.Mark) {
            self.isMapping = isMapping
            self.mark = mark
        }

        var node: Node {
            isMapping ? .mapping(Node.Mapping(pairs: pairs, mark: mark)) : .sequence(Node.Items(items: items, mark: mark))
        }
    }

    /// The document's root (nil for an empty document), or the one error that stopped reading.
    static func compose(_ text: String, file: String) -> (root: Node?, error: Diagnostic?) {
        let original = text
        var text = text
        if text.isEmpty { return (nil, nil) }
        // The string's own UTF-8 storage, not a copy (a 10 MB stack would double).
        return text.withUTF8 { buffer in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else {
                return (nil, .yamlSyntax("the YAML parser could not start", at: SourceLocation(file: file, line: 1, column: 1)))
            }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            func at(_ m: Node.Mark) -> SourceLocation { SourceLocation(file: file, line: m.line, column: m.column) }
            var stack: [Frame] = []
            var root: Node?
            var documents = 0
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return (nil, failure(&parser, file: file, text: original)) }
                defer { yaml_event_delete(&event) }
                let start = Node.Mark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
                var node: Node?
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return (root, nil)
                case YAML_DOCUMENT_START_EVENT:
                    documents += 1
                    if documents > 1 {
                        return (nil, Diagnostic(at: at(start), "invalid YAML: a stack file holds one document; another starts here",
                                                hint: "remove this '---', or move the second document into a file of its own"))
                    }
                case YAML_SCALAR_EVENT:
                    let s = event.data.scalar
                    let string = s.length == 0 ? "" : String(decoding: UnsafeBufferPointer(start: s.value, count: Int(s.length)), as: UTF8.self)
                    var style: Node.Scalar.Style
                    switch s.style {
                    case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
                    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
                    case YAML_LITERAL_SCALAR_STYLE: style = .literal
                    case YAML_FOLDED_SCALAR_STYLE: style = .folded
                    default: style = .plain
                    }
                    // An explicit tag (`!!str 10`) makes the scalar text, as quotes do.
                    if style == .plain, s.tag != nil { style = .singleQuoted }
                    node = .scalar(Node.Scalar(string: string, style: style, mark: start))
                case YAML_ALIAS_EVENT:
                    node = .alias(start)
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    guard stack.count < maxDepth else {
                        return (nil, Diagnostic(at: at(start), "invalid YAML: the file nests deeper than \(maxDepth) levels",
                                                hint: "a stack needs a few levels; check for runaway brackets or indentation"))
                    }
                    stack.append(Frame(isMapping: event.type == YAML_MAPPING_START_EVENT, mark: start))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    let frame = stack.removeLast()
                    if frame.isMapping, let (second, first) = duplicate(in: frame.pairs) {
                        return (nil, Diagnostic(at: at(second.mark), "duplicate key '\(Diagnostic.printable(second.string))' in one mapping, first at \(at(first))",
                                                hint: "remove or rename one of them (YAML gives neither of them precedence)"))
                    }
                    node = frame.node
                default:
                    break
                }
                guard let node else { continue }
                guard let top = stack.last else {
                    root = node
                    continue
                }
                if !top.isMapping {
                    top.items.append(node)
                } else if let key = top.key {
                    top.pairs.append((key, node))
                    top.key = nil
                } else {
                    top.key = node
                }
            }
        }
    }

    /// The first key written a second time, and where it was first: compared in order for a
    /// small mapping, through a table sized once for a large one.
    private static func duplicate(in pairs: [(key: Node, value: Node)]) -> (Node.Scalar, Node.Mark)? {
        if pairs.count <= 12 {
            for (i, pair) in pairs.enumerated() {
                guard case .scalar(let k) = pair.key else { continue }
                for earlier in pairs[..<i] {
                    if case .scalar(let e) = earlier.key, e.string == k.string { return (k, e.mark) }
                }
            }
            return nil
        }
        var seen: [String: Node.Mark] = [:]
        seen.reserveCapacity(pairs.count)
        for pair in pairs {
            guard case .scalar(let k) = pair.key else { continue }
            if let first = seen.updateValue(k.mark, forKey: k.string) { return (k, first) }
        }
        return nil
    }

    /// The parser's error where it is: an unclosed quote or collection where it opened, a control
    /// character at its line and column (never echoed raw).
    private static func failure(_ parser: inout yaml_parser_t, file: String, text: String) -> Diagnostic {
        func string(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }
        func at(_ m: yaml_mark_t) -> SourceLocation { SourceLocation(file: file, line: Int(m.line) + 1, column: Int(m.column) + 1) }
        let problem = string(parser.problem)
        switch parser.error {
        case YAML_READER_ERROR:
            let loc = StackLoader.location(ofByte: Int(parser.problem_offset), in: text, file: file)
            let value = Int(parser.problem_value)
            let what = value >= 0 ? "character U+\(String(format4: value))" : "a character"
            return Diagnostic(at: loc, "invalid YAML: \(what) is not allowed (\(Diagnostic.printable(problem)))",
                              hint: "remove it; inside double quotes write it as an escape such as \\u0001")
        default:
            let mark = at(parser.problem_mark)
            if problem.hasPrefix("Maximum nesting level") {
                return Diagnostic(at: mark, "invalid YAML: the file nests deeper than \(maxDepth) levels",
                                  hint: "a stack needs a few levels; check for runaway brackets or indentation")
            }
            let context = string(parser.context)
            guard !context.isEmpty else { return .yamlSyntax(Diagnostic.printable(problem), at: mark) }
            let opened = context.hasPrefix("while ") ? String(context.dropFirst(6)) : context
            return Diagnostic(at: at(parser.context_mark),
                              "invalid YAML: \(Diagnostic.printable(problem)) (\(opened) that starts here, found at \(mark.line):\(mark.column))",
                              hint: "close the quote or bracket that starts here, or check the indentation up to \(mark.line):\(mark.column)")
        }
    }
}
