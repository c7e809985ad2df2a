import Reconciler
import Spec
import Testing

func a(_ text: String) -> ResourceAddress { ResourceAddress(parsing: text)! }

@Test func topologicalOrderPutsDependenciesFirstAndIsStable() {
    let g = ResourceGraph(nodes: [a("endpoints.e"), a("models.b"), a("models.a"), a("endpoints.d")],
                          dependencies: [a("endpoints.e"): [a("models.a"), a("models.b")], a("endpoints.d"): [a("models.b")]])
    #expect(g.topologicalOrder() == [a("models.a"), a("models.b"), a("endpoints.d"), a("endpoints.e")])
    #expect(g.cycles().isEmpty)
}

@Test func cyclesAreReportedWithTheirPath() {
    let g = ResourceGraph(nodes: [a("endpoints.x"), a("endpoints.y"), a("endpoints.z")],
                          dependencies: [a("endpoints.x"): [a("endpoints.y")], a("endpoints.y"): [a("endpoints.z")], a("endpoints.z"): [a("endpoints.x")]])
    #expect(g.topologicalOrder() == nil)
    #expect(g.cycles().map { $0.map(\.description) } == [["endpoints.x", "endpoints.y", "endpoints.z", "endpoints.x"]])
}

@Test func dotListsEveryEdge() throws {
    let stack = try loadStack("stack: s\nmodels:\n  m: {runtime: linear, artifact: m.json}\nendpoints:\n  e:\n    variants: {a: {model: m}}\n")
    let dot = ResourceGraph(stack: stack).dot(name: "s")
    #expect(dot.contains("\"endpoints.e\" -> \"models.m\";"))
}

@Test func topologicalOrderScalesLinearly() {
    // 10,000 endpoints over 100 models: must finish instantly (no quadratic step).
    var deps: [ResourceAddress: [ResourceAddress]] = [:]
    var nodes: [ResourceAddress] = (0..<100).map { ResourceAddress(.model, "m\($0)") }
    for i in 0..<10_000 {
        let e = ResourceAddress(.endpoint, "e\(i)")
        nodes.append(e)
        deps[e] = [ResourceAddress(.model, "m\(i % 100)")]
    }
    #expect(ResourceGraph(nodes: nodes, dependencies: deps).topologicalOrder()?.count == 10_100)
}
