import ArgumentParser
import Spec

struct Schema: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the JSON Schema of stack files, for editors and CI.")

    func run() async throws {
        Console.out(StackSchema.json)
    }
}
