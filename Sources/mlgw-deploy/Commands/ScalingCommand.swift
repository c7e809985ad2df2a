import ArgumentParser
import EnvironmentAPI
import Foundation
import Providers
import Spec

/// `scaling activities STACK [NAME]`: what the autoscaler did, and why, in Application Auto
/// Scaling's words.
struct ScalingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scaling", abstract: "Show what scaling policies did.",
                                                    subcommands: [Activities.self])

    struct Activities: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List scaling activities, oldest first: when, the capacity before and after, the cause, and the outcome.")

        @OptionGroup var options: StackOptions

        @Argument(help: "A scaling policy's name (scaling_policies.NAME); all of the stack's when left out.")
        var name: String?

        @Flag(help: "Print the activities as JSON lines (Application Auto Scaling's fields).")
        var json = false

        func run() async throws {
            let deployed = try StackLoading.deployed(options)
            try await EventsCommand.requireRunning(deployed, env: options.env)
            let recorded = (try? await deployed.store.read())?.sortedResources ?? []
            let names = name.map { [$0] } ?? recorded.filter { $0.address.kind == .scalingPolicy }.map(\.address.name)
            guard !names.isEmpty else {
                Console.err("error: stack '\(deployed.name)' has no scaling policies applied in environment '\(options.env)'\n  hint: add one under 'scaling_policies:' and apply")
                throw ExitCode(1)
            }
            var all: [ScalingActivity] = []
            for n in names {
                do { all += try await deployed.provider.scalingActivities(n).activities } catch {
                    Console.err("error: \(error)")
                    throw ExitCode(1)
                }
            }
            all.sort { $0.startTime != $1.startTime ? $0.startTime < $1.startTime : $0.activityId < $1.activityId }
            if json {
                let e = JSONEncoder()
                e.outputFormatting = [.sortedKeys]
                for a in all { Console.out(String(decoding: try e.encode(a), as: UTF8.self)) }
                return
            }
            guard !all.isEmpty else {
                Console.out("No scaling activities yet.")
                return
            }
            let f = ISO8601DateFormatter()
            for a in all {
                Console.out("\(f.string(from: Date(timeIntervalSince1970: a.startTime)))  \(a.resourceId)  \(a.fromCapacity) -> \(a.toCapacity)  \(a.statusCode)")
                Console.out("    \(a.description)")
                Console.out("    \(a.cause)")
                if let m = a.statusMessage { Console.out("    \(m)") }
            }
        }
    }
}
