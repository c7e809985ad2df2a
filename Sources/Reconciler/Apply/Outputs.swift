import Spec

/// Evaluates a stack's outputs against the state an apply produced.
public enum Outputs {
    public static func evaluate(_ stack: Stack, state: StackState) -> [String: OutputValue] {
        var values: [String: OutputValue] = [:]
        for output in stack.outputs {
            let result = try? output.value.evaluate { path in resolve(path, stack: stack, state: state) }
            switch result {
            case .value(let v, let sensitive)?:
                let hidden = sensitive || output.sensitive
                // State never holds a secret, not even a hash of one (short secrets are guessable).
                values[output.name] = OutputValue(value: hidden ? nil : v.description, sensitive: hidden)
            case .knownAfterApply?, nil:
                values[output.name] = OutputValue(value: nil, sensitive: output.sensitive, knownAfterApply: true)
            }
        }
        return values
    }

    /// Resolves a reference from what the state recorded: resource attributes and outputs,
    /// environment attributes, variables.
    public static func resolve(_ path: [String], stack: Stack, state: StackState) -> Resolution {
        switch path.first {
        case "var":
            guard path.count == 2, let v = stack.variables[path[1]] else { return .undeclared(suggestion: nil) }
            return .value(v.value, sensitive: v.declaration.sensitive)
        case "stack": return .value(.string(stack.name), sensitive: false)
        case "environment":
            guard path.count == 2 else { return .undeclared(suggestion: nil) }
            if path[1] == "name" { return .value(.string(state.environment), sensitive: false) }
            if let v = state.environmentAttributes[path[1]] { return .value(.string(v), sensitive: false) }
            return .knownAfterApply
        default:
            guard path.count == 3, let kind = path.first.flatMap(ResourceKind.init(rawValue:)) else { return .undeclared(suggestion: nil) }
            guard let r = state.resource(ResourceAddress(kind, path[1])) else { return .knownAfterApply }
            if path[2] == "name" { return .value(.string(path[1]), sensitive: false) }
            if let v = r.outputs[path[2]] { return .value(.string(v), sensitive: false) }
            switch r.attributes[path[2]] {
            case .string(let s)?: return .value(.string(s), sensitive: false)
            case .number(let n)?: return .value(.number(n), sensitive: false)
            case .bool(let b)?: return .value(.bool(b), sensitive: false)
            case .sensitive?: return .value(.string("(sensitive value)"), sensitive: true)
            case nil: return .knownAfterApply
            }
        }
    }
}
