import EnvironmentAPI
import Spec

/// Files for tests: any path ending in `.json` exists, and any `.py` without "missing" in its path, with a hash derived from its name.
struct FakeFiles: SpecFileSystem {
    var contents: [String: String] = [:]
    func sha256(ofFileAt absolutePath: String) -> String? {
        if let c = contents[absolutePath] { return SHA256.hex(of: c) }
        let exists = absolutePath.hasSuffix(".json") || (absolutePath.hasSuffix(".py") && !absolutePath.contains("missing"))
        return exists ? SHA256.hex(of: absolutePath) : nil
    }
    func isDirectory(_ absolutePath: String) -> Bool { absolutePath.hasSuffix("/") || absolutePath.hasSuffix("-models") }
}

func load(_ yaml: String, vars: [String: String] = [:], env: [String: String] = [:], files: FakeFiles = FakeFiles()) -> (Stack?, [Diagnostic]) {
    let (stack, d) = StackLoader.load([StackSource(path: "stack.yaml", absolutePath: "/w/stacks/stack.yaml", text: yaml)],
                                      variables: VariableInputs(assignments: vars, environment: env), files: files)
    return (stack, d.sorted)
}

let validHeader = """
stack: demo
models:
  m1: {runtime: linear, artifact: m1.json}
  m2: {runtime: linear, artifact: m2.json}

"""
