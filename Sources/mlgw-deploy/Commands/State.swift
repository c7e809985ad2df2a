import ArgumentParser
import Foundation
import Reconciler
import Spec

struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state", abstract: "Read the recorded state.", subcommands: [List.self, Show.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the addresses the state records.")
        @OptionGroup var options: StackOptions

        func run() async throws {
            let loaded = try StackLoading.load(options)
            let state = try await StackLoading.readState(loaded.store, stack: loaded.stack)
            for r in state?.sortedResources ?? [] { Console.out(r.address.description) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one recorded resource as JSON.")
        @OptionGroup var options: StackOptions
        @Argument(help: "An address such as endpoints.fraud.") var address: String

        func run() async throws {
            let loaded = try StackLoading.load(options)
            let state = try await StackLoading.readState(loaded.store, stack: loaded.stack)
            guard let a = ResourceAddress(parsing: address), let r = state?.resource(a) else {
                Console.err("error: the state records no '\(address)'\n  hint: 'mlgw-deploy state list \(options.stack)' lists what it records")
                throw ExitCode(1)
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            Console.out(String(decoding: try encoder.encode(r), as: UTF8.self))
        }
    }
}
