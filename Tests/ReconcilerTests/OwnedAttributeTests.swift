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
    stack.ownedAttributes[e] = ["variants.a.instances": "1..6, managed by scaling_policies.p"]
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
    stack.ownedAttributes[e] = ["variants.a.instances": "1..6, managed by scaling_policies.p"]
    let prior = recordedState(of: try loadStack(stackYAML))
    var observed = observedAsRecorded(prior)
    observed.resources[e]!.attributes["variants.a.instances"] = .number(5)
    let plan = Planner.plan(stack: stack, prior: prior, observed: observed)
    let change = try #require(plan.changes.first)
    #expect(change.action == .update && change.reason == nil)
    #expect(change.attributes.map(\.path) == ["variants.a.weight"])
    // The handler puts what the plan carries: five instances, as they run.
    #expect(change.after?.attributes["variants.a.instances"] == .number(5))
    #expect(change.managed == [ManagedAttribute(path: "variants.a.instances", note: "1..6, managed by scaling_policies.p, now 5")])
    #expect(plan.renderText().contains("      # variants.a.instances: 1..6, managed by scaling_policies.p, now 5\n"))
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

private let withPolicy = stackYAML + """

scaling_policies:
  p:
    target: endpoints.e.variants.a
    min: 1
    max: 6
    target_tracking:
      - {metric: SageMakerVariantInvocationsPerInstance, target: 70}
"""

/// A scaling policy owns its target's instance count: the loader says so, and removing the
/// policy hands the count back to the stack in words, not as drift.
@Test func removingAScalingPolicyHandsTheCountBackToTheStack() throws {
    let stack = try loadStack(withPolicy)
    let e = ResourceAddress(.endpoint, "e")
    #expect(stack.ownedAttributes[e] == ["variants.a.instances": "1..6, managed by scaling_policies.p"])
    let prior = recordedState(of: stack)
    var observed = observedAsRecorded(prior)
    observed.resources[e]!.attributes["variants.a.instances"] = .number(4)
    #expect(Planner.plan(stack: stack, prior: prior, observed: observed).changes.isEmpty)

    let without = try loadStack(stackYAML)
    let plan = Planner.plan(stack: without, prior: prior, observed: observed)
    #expect(plan.changes.map(\.address.description) == ["endpoints.e", "scaling_policies.p"])
    let update = try #require(plan.changes.first)
    #expect(update.action == .update && update.reason == nil)
    #expect(update.attributes.map { "\($0.path) \($0.before!) -> \($0.after!) # \($0.note ?? "")" }
            == ["variants.a.instances 4 -> 2 # no longer managed by scaling_policies.p: back to the stack's value"])
}
