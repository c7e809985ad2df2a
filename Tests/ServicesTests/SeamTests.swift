import EnvironmentAPI
import Foundation
import NIOHTTP1
@testable import Services
import Testing

// MARK: endpoint convergence

private func model(_ sha: String) -> ModelRegistration { ModelRegistration(name: "m", sha256: sha, runtime: .linear) }
private func running(_ ids: [String], _ variant: String, idle: Bool = false) -> [EndpointConvergence.Running] {
    ids.map { .init(id: $0, variant: variant, idlePriority: idle, active: true) }
}

struct ConvergenceCase: CustomTestStringConvertible, Sendable {
    var name: String
    var running: [EndpointConvergence.Running]
    var previous: [String: ModelRegistration]
    var desired: [EndpointConvergence.Desired]
    var expected: EndpointConvergence.Decision
    var testDescription: String { name }
}

let convergenceCases: [ConvergenceCase] = [
    .init(name: "a new endpoint starts every instance", running: [], previous: [:],
          desired: [.init(variant: "a", model: model("1"), instances: 2, idlePriority: false)],
          expected: .init(keep: ["a": []], start: ["a": 2])),
    .init(name: "the same configuration changes nothing", running: running(["a-1", "a-2"], "a"), previous: ["a": model("1")],
          desired: [.init(variant: "a", model: model("1"), instances: 2, idlePriority: false)],
          expected: .init(keep: ["a": ["a-1", "a-2"]])),
    .init(name: "more instances start beside the ones that run", running: running(["a-1"], "a"), previous: ["a": model("1")],
          desired: [.init(variant: "a", model: model("1"), instances: 3, idlePriority: false)],
          expected: .init(keep: ["a": ["a-1"]], start: ["a": 2])),
    .init(name: "fewer instances drain the surplus", running: running(["a-1", "a-2", "a-3"], "a"), previous: ["a": model("1")],
          desired: [.init(variant: "a", model: model("1"), instances: 1, idlePriority: false)],
          expected: .init(keep: ["a": ["a-1"]], drain: ["a-2", "a-3"])),
    .init(name: "a new model is blue/green", running: running(["a-1", "a-2"], "a"), previous: ["a": model("1")],
          desired: [.init(variant: "a", model: model("2"), instances: 2, idlePriority: false)],
          expected: .init(keep: ["a": []], start: ["a": 2], drain: ["a-1", "a-2"], blueGreen: ["a"])),
    .init(name: "becoming a shadow restarts at idle priority", running: running(["a-1"], "a"), previous: ["a": model("1")],
          desired: [.init(variant: "a", model: model("1"), instances: 1, idlePriority: true)],
          expected: .init(keep: ["a": []], start: ["a": 1], drain: ["a-1"], blueGreen: ["a"])),
    .init(name: "a removed variant drains", running: running(["a-1"], "a") + running(["b-1"], "b"), previous: ["a": model("1"), "b": model("1")],
          desired: [.init(variant: "a", model: model("1"), instances: 1, idlePriority: false)],
          expected: .init(keep: ["a": ["a-1"]], drain: ["b-1"])),
    .init(name: "an instance already stopping is neither kept nor drained again",
          running: [.init(id: "a-1", variant: "a", idlePriority: false, active: false)] + running(["a-2"], "a"), previous: ["a": model("1")],
          desired: [.init(variant: "a", model: model("1"), instances: 2, idlePriority: false)],
          expected: .init(keep: ["a": ["a-2"]], start: ["a": 1])),
]

@Test(arguments: convergenceCases)
func endpointConvergence(_ c: ConvergenceCase) {
    #expect(EndpointConvergence.decide(running: c.running, previousModels: c.previous, desired: c.desired) == c.expected)
}

// MARK: the control table

@Test(arguments: [
    ("/_control/models/churn-v1", ControlCollection.models, "churn-v1"),
    ("/_control/endpoints/fraud", .endpoints, "fraud"),
    ("/_control/functions/score", .functions, "score"),
    ("/_control/gateway/stages/v1", .stages, "v1"),
    ("/_control/gateway/api-keys/ci", .apiKeys, "ci"),
    ("/_control/gateway/usage-plans/standard", .usagePlans, "standard"),
])
func controlPathsNameTheirCollectionAndResource(_ path: String, _ collection: ControlCollection, _ name: String) {
    #expect(ControlCollection.parse(path)?.0 == collection && ControlCollection.parse(path)?.1 == name)
    #expect(collection.path(name) == path)
}

@Test(arguments: ["/_control/models", "/_control/nothing/x", "/_control/gateway/x", "/models/x", "/_control/models/", "/_control/gateway/stages/a/b"])
func pathsOutsideTheTableAreNoCollection(_ path: String) {
    #expect(ControlCollection.parse(path) == nil)
}

final class Recorder: @unchecked Sendable {
    var puts: [UsagePlanConfiguration] = []
    var deletes: [String] = []
}

@Test func theRouterDecodesCallsAndAnswersInTheTablesTypes() async throws {
    let router = ControlRouter()
    let seen = Recorder()
    router.on(UsagePlanConfiguration.self, put: { c in
        if c.throttle?.rate == -1 { throw ControlError(message: "bad rate", terminal: true) }
        seen.puts.append(c)
        return ControlAcknowledgement(applied: c.name)
    }, delete: { seen.deletes.append($0) })
    #expect(router.collections == [.usagePlans])
    let plan = UsagePlanConfiguration(name: "ignored", throttle: nil, quotaLimit: 10, quotaPeriod: .week, stages: [], routeThrottles: [:])
    let put = try #require(await router.handle(method: "PUT", path: "/_control/gateway/usage-plans/p", body: try JSONEncoder().encode(plan)))
    #expect(put.status == 200)
    #expect(try JSONDecoder().decode(ControlAcknowledgement.self, from: put.body) == ControlAcknowledgement(applied: "p"))
    // The path names the resource; enums stay enums on the wire.
    #expect(seen.puts.map(\.name) == ["p"] && seen.puts.first?.quotaPeriod == .week)
    #expect(await router.handle(method: "DELETE", path: "/_control/gateway/usage-plans/p", body: Data())?.status == 200)
    #expect(seen.deletes == ["p"])
    #expect(await router.handle(method: "PUT", path: "/_control/endpoints/e", body: Data()) == nil)
    #expect(await router.handle(method: "PUT", path: "/_control/gateway/usage-plans/p", body: Data("{".utf8))?.status == 400)
    var bad = plan
    bad.throttle = Throttle(rate: -1, burst: 1)
    let refused = try #require(await router.handle(method: "PUT", path: "/_control/gateway/usage-plans/p", body: try JSONEncoder().encode(bad)))
    #expect(refused.status == 422)
    #expect(try JSONDecoder().decode(ControlError.self, from: refused.body).message == "bad rate")
}

// MARK: the front door's API dispatch

@Test(arguments: [
    (HTTPMethod.POST, "/endpoints/fraud/invocations", [String: String](), AWSAPI.sageMakerRuntime),
    (.POST, "/endpoints/fraud/invocations-response-stream", [:], .sageMakerRuntime),
    (.POST, "/2015-03-31/functions/score/invocations", [:], .lambda),
    (.POST, "/", ["X-Amz-Target": "AWSEvents.PutEvents"], .json(service: "AWSEvents", operation: "PutEvents")),
    (.POST, "/", ["x-amz-target": "garbage"], .unknown),
    (.GET, "/metrics", [:], .metrics),
    (.GET, "/ping", [:], .ping),
    (.GET, "/", [:], .ping),
    (.POST, "/metrics", [:], .unknown),
    (.GET, "/FeatureGroup/customers", [:], .featureStore),
    (.POST, "/BatchGetRecord", [:], .featureStore),
    (.GET, "/FeatureGroups", [:], .unknown),
])
func theFrontDoorPicksTheAPIByTheRequest(_ method: HTTPMethod, _ path: String, _ headers: [String: String], _ api: AWSAPI) {
    var h = HTTPHeaders()
    for (k, v) in headers { h.add(name: k, value: v) }
    #expect(AWSAPI.of(method: method, path: Substring(path), headers: h) == api)
}

// MARK: the supervisor

actor CountingService: EnvironmentService {
    nonisolated let name = "counting"
    var looks: [Date] = []
    var next: Double?
    init(next: Double?) { self.next = next }
    nonisolated func register(on router: ControlRouter) {}
    func reconcile(now: Date) async -> Date? {
        looks.append(now)
        return next.map { now.addingTimeInterval($0) }
    }
    func processExited(pid: Int32, status: Int32) async {}
    func describe(into snapshot: inout EnvironmentSnapshot) async {}
    func shutdown() async {}
}

@Test func theSupervisorLooksWhenAServiceIsDueOrAsksAndOnTheHostsClock() async throws {
    let clock = ManualClock()
    let supervisor = Supervisor(clock: clock, resync: 5)
    let due = CountingService(next: 1)
    let idle = CountingService(next: nil)
    await supervisor.add(due)
    await supervisor.add(idle)
    await supervisor.tick()
    #expect(await due.looks.count == 1)
    #expect(await idle.looks.count == 1)
    await supervisor.tick()   // nothing is due yet
    #expect(await due.looks.count == 1)
    clock.advance(by: 1)
    await supervisor.tick()   // `due` asked for a look a second on; `idle` waits for the resync
    #expect(await due.looks.count == 2)
    #expect(await idle.looks.count == 1)
    supervisor.wake(idle)
    try await Task.sleep(nanoseconds: 50_000_000)
    await supervisor.tick()
    #expect(await idle.looks.count == 2)
    clock.advance(by: 5)
    await supervisor.tick()   // the resync bounds every wait
    #expect(await idle.looks.count == 3)
    let last = await idle.looks.last
    #expect(last == clock.now())
}
