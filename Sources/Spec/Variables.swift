/// A declared input of the stack.
public struct VariableDeclaration: Sendable, Equatable, Codable {
    public enum VariableType: String, Sendable, Codable, CaseIterable { case string, number, bool }

    public var name: String
    public var type: VariableType
    public var defaultValue: Value?
    public var description: String?
    /// A sensitive value never appears in plan output, state or logs.
    public var sensitive: Bool
    /// Read the value from this environment variable when no `--var` sets it.
    public var fromEnv: String?
    public var location: SourceLocation?
}

/// Where variable values come from, highest precedence first: `--var`, `--var-file`, `from_env`, `default`.
public struct VariableInputs: Sendable, Equatable {
    public var assignments: [String: String]
    /// Values from `--var-file` files, already parsed: name to (value text, where).
    public var fileValues: [String: (String, SourceLocation?)]
    public var environment: [String: String]

    public init(assignments: [String: String] = [:], fileValues: [String: (String, SourceLocation?)] = [:], environment: [String: String] = [:]) {
        self.assignments = assignments
        self.fileValues = fileValues
        self.environment = environment
    }

    public static func == (a: VariableInputs, b: VariableInputs) -> Bool {
        a.assignments == b.assignments && a.environment == b.environment
            && a.fileValues.mapValues(\.0) == b.fileValues.mapValues(\.0)
    }

    /// Parses a `--var-file` (YAML or JSON mapping of name to scalar) and adds its values.
    public mutating func addVariableFile(path: String, text: String, into diagnostics: inout Diagnostics) {
        var reader = NodeReader(file: path)
        let (root, problem) = YAMLComposer.compose(text, file: path)
        if let problem { diagnostics.append(problem) }
        if let node = root {
            for entry in reader.mapping(node, what: "a variable file") ?? [] {
                if let value = reader.literalString(entry.value, what: "variable '\(entry.key)'") {
                    fileValues[entry.key] = (value, entry.keyLocation)
                }
            }
        }
        diagnostics.append(contentsOf: reader.diagnostics)
    }
}

extension VariableDeclaration {
    /// Converts text given on the command line or in a file to this variable's type.
    func convert(_ text: String) -> Value? {
        switch type {
        case .string: return .string(text)
        case .number: return Double(text.trimmed).map(Value.number)
        case .bool:
            switch text.lowercased() {
            case "true", "yes", "1": return .bool(true)
            case "false", "no", "0": return .bool(false)
            default: return nil
            }
        }
    }

    static let keys = ["type", "default", "description", "sensitive", "from_env"]

    static func read(name: String, node: Node, reader: inout NodeReader) -> VariableDeclaration? {
        let context = "variable '\(name)'"
        // Stacks with hundreds of thousands of variables: a mapping whose keys are all known is
        // read without building the general key table (and its messages).
        var keys: Keys?
        if case .mapping(let m) = node {
            var known: [Entry] = []
            known.reserveCapacity(m.count)
            for pair in m.pairs {
                guard case .scalar(let k) = pair.key, Self.keys.contains(k.string) else { known = []; break }
                known.append(Entry(key: k.string, keyLocation: nil, value: pair.value))
            }
            if known.count == m.count { keys = Keys(context: context, location: reader.location(node), known: known) }
        }
        if keys == nil { keys = reader.keys(node, allowed: Self.keys, context: context) }
        guard let keys else { return nil }
        var declaration = VariableDeclaration(name: name, type: .string, defaultValue: nil, description: nil,
                                              sensitive: false, fromEnv: nil, location: reader.location(node))
        if let t = keys["type"] {
            let text = reader.literalString(t.value, what: "'type' of \(context)") ?? "string"
            if let type = VariableType(rawValue: text) {
                declaration.type = type
            } else {
                reader.error(Diagnostic(at: reader.location(t.value), "unknown variable type '\(Diagnostic.printable(text))'",
                                        hint: suggestion(for: text, among: VariableType.allCases.map(\.rawValue)).map { "did you mean '\($0)'?" }
                                            ?? "use one of: string, number, bool"))
            }
        }
        if let d = keys["description"] { declaration.description = reader.literalString(d.value, what: "'description' of \(context)") }
        if let s = keys["sensitive"] { declaration.sensitive = reader.bool(s.value, what: "'sensitive' of \(context)") ?? false }
        if let e = keys["from_env"] { declaration.fromEnv = reader.literalString(e.value, what: "'from_env' of \(context)") }
        if let d = keys["default"] {
            if let text = reader.literalString(d.value, what: "'default' of \(context)") {
                if let value = declaration.convert(text) {
                    declaration.defaultValue = value
                } else {
                    reader.error(.variableBadValue(name, type: declaration.type.rawValue, value: text, at: reader.location(d.value)))
                }
            }
        }
        return declaration
    }
}

/// A variable with its value decided.
public struct ResolvedVariable: Sendable, Equatable {
    public var declaration: VariableDeclaration
    public var value: Value
}
