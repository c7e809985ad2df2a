import Foundation
import Reconciler
import Spec
import Testing

let twoModels = """
stack: s
models:
  m1: {runtime: linear, artifact: m1.json}
  m2: {runtime: linear, artifact: m2.json}
endpoints:
  e:
    variants:
      a: {model: m1, weight: 1}
      b: {model: m2, weight: 1}
"""

@Test func createsRunDependenciesFirst() async throws {
    let stack = try loadStack(twoModels)
    let plan = Planner.plan(stack: stack, prior: nil, observed: Observation())
    let fake = FakeProvider()
    let store = StateStore(directory: temporaryDirectory())
    let state = try await ApplyEngine(provider: fake, store: store).apply(
        plan, state: StackState(stack: "s", environment: "default", lineage: "l"), local: LocalSettings(), emit: { _ in })
    let calls = await fake.calls
    #expect(calls.count == 3)
    #expect(calls.last == .create("endpoints.e"))
    #expect(Set(calls.prefix(2)) == [.create("models.m1"), .create("models.m2")])
    #expect(state.resources.count == 3)
    #expect(try await store.read()?.resources.count == 3)
    #expect(state.environmentAttributes["aws_endpoint_url"] == "http://fake")
}

@Test func anUpdatedDependentGoesBeforeTheDeleteOfWhatItDroppedAndDeletesRunDependentsFirst() async throws {
    let prior = recordedState(of: try loadStack(twoModels))
    let next = try loadStack("stack: s\nmodels:\n  m1: {runtime: linear, artifact: m1.json}\nendpoints:\n  e:\n    variants: {a: {model: m1}}\n")
    let plan = Planner.plan(stack: next, prior: prior, observed: observedAsRecorded(prior))
    let fake = FakeProvider()
    _ = try await ApplyEngine(provider: fake, store: StateStore(directory: temporaryDirectory())).apply(
        plan, state: prior, local: LocalSettings(), emit: { _ in })
    #expect(await fake.calls == [.update("endpoints.e"), .delete("models.m2")])

    let destroy = Planner.destroyPlan(stack: "s", environment: "default", prior: prior)
    let fake2 = FakeProvider()
    let after = try await ApplyEngine(provider: fake2, store: StateStore(directory: temporaryDirectory())).apply(
        destroy, state: prior, local: LocalSettings(), emit: { _ in })
    let calls = await fake2.calls
    #expect(calls.first == .delete("endpoints.e"))
    #expect(Set(calls.dropFirst()) == [.delete("models.m1"), .delete("models.m2")])
    #expect(after.resources.isEmpty)
    #expect(await fake2.finished)
}

@Test func aFailedChangeStopsTheWalkAndTheStateRecordsWhatWasDone() async throws {
    let stack = try loadStack(twoModels)
    let plan = Planner.plan(stack: stack, prior: nil, observed: Observation())
    let fake = FakeProvider(failing: ["models.m2"])
    let store = StateStore(directory: temporaryDirectory())
    let events = EventLog()
    await #expect(throws: ApplyError.self) {
        _ = try await ApplyEngine(provider: fake, store: store, parallelism: 1).apply(
            plan, state: StackState(stack: "s", environment: "default", lineage: "l"), local: LocalSettings(), emit: { events.add($0) })
    }
    let recorded = try #require(try await store.read())
    #expect(recorded.resources.keys.map(\.description) == ["models.m1"])
    #expect(events.all.contains(.skipped(ResourceAddress(.endpoint, "e"), .create)))
    // The next plan shows exactly the remainder.
    let next = Planner.plan(stack: stack, prior: recorded, observed: observedAsRecorded(recorded))
    #expect(next.changes.map(\.address.description) == ["models.m2", "endpoints.e"])
}

final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [ApplyEvent] = []
    func add(_ e: ApplyEvent) { lock.lock(); events.append(e); lock.unlock() }
    var all: [ApplyEvent] { lock.lock(); defer { lock.unlock() }; return events }
}

@Test func outputsReadTheStateAndHideSensitiveValues() throws {
    let stack = try loadStack(twoModels + "\nvariables:\n  k: {type: string, default: secret, sensitive: true}\noutputs:\n  url: ${endpoints.e.url}\n  key: ${var.k}\n  env: ${environment.aws_endpoint_url}\n")
    var state = recordedState(of: stack)
    state.resources[ResourceAddress(.endpoint, "e")]!.outputs["url"] = "http://x/endpoints/e/invocations"
    state.environmentAttributes["aws_endpoint_url"] = "http://x"
    let outputs = Outputs.evaluate(stack, state: state)
    #expect(outputs["url"]?.value == "http://x/endpoints/e/invocations")
    #expect(outputs["env"]?.value == "http://x")
    #expect(outputs["key"]?.sensitive == true)
    #expect(outputs["key"]?.value == nil)
}

@Test func noOpPlanOf10000ResourcesIsLinear() throws {
    var yaml = "stack: big\nmodels:\n"
    for i in 0..<5000 { yaml += "  m\(i): {runtime: linear, artifact: m\(i).json}\n" }
    yaml += "endpoints:\n"
    for i in 0..<5000 { yaml += "  e\(i): {variants: {a: {model: m\(i)}}}\n" }
    let stack = try loadStack(yaml)
    let prior = recordedState(of: stack)
    let plan = Planner.plan(stack: stack, prior: prior, observed: observedAsRecorded(prior))
    #expect(!plan.hasChanges)
    #expect(plan.unchanged == 10_000)
}
