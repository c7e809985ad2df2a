import EnvironmentAPI
import Spec
import Testing

func eval(_ text: String, _ vars: [String: Value] = [:]) throws -> Evaluated {
    try Template.parse(text).evaluate { path in
        if path.first == "var", let v = vars[path[1]] { return .value(v, sensitive: false) }
        if path.first == "endpoints" { return .knownAfterApply }
        return .undeclared(suggestion: nil)
    }
}

@Test(arguments: [
    ("${100 - var.w}", Value.number(90)),
    ("${2 * (3 + 4) / 7}", .number(2)),
    ("${-var.w + 1}", .number(-9)),
    ("a-${var.name}-b", .string("a-fraud-x-b")),
    ("$${literal}", .string("${literal}")),
    ("${\"x\" + var.name}", .string("xfraud-x")),
    ("plain", .string("plain")),
])
func expressionsEvaluate(_ text: String, _ expected: Value) throws {
    #expect(try eval(text, ["w": .number(10), "name": .string("fraud-x")]) == .value(expected, sensitive: false))
}

@Test func hyphenatedNamesAreNamesAndSpacedHyphensSubtract() throws {
    let t = try Template.parse("${endpoints.fraud-v2.url}")
    #expect(t.references == [["endpoints", "fraud-v2", "url"]])
    #expect(try eval("${endpoints.fraud-v2.url}") == .knownAfterApply)
}

@Test(arguments: ["${", "${1 +}", "${(1}", "${var.}", "${1 ? 2}", "${}", "${1 / 0}"])
func badExpressionsAreErrors(_ text: String) {
    #expect(throws: ExpressionError.self) { try eval(text) }
}

@Test func sha256MatchesKnownVectors() {
    #expect(SHA256.hex(of: "") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(SHA256.hex(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(SHA256.hex(of: String(repeating: "a", count: 1000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
}

@Test func pathsResolveAgainstTheStackFolder() {
    #expect(PathMath.resolve("../examples/m.json", against: "/w/stacks") == "/w/examples/m.json")
    #expect(PathMath.resolve("./a/./b.json", against: "/w") == "/w/a/b.json")
    #expect(PathMath.resolve("/abs/x", against: "/w") == "/abs/x")
    #expect(PathMath.directory(of: "/w/stacks/s.yaml") == "/w/stacks")
}
