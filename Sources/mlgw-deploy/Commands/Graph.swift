import ArgumentParser
import Reconciler

struct Graph: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the dependency graph as Graphviz DOT (pipe into 'dot -Tsvg').",
        discussion: "Of the stack's files; with --deployed (or --stack NAME), of what the environment's state records, which needs neither a valid file nor its secrets.")

    @OptionGroup var options: StackOptions

    @Flag(name: .long, help: "The graph of what is deployed, from the state.")
    var deployed = false

    func run() async throws {
        if deployed || options.stack == nil {
            let target = try StackLoading.deployed(options)
            let state = try await StackLoading.readState(target.store, name: target.name)
            let resources = state?.sortedResources ?? []
            let graph = ResourceGraph(nodes: resources.map(\.address),
                                      dependencies: Dictionary(uniqueKeysWithValues: resources.map { ($0.address, $0.dependencies) }))
            Console.out(graph.dot(name: target.name), terminator: "")
            return
        }
        let loaded = try StackLoading.load(options)
        Console.out(ResourceGraph(stack: loaded.stack).dot(name: loaded.stack.name), terminator: "")
    }
}
