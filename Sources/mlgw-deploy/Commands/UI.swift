import ArgumentParser
import EnvironmentAPI
import Foundation

/// `ui STACK`: where the environment's status page is.
struct UI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Print the URL of the environment's live status page (served by its host on loopback).",
        discussion: """
        The page shows the resources and how they connect, every process's health, each variant's traffic \\
        (requests per second, errors, latency), rollouts, the bus's recent events, feature groups' sizes and \\
        each monitor's latest drift per feature with its histograms; it updates itself every second and \\
        needs no network.
        """)

    @OptionGroup var options: StackOptions

    @Flag(help: "Open it in the default browser (xdg-open) as well.")
    var open = false

    func run() async throws {
        let deployed = try StackLoading.deployed(options)
        try await EventsCommand.requireRunning(deployed, env: options.env)
        guard let data = FileManager.default.contents(atPath: deployed.folder.infoPath),
              let info = try? JSONDecoder().decode(EnvironmentInfo.self, from: data) else {
            Console.err("error: environment '\(options.env)' of stack '\(deployed.name)' has no environment.json\n  hint: apply the stack first")
            throw ExitCode(1)
        }
        let url = "http://127.0.0.1:\(info.controlPort)/_ui"
        Console.out(url)
        if open {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["xdg-open", url]
            try? p.run()
        }
    }
}
