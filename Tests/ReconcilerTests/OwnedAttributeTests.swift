import Reconciler
import Spec
import Testing

private let stackYAML = """
stack: demo
models:
  m1: {runtime: linear, artifact: m1.json}
endpoints:
  e:
    variants:
      a: {model: m1, weight: 1, instances: 2}
"""

/// An attribute another resource owns at run time (as a scaling policy owns a variant's
/// instance count): what runs is neither drift nor reset.
@Test func anOwnedAttributeThatChangedAtRunTimeIsNeitherDriftNorReset() throws {
    var stack = try loadStack(stackYAML)
    let e = ResourceAddress(.endpoint, "e")
    stack.ownedAttributes[e] = ["variants.a.instances"]
    let prior = recordedState(of: stack)
    var observed = observedAsRecorded(prior)
    observed.resources[e]!.attributes["variants.a.instances"] = .number(5)
    let plan = Planner.plan(stack: stack, prior: prior, observed: observed)
    #expect(plan.changes.isEmpty, "\(plan.changes)")

    // Without an owner the same difference is drift, and the plan resets it.
    stack.ownedAttributes = [:]
    let drifted = Planner.plan(stack: stack, prior: prior, observed: observed)
    #expect(drifted.changes.map(\.action) == [.update])
    #expect(drifted.changes.first?.reason == .drifted("variants.a.instances changed outside mlgw-deploy"))
}

@Test func anUpdateForAnotherReasonKeepsWhatRunsForAnOwnedAttribute() throws {
    var stack = try loadStack(stackYAML.replacingOccurrences(of: "weight: 1", with: "weight: 3"))
    let e = ResourceAddress(.endpoint, "e")
    stack.ownedAttributes[e] = ["variants.a.instances"]
    let prior = recordedState(of: try loadStack(stackYAML))
    var observed = observedAsRecorded(prior)
    observed.resources[e]!.attributes["variants.a.instances"] = .number(5)
    let plan = Planner.plan(stack: stack, prior: prior, observed: observed)
    let change = try #require(plan.changes.first)
    #expect(change.action == .update && change.reason == nil)
    #expect(change.attributes.map(\.path) == ["variants.a.weight"])
    // The handler puts what the plan carries: five instances, as they run.
    #expect(change.after?.attributes["variants.a.instances"] == .number(5))
}

/// What observe cannot see (a path that is not observable) is kept from the record.
@Test func onlyObservablePathsCanDisappear() throws {
    let stack = try loadStack(stackYAML)
    let prior = recordedState(of: stack)
    var observed = observedAsRecorded(prior)
    let m = ResourceAddress(.model, "m1")
    observed.resources[m]!.attributes["artifact"] = nil   // the path as written is not observable
    #expect(Planner.plan(stack: stack, prior: prior, observed: observed).changes.isEmpty)
    observed.resources[m]!.attributes["artifact_sha256"] = nil
    #expect(Planner.plan(stack: stack, prior: prior, observed: observed).changes.map(\.address) == [m])
}
