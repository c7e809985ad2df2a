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
            let deployed = try StackLoading.deployed(options)
            let state = try await StackLoading.readState(deployed.store, name: deployed.name)
            for r in state?.sortedResources ?? [] { Console.out(r.address.description) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one recorded resource as JSON.")
        @OptionGroup var options: StackOptions
        @Argument(help: "An address such as endpoints.fraud.") var address: String?

        func run() async throws {
            var options = self.options, given = self.address
            options.shiftingPositional(into: &given)
            guard let address = given else {
                Console.err("error: name the address to show, such as endpoints.NAME ('state list' lists them)")
                throw ExitCode(1)
            }
            let deployed = try StackLoading.deployed(options)
            let state = try await StackLoading.readState(deployed.store, name: deployed.name)
            guard let a = ResourceAddress(parsing: address), let r = state?.resource(a) else {
                Console.err("error: the state records no '\(address)'\n  hint: 'mlgw-deploy state list \(options.stack ?? "--stack \(deployed.name)")' lists what it records")
                throw ExitCode(1)
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            Console.out(String(decoding: try encoder.encode(r), as: UTF8.self))
        }
    }
}
