import ArgumentParser
import Reconciler

struct Graph: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the dependency graph as Graphviz DOT (pipe into 'dot -Tsvg').")

    @OptionGroup var options: StackOptions

    func run() async throws {
        let loaded = try StackLoading.load(options)
        Console.out(ResourceGraph(stack: loaded.stack).dot(name: loaded.stack.name), terminator: "")
    }
}
