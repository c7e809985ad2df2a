import Spec

/// The stack's resources and who depends on whom. Edges point from a resource to what it needs,
/// so apply visits dependencies first and destroy visits them last.
public struct ResourceGraph: Sendable, Equatable {
    public private(set) var nodes: [ResourceAddress]
    /// `dependencies[a]` are the resources `a` needs, sorted.
    public private(set) var dependencies: [ResourceAddress: [ResourceAddress]]

    public init(nodes: [ResourceAddress], dependencies: [ResourceAddress: [ResourceAddress]]) {
        self.nodes = nodes.sorted()
        self.dependencies = dependencies.mapValues { $0.sorted() }
    }

    public init(stack: Stack) {
        self.init(nodes: stack.resources.map(\.address),
                  dependencies: Dictionary(uniqueKeysWithValues: stack.resources.map { ($0.address, $0.dependencies) }))
    }

    /// Dependencies first; ties broken by address so the order is stable. Nil if there is a cycle.
    /// Kahn's algorithm.
    public func topologicalOrder() -> [ResourceAddress]? {
        var pending: [ResourceAddress: Int] = [:]
        var dependents: [ResourceAddress: [ResourceAddress]] = [:]
        let known = Set(nodes)
        for n in nodes {
            let deps = (dependencies[n] ?? []).filter(known.contains)
            pending[n] = deps.count
            for d in deps { dependents[d, default: []].append(n) }
        }
        // Level by level, each level sorted: deterministic, O((nodes + edges) log nodes).
        var level = nodes.filter { pending[$0] == 0 }
        var order: [ResourceAddress] = []
        order.reserveCapacity(nodes.count)
        while !level.isEmpty {
            order += level
            var next: [ResourceAddress] = []
            for n in level {
                for d in dependents[n] ?? [] {
                    pending[d]! -= 1
                    if pending[d] == 0 { next.append(d) }
                }
            }
            level = next.sorted()
        }
        return order.count == nodes.count ? order : nil
    }

    /// Every elementary cycle found by depth-first search, each as a path that ends where it began
    /// (`a -> b -> a`). Empty when the graph is acyclic.
    public func cycles() -> [[ResourceAddress]] {
        enum Mark { case visiting, done }
        var marks: [ResourceAddress: Mark] = [:]
        var stack: [ResourceAddress] = []
        var found: [[ResourceAddress]] = []
        let known = Set(nodes)
        func visit(_ n: ResourceAddress) {
            marks[n] = .visiting
            stack.append(n)
            for d in dependencies[n] ?? [] where known.contains(d) {
                switch marks[d] {
                case .visiting?:
                    let start = stack.lastIndex(of: d)!
                    found.append(Array(stack[start...]) + [d])
                case .done?: continue
                case nil: visit(d)
                }
            }
            stack.removeLast()
            marks[n] = .done
        }
        for n in nodes where marks[n] == nil { visit(n) }
        return found
    }

    /// Graphviz DOT, one edge per dependency, pointing from a resource to what it needs.
    public func dot(name: String) -> String {
        var lines = ["digraph \"\(name)\" {", "  rankdir=LR;", "  node [shape=box, fontname=\"Helvetica\"];"]
        for n in nodes { lines.append("  \"\(n)\";") }
        for n in nodes {
            for d in dependencies[n] ?? [] { lines.append("  \"\(n)\" -> \"\(d)\";") }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}

extension ResourceGraph {
    /// Cycle diagnostics for `validate`, located at the first resource of each cycle.
    public func cycleDiagnostics(in stack: Stack) -> [Diagnostic] {
        cycles().map { cycle in
            Diagnostic(at: stack.resource(cycle[0])?.location,
                       "dependency cycle: \(cycle.map(\.description).joined(separator: " -> "))",
                       hint: "break the cycle by removing one of these references")
        }
    }
}
