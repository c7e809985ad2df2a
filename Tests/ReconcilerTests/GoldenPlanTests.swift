import Foundation
import Reconciler
import Spec
import Testing

/// Golden plans: each folder under Fixtures/plan holds `stack.yaml`, optionally `prior.yaml` (the
/// stack as last applied) and `observed.json` (how what runs differs from the record), and the
/// expected plan as text and JSON. `MLGW_RECORD=1 swift test` rewrites the expected files; a
/// missing one is recorded and the test fails, so new goldens are always reviewed.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/plan")

let goldenCases: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? []).sorted()

struct ObservedOverrides: Decodable {
    var missing: [String]?
    var attributes: [String: [String: AttributeValue]]?
    /// What a resource that keeps data holds, as the provider words it.
    var stored: [String: String]?
}

func goldenPlan(_ name: String) throws -> Plan {
    let dir = fixtures.appendingPathComponent(name)
    let stack = try loadStack(String(contentsOf: dir.appendingPathComponent("stack.yaml"), encoding: .utf8))
    var prior: StackState?
    if let priorYAML = try? String(contentsOf: dir.appendingPathComponent("prior.yaml"), encoding: .utf8) {
        prior = recordedState(of: try loadStack(priorYAML))
    }
    var observed = prior.map(observedAsRecorded) ?? Observation()
    if let data = try? Data(contentsOf: dir.appendingPathComponent("observed.json")) {
        let o = try JSONDecoder().decode(ObservedOverrides.self, from: data)
        for m in o.missing ?? [] { observed.resources[ResourceAddress(parsing: m)!] = nil }
        for (address, words) in o.stored ?? [:] { observed.resources[ResourceAddress(parsing: address)!]!.storedData = words }
        for (address, attrs) in o.attributes ?? [:] {
            for (k, v) in attrs { observed.resources[ResourceAddress(parsing: address)!]!.attributes[k] = v }
        }
    }
    return Planner.plan(stack: stack, prior: prior, observed: observed)
}

func checkGolden(_ actual: String, file: URL) {
    let record = ProcessInfo.processInfo.environment["MLGW_RECORD"] == "1"
    guard let expected = try? String(contentsOf: file, encoding: .utf8), !record else {
        try? actual.write(to: file, atomically: true, encoding: .utf8)
        Issue.record("recorded \(file.path); review it and run the tests again")
        return
    }
    #expect(actual == expected, "plan differs from \(file.lastPathComponent); if intended, rerun with MLGW_RECORD=1 and review the diff")
}

@Test(arguments: goldenCases)
func goldenPlanText(_ name: String) throws {
    checkGolden(try goldenPlan(name).renderText(), file: fixtures.appendingPathComponent(name).appendingPathComponent("expected-plan.txt"))
}

@Test(arguments: goldenCases)
func goldenPlanJSON(_ name: String) throws {
    checkGolden(try goldenPlan(name).renderJSON(), file: fixtures.appendingPathComponent(name).appendingPathComponent("expected-plan.json"))
}

@Test(arguments: goldenCases)
func goldenPlanMarkdown(_ name: String) throws {
    checkGolden(try goldenPlan(name).renderMarkdown(), file: fixtures.appendingPathComponent(name).appendingPathComponent("expected-plan.md"))
}

@Test func everyGoldenCaseIsPresent() {
    #expect(Set(goldenCases).isSuperset(of: ["create", "update-weight", "replace-model", "delete", "drift-stopped", "drift-weight", "no-op", "variants-added-and-removed"]))
}
