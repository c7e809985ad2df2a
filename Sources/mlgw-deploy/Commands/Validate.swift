import ArgumentParser
import Spec

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a stack: every error at once, each with file:line:column and a hint.")

    @OptionGroup var options: StackOptions

    func run() async throws {
        let loaded = try StackLoading.load(options)
        let s = loaded.stack
        // One count per kind the stack declares, in kind order, from the kinds' own names.
        var counts = ResourceKind.allCases.compactMap { kind -> String? in
            let n = s.resources.filter { $0.kind == kind }.count
            return n == 0 ? nil : "\(n) \(kind.singular)\(n == 1 ? "" : "s")"
        }
        counts.append("\(s.outputs.count) output\(s.outputs.count == 1 ? "" : "s")")
        Console.out("stack '\(s.name)' is valid: \(counts.joined(separator: ", "))")
    }
}
