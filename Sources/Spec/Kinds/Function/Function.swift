import EnvironmentAPI

/// A Lambda-style function: a handler run by worker processes that speak the Lambda Runtime API.
/// `runtime: python3` runs `handler: path/to/file.function` under the bootstrap that ships with
/// mlgw-deploy; `command` runs any program that implements the Runtime API client itself (for
/// instance `python3 -m awslambdaric file.handler`). Every change updates the function in place:
/// code, handler or environment start new workers (in-flight calls finish on the old ones);
/// concurrency, timeout and async settings re-configure the pool the workers run in.
public struct Function: ResourceDefinition {
    public enum Runtime: String, Sendable, Codable, CaseIterable {
        case python3
    }

    /// Asynchronous (`Event`) invocations: how often a failed event is retried, and how long an
    /// event may wait, as Lambda's function event invoke config.
    public struct AsyncSettings: Sendable, Equatable, Codable {
        public var maxRetries: Int = 2
        /// Lambda waits about a minute before the first retry and two before the second; the
        /// local default is shorter so test environments see retries happen.
        public var retryDelay: Double = 1
        public var maxEventAge: Double = 21_600
    }

    public static let kind = ResourceKind.function
    public static let section = ["functions"]
    public static let singular = "function"
    public static let referenceableAttributes = ["name", "arn"]

    public var name: String
    public var runtime: Runtime?
    /// `path/to/file.function`, relative to `code`.
    public var handler: String?
    public var command: [String]?
    /// The folder the handler is read from: the workers' working directory and LAMBDA_TASK_ROOT.
    public var codeDirectory: String
    /// As written, for the plan; nil when it defaults to the stack's folder.
    public var code: String?
    public var environment: EnvironmentValues
    public var timeout: Double = 3
    public var memoryMB: Int = 128
    public var provisionedConcurrency: Int = 0
    public var reservedConcurrency: Int = 10
    public var async = AsyncSettings()
    /// What identifies the function's code: the files under `code` when given, else the handler's
    /// file and the files its command names.
    public var codeSHA256: String
    public var description: String?
    public var location: SourceLocation?

    public var dependencies: [ResourceAddress] { environment.references }

    public static func runningAttributes(of c: FunctionConfiguration) -> Attributes {
        var a: Attributes = [:]
        if let handler = c.handler { a["handler"] = .string(handler) }
        if !c.command.isEmpty { a["command"] = .string(c.command.map(shellQuoted).joined(separator: " ")) }
        a["code_sha256"] = .string(c.codeSHA256)
        a["timeout"] = .number(c.timeout)
        a["memory"] = .number(Double(c.memoryMB))
        a["provisioned_concurrency"] = .number(Double(c.provisionedConcurrency))
        a["reserved_concurrency"] = .number(Double(c.reservedConcurrency))
        a["async.max_retries"] = .number(Double(c.maxRetries))
        a["async.retry_delay"] = .number(c.retryDelay)
        a["async.max_event_age"] = .number(c.maxEventAge)
        return a
    }

    public static func replacementReason(changed paths: [String]) -> String? { nil }

    public static func note(forChangedAttribute path: String) -> String? {
        if path.hasSuffix("_concurrency") || path.hasPrefix("async.") || path == "timeout" { return "in place, no restart" }
        return "new workers start, in-flight calls finish on the old ones"
    }
}

extension Function: ReadableDefinition {
    func configuration(in index: ResourceIndex, local: LocalSettings) -> FunctionConfiguration {
        FunctionConfiguration(name: name, handler: handler, command: command ?? [], environment: environment.values, workingDirectory: codeDirectory,
                              codeSHA256: codeSHA256, timeout: timeout, memoryMB: memoryMB, provisionedConcurrency: provisionedConcurrency,
                              reservedConcurrency: reservedConcurrency, maxRetries: async.maxRetries, retryDelay: async.retryDelay,
                              maxEventAge: async.maxEventAge, initTimeout: local.healthTimeoutSeconds)
    }

    var declaredAttributes: Attributes {
        var a = environment.attributes
        if let runtime { a["runtime"] = .string(runtime.rawValue) }
        if let code { a["code"] = .string(code) }
        return a
    }
}

extension ResourceSpec {
    public var function: Function? { value(as: Function.self) }
}
