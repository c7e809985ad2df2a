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

@Test func referencesInAServersEnvironmentAreEdgesAndCanFormACycle() throws {
    let chain = try loadStack("""
        stack: s
        models:
          base: {runtime: linear, artifact: m.json}
          caller:
            command: [serve]
            environment: {UPSTREAM: "${endpoints.scores.url}", BASE: "${models.base.name}", AWS: "${environment.aws_endpoint_url}"}
        endpoints:
          scores: {variants: {a: {model: base}}}
          front: {variants: {a: {model: caller}}}
        """)
    let caller = try #require(chain.resource(ResourceAddress(.model, "caller")))
    #expect(caller.dependencies.map(\.description) == ["models.base", "endpoints.scores"])
    #expect(caller.model?.environment.values == ["BASE": "base"])
    #expect(caller.model?.environment.deferredText == ["UPSTREAM": "${endpoints.scores.url}", "AWS": "${environment.aws_endpoint_url}"])
    #expect(caller.attributes["environment.UPSTREAM"] == .string("${endpoints.scores.url}"))
    let order = try #require(ResourceGraph(stack: chain).topologicalOrder()).map(\.description)
    #expect(order.firstIndex(of: "endpoints.scores")! < order.firstIndex(of: "models.caller")!)
    #expect(order.firstIndex(of: "models.caller")! < order.firstIndex(of: "endpoints.front")!)

    let loop = try loadStack("""
        stack: s
        models:
          caller: {command: [serve], environment: {SELF: "${endpoints.front.url}"}}
        endpoints:
          front: {variants: {a: {model: caller}}}
        """)
    let graph = ResourceGraph(stack: loop)
    #expect(graph.topologicalOrder() == nil)
    #expect(graph.cycleDiagnostics(in: loop).map(\.summary) == ["dependency cycle: models.caller -> endpoints.front -> models.caller"])
}
