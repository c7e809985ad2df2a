import ArgumentParser
import Spec

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a stack: every error at once, each with file:line:column and a hint.")

    @OptionGroup var options: StackOptions

    func run() async throws {
        let loaded = try StackLoading.load(options)
        let s = loaded.stack
        let models = s.resources.filter { $0.address.kind == .model }.count
        let endpoints = s.resources.filter { $0.address.kind == .endpoint }.count
        Console.out("stack '\(s.name)' is valid: \(models) model\(models == 1 ? "" : "s"), \(endpoints) endpoint\(endpoints == 1 ? "" : "s"), \(s.outputs.count) output\(s.outputs.count == 1 ? "" : "s")")
    }
}
