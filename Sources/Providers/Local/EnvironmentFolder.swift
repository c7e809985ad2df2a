import Foundation

/// The folder that holds everything of one environment of one stack:
/// `{state dir}/{stack}/{environment}/` with `state.json`, `lock`, `environment.json`, `logs/`, `data/`.
/// Nothing the local provider makes lives outside it.
public struct EnvironmentFolder: Sendable, Equatable {
    public var path: String

    public init(stateDirectory: String, stack: String, environment: String) {
        path = "\(stateDirectory)/\(stack)/\(environment)"
    }

    public var logs: String { path + "/logs" }
    public var data: String { path + "/data" }
    public var hostLog: String { logs + "/environment.log" }
    public var infoPath: String { path + "/environment.json" }

    public func logFolder(for resource: String) -> String { logs + "/" + resource }
}
