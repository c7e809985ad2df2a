extension StackLoader {
    /// Variable declarations from every file, each one's value decided as it is read, by
    /// precedence: `--var`, `--var-file`, `from_env`, `default`. Returns the declarations left
    /// without a usable value (already reported) and the variables with one. One pass and one
    /// table: a stack of 240,000 variables keeps no second copy of them.
    static func readVariables(_ parsed: [(StackSource, Keys)], inputs: VariableInputs,
                              into diagnostics: inout Diagnostics) -> ([String: VariableDeclaration], [String: ResolvedVariable]) {
        var variables: [String: ResolvedVariable] = [:]
        var unset: [String: VariableDeclaration] = [:]
        for (source, keys) in parsed {
            guard let section = keys["variables"] else { continue }
            var reader = NodeReader(file: source.path)
            guard case .mapping(let m) = section.value else {
                _ = reader.mapping(section.value, what: "'variables'")
                diagnostics.append(contentsOf: reader.diagnostics)
                continue
            }
            variables.reserveCapacity(variables.count + m.count)
            for pair in m {
                guard case .scalar(let k) = pair.key else {
                    reader.error(.wrongType("a key in 'variables'", expected: "a string", found: NodeReader.describe(pair.key), at: reader.location(pair.key)))
                    continue
                }
                let name = k.string
                let keyLocation = reader.location(pair.key)
                if let existing = variables[name]?.declaration ?? unset[name] {
                    reader.error(.duplicateResource("var.\(name)", first: existing.location, at: keyLocation))
                    continue
                }
                guard var d = VariableDeclaration.read(name: name, node: pair.value, reader: &reader) else { continue }
                d.location = keyLocation
                var text: String?, at: SourceLocation? = d.location
                if let v = inputs.assignments[name] { text = v }
                else if let (v, loc) = inputs.fileValues[name] { text = v; at = loc ?? at }
                else if let env = d.fromEnv, let v = inputs.environment[env] { text = v }
                if let text {
                    if let value = d.convert(text) {
                        variables[name] = ResolvedVariable(declaration: d, value: value)
                    } else {
                        reader.error(.variableBadValue(name, type: d.type.rawValue, value: d.sensitive ? "(sensitive)" : Diagnostic.printable(text), at: at))
                        unset[name] = d
                    }
                } else if let value = d.defaultValue {
                    variables[name] = ResolvedVariable(declaration: d, value: value)
                } else {
                    reader.error(.variableMissing(name, fromEnv: d.fromEnv, at: d.location))
                    unset[name] = d
                }
            }
            diagnostics.append(contentsOf: reader.diagnostics)
        }
        for given in Set(inputs.assignments.keys).union(inputs.fileValues.keys).sorted() where variables[given] == nil && unset[given] == nil {
            diagnostics.append(.variableUndeclared(given, suggestion: suggestion(for: given, among: Array(variables.keys) + Array(unset.keys))))
        }
        return (unset, variables)
    }

    /// Outputs: parsed now, evaluated after apply; every reference must resolve.
    static func readOutputs(_ parsed: [(StackSource, Keys)], resolve: @escaping ([String]) -> Resolution,
                            into diagnostics: inout Diagnostics) -> [Output] {
        var outputs: [Output] = []
        var locations: [String: SourceLocation?] = [:]
        for (source, keys) in parsed {
            guard let section = keys["outputs"] else { continue }
            var reader = NodeReader(file: source.path, resolve: resolve)
            for entry in reader.mapping(section.value, what: "'outputs'") ?? [] {
                if let first = locations[entry.key] {
                    reader.error(.duplicateResource("outputs.\(entry.key)", first: first, at: entry.keyLocation))
                    continue
                }
                locations[entry.key] = entry.keyLocation
                if let o = readOutput(name: entry.key, node: entry.value, reader: &reader) { outputs.append(o) }
            }
            diagnostics.append(contentsOf: reader.diagnostics)
        }
        return outputs
    }

    static func readOutput(name: String, node: Node, reader: inout NodeReader) -> Output? {
        var valueNode = node
        var description: String?
        var declaredSensitive = false
        if case .mapping = node {
            guard let keys = reader.keys(node, allowed: ["value", "description", "sensitive"], context: "output '\(name)'"),
                  let v = reader.require(keys, "value", hint: "add 'value: ${endpoints.NAME.url}'") else { return nil }
            valueNode = v.value
            if let d = keys["description"] { description = reader.literalString(d.value, what: "'description' of output '\(name)'") }
            if let s = keys["sensitive"] { declaredSensitive = reader.bool(s.value, what: "'sensitive' of output '\(name)'") ?? false }
        }
        guard let text = reader.literalString(valueNode, what: "output '\(name)'") else { return nil }
        do {
            let template = try Template.parse(text)
            var sensitive = declaredSensitive
            switch try template.evaluate(reader.resolve) {
            case .value(_, let s): sensitive = sensitive || s
            case .knownAfterApply:
                // Still check every reference, and whether a sensitive variable feeds it.
                for ref in template.references {
                    if case .value(_, true) = reader.resolve(ref) { sensitive = true }
                }
            }
            return Output(name: name, value: template, description: description, sensitive: sensitive, location: reader.location(valueNode))
        } catch {
            if let ref = error.reference {
                reader.error(.unknownReference(ref, suggestion: error.suggestion, at: reader.location(valueNode)))
            } else {
                reader.error(.expression(error.message, at: reader.location(valueNode)))
            }
            return nil
        }
    }
}
