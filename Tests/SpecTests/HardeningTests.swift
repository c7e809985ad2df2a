import EnvironmentAPI
import Spec
import Testing

/// Bad input, class by class: each is one located error, with the position of what is wrong and
/// never a raw control byte in the message.
struct HardeningCase: CustomTestStringConvertible, Sendable {
    var name: String
    var yaml: String
    /// "line:column: fragment" of the one expected error.
    var expected: String
    var testDescription: String { name }
}

let hardeningCases: [HardeningCase] = [
    .init(name: "an unclosed quote is reported where it opens", yaml: "stack: demo\nmodels:\n  m: {runtime: \"linear, artifact: m.json}\n",
          expected: "3:16: invalid YAML: found unexpected end of stream (scanning a quoted scalar that starts here, found at 4:1)"),
    .init(name: "an unclosed flow sequence is reported where it opens", yaml: "stack: demo\nmodels:\n  m: [linear, artifact\n",
          expected: "3:6: invalid YAML: did not find expected ',' or ']' (parsing a flow sequence that starts here"),
    .init(name: "a control character at its position", yaml: "stack: demo\ndescription: a\u{1}b\n",
          expected: "2:15: invalid YAML: character U+0001 is not allowed"),
    .init(name: "a NUL byte at its position", yaml: "stack: demo\ndescription: a\u{0}b\n",
          expected: "2:15: invalid YAML: character U+0000 is not allowed"),
    .init(name: "a duplicate key at its second occurrence, naming the first", yaml: "stack: demo\nmodels: {}\nvariables: {}\nmodels: {}\n",
          expected: "4:1: duplicate key 'models' in one mapping, first at stack.yaml:2:1"),
    .init(name: "a duplicate key in a nested block mapping", yaml: "stack: demo\nmodels:\n  m: {runtime: linear, artifact: m.json}\n  n: {runtime: linear, artifact: m.json}\n  m: {runtime: linear, artifact: m.json}\n",
          expected: "5:3: duplicate key 'm' in one mapping, first at stack.yaml:3:3"),
    .init(name: "YAML nested a thousand levels deep", yaml: "stack: demo\nx: " + String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000) + "\n",
          expected: "invalid YAML: the file nests deeper than 200 levels"),
    .init(name: "a second document", yaml: "stack: demo\n---\nstack: other\n", expected: "2:1: invalid YAML: a stack file holds one document"),
    .init(name: "an alias", yaml: "stack: demo\nlocal: &l {port: 8000}\nmodels: *l\n", expected: "3:9: 'models' must be a mapping, found an alias"),
    .init(name: "an expression nested too deep", yaml: "stack: demo\noutputs:\n  o: \"${" + String(repeating: "(", count: 20_000) + "1" + String(repeating: ")", count: 20_000) + "}\"\n",
          expected: "3:6: invalid expression: '${...}' holds 40001 tokens"),
    .init(name: "an expression nested deeper than 64 levels", yaml: "stack: demo\noutputs:\n  o: \"${" + String(repeating: "(", count: 100) + "1" + String(repeating: ")", count: 100) + "}\"\n",
          expected: "3:6: invalid expression: '${...}' nests deeper than 64 levels"),
    .init(name: "a chain of minus signs", yaml: "stack: demo\noutputs:\n  o: \"${" + String(repeating: "-", count: 500) + "1}\"\n",
          expected: "3:6: invalid expression: '${...}' nests deeper than 64 levels"),
    .init(name: "an expression summing too many terms", yaml: "stack: demo\noutputs:\n  o: \"${" + Array(repeating: "1", count: 30_000).joined(separator: "+") + "}\"\n",
          expected: "3:6: invalid expression: '${...}' holds 59999 tokens; at most 1000 are allowed"),
    .init(name: "a misspelt key of an output gets a suggestion", yaml: "stack: demo\noutputs:\n  o: {valeu: x}\n",
          expected: "3:7: unknown key 'valeu' in output 'o'|did you mean 'value'?"),
    .init(name: "a route takes a path parameter its path does not have", yaml: "stack: demo\nmodels:\n  m: {runtime: linear, artifact: m.json}\nendpoints:\n  e: {variants: {a: {model: m}}}\ngateway:\n  stages:\n    v1:\n      routes:\n        POST /score/{id}: {endpoint: e, variant: {path: variant}}\n",
          expected: "10:50: 'variant' of route 'POST /score/{id}' of stage 'v1' takes path parameter 'variant', which '/score/{id}' does not have"),
    .init(name: "a route names an undeclared endpoint with a suggestion", yaml: "stack: demo\nmodels:\n  m: {runtime: linear, artifact: m.json}\nendpoints:\n  fraud: {variants: {a: {model: m}}}\ngateway:\n  stages:\n    v1:\n      routes:\n        POST /score: {endpoint: frad}\n",
          expected: "10:9: route 'POST /score' of stage 'v1' names undeclared endpoint 'frad'|did you mean 'fraud'?"),
    .init(name: "a misspelt required key is said once", yaml: "stack: demo\nmodels:\n  m: {runtme: linear, artifact: m.json}\n",
          expected: "3:7: unknown key 'runtme' in model 'm'|did you mean 'runtime'?"),
    .init(name: "an endpoint's negative weight does not hide an undeclared model", yaml: "stack: demo\nmodels:\n  m: {runtime: linear, artifact: m.json}\nendpoints:\n  e: {variants: {a: {model: m, weight: -1}, b: {model: mm}}}\n",
          expected: "5:40: 'weight' of variant 'a' of endpoint 'e' must not be negative"),
    .init(name: "... and the undeclared model is reported beside it", yaml: "stack: demo\nmodels:\n  m: {runtime: linear, artifact: m.json}\nendpoints:\n  e: {variants: {a: {model: m, weight: -1}, b: {model: mm}}}\n",
          expected: "5:56: variant 'b' of endpoint 'e' names undeclared model 'mm'|did you mean 'm'?"),
]

@Test(arguments: hardeningCases)
func badInputIsOneLocatedError(_ c: HardeningCase) {
    let (stack, diagnostics) = load(c.yaml)
    #expect(stack == nil)
    let parts = c.expected.split(separator: "|", maxSplits: 1).map(String.init)
    let rendered = diagnostics.map { "\($0.location.map { "\($0.line):\($0.column)" } ?? "-"): \($0.summary)|\($0.hint ?? "")" }
    #expect(rendered.contains { line in
        (line.hasPrefix(parts[0]) || (!parts[0].first!.isNumber && line.contains(parts[0]))) && (parts.count < 2 || line.contains(parts[1]))
    }, "expected \(c.expected) in \(rendered)")
    for d in diagnostics {
        #expect(!d.description.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "a raw control character in \(d.description)")
        #expect(d.location != nil, "\(d) has no location")
        #expect(d.description.count < 2_000, "a message of \(d.description.count) characters")
    }
}

@Test func everyErrorOfOneEndpointIsReported() {
    // A negative weight, an undeclared model and a misspelt variable, in one endpoint: all three.
    let (_, d) = load("stack: demo\nvariables:\n  w: {type: number, default: 1}\nmodels:\n  m: {runtime: linear, artifact: m.json}\nendpoints:\n  e: {variants: {a: {model: m, weight: -1}, b: {model: mm}, c: {model: m, weight: \"${var.ww}\"}}}\n")
    #expect(d.map(\.summary).contains { $0.contains("must not be negative") })
    #expect(d.map(\.summary).contains { $0.contains("names undeclared model 'mm'") })
    #expect(d.map(\.summary).contains { $0.contains("reference to undeclared 'var.ww'") })
}

@Test func aMisspeltRequiredKeyIsNotAlsoMissing() {
    let (_, d) = load("stack: demo\nmodels:\n  m: {runtme: linear, artifact: m.json}\n")
    #expect(d.count == 1, "\(d.map(\.description))")
}

struct UTF8Case: Sendable {
    var bytes: [UInt8]
    var position: String
}

let utf8Cases: [UTF8Case] = [
    UTF8Case(bytes: Array("stack: demo\ndescription: caf".utf8) + [0xE9, 0x0A], position: "2:17"),
    UTF8Case(bytes: [0xFF, 0xFE] + Array("stack: demo\n".utf8), position: "1:1"),
    UTF8Case(bytes: Array("stack: demo\n# ok \u{fc}\nx: ".utf8) + [0xC3], position: "3:4"),
]

@Test(arguments: utf8Cases)
func aFileThatIsNotUTF8IsAnErrorAtItsFirstBadByte(_ c: UTF8Case) throws {
    let (source, problem) = StackLoader.decode(c.bytes, path: "s.yaml", absolutePath: "/w/s.yaml")
    #expect(source == nil)
    let p = try #require(problem)
    #expect("\(p.location!.line):\(p.location!.column)" == c.position)
    #expect(p.summary.hasPrefix("stack file is not UTF-8"))
}

@Test func aFileTooLargeIsAnError() {
    let (source, problem) = StackLoader.decode([UInt8](repeating: 0x20, count: StackLoader.maxFileBytes + 1), path: "s.yaml", absolutePath: "/w/s.yaml")
    #expect(source == nil && problem?.summary.contains("more than the 16 MB") == true)
}

/// A file system whose runtime loader rejects one artifact, as the real one rejects a file that is
/// not the runtime's format.
struct RejectingFiles: SpecFileSystem {
    func sha256(ofFileAt absolutePath: String) -> String? { absolutePath.hasSuffix(".json") ? SHA256.hex(of: absolutePath) : nil }
    func isDirectory(_ absolutePath: String) -> Bool { false }
    func artifactProblem(at absolutePath: String, runtime: ModelRuntime) -> String? {
        absolutePath.hasSuffix("bad.json") ? "model artifact '\(absolutePath)' is not a linear model" : nil
    }
}

@Test func anArtifactTheRuntimeCannotLoadIsAnErrorAtValidateNamingTheUsersFile() throws {
    let yaml = "stack: demo\nmodels:\n  good: {runtime: linear, artifact: good.json}\n  m: {runtime: linear, artifact: ../art/bad.json}\n"
    let (stack, d) = StackLoader.load([StackSource(path: "stack.yaml", absolutePath: "/w/stacks/stack.yaml", text: yaml)], files: RejectingFiles())
    #expect(stack == nil)
    let e = try #require(d.errors.first)
    #expect(d.errors.count == 1)
    #expect(e.location?.line == 4 && e.location?.column == 34)
    #expect(e.summary == "artifact '../art/bad.json' of model 'm' cannot be served by runtime 'linear': model artifact '../art/bad.json' is not a linear model")
}
