import ArgumentParser
import Foundation
import Services

/// The processes the local provider launches. Not for people: `apply` starts them.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one of the local provider's services (started by apply).",
        shouldDisplay: false, subcommands: [Environment.self, Model.self, MultiModel.self])

    struct Environment: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The environment host: AWS-compatible URL, control API, supervisor.")
        @Option var dir: String
        @Option var port: Int = 0
        @Option(name: .customLong("gateway-port")) var gatewayPort: Int = 0

        func run() throws {
            try EnvironmentHost(directory: dir, port: port, gatewayPort: gatewayPort).run()
        }
    }

    struct MultiModel: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "multi-model", abstract: "A multi-model server on $SAGEMAKER_BIND_TO_PORT.")
        @Option var runtime: String = "linear"
        @Option var artifacts: String
        @Option(name: .customLong("cache-models")) var cacheModels: Int = 100
        @Option(name: .customLong("cache-memory-mb")) var cacheMemoryMB: Int?

        func run() throws {
            let port = ProcessInfo.processInfo.environment["SAGEMAKER_BIND_TO_PORT"].flatMap(Int.init) ?? 8080
            try MultiModelServer(directory: artifacts, runtime: runtime, cacheModels: cacheModels,
                                 cacheMemoryBytes: cacheMemoryMB.map { $0 * 1_048_576 }, port: port).run()
        }
    }

    struct Model: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A built-in model server on $SAGEMAKER_BIND_TO_PORT.")
        @Option var runtime: String = "linear"
        @Option var artifact: String

        func run() throws {
            let port = ProcessInfo.processInfo.environment["SAGEMAKER_BIND_TO_PORT"].flatMap(Int.init) ?? 8080
            do {
                let model = try Runtimes.load(runtime: runtime, path: artifact)
                try ModelServer(model: model, port: port).run()
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
