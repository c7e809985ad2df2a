/// A function (PUT /_control/functions/NAME): the workers' command and environment, and the
/// pool's limits. Returns once the provisioned workers are warm (waiting for their first event).
public struct FunctionConfiguration: ControlConfiguration {
    public typealias Status = FunctionStatus
    public static let collection = ControlCollection.functions

    public var name: String
    /// `path/to/file.function` for the bundled Python runtime; then `command` is empty.
    public var handler: String?
    public var command: [String]
    public var environment: [String: String]
    public var workingDirectory: String
    public var codeSHA256: String
    public var timeout: Double
    public var memoryMB: Int
    public var provisionedConcurrency: Int
    public var reservedConcurrency: Int
    public var maxRetries: Int
    public var retryDelay: Double
    public var maxEventAge: Double
    /// How long a worker may take to initialise before it counts as failed.
    public var initTimeout: Double

    public init(name: String, handler: String?, command: [String], environment: [String: String], workingDirectory: String, codeSHA256: String,
                timeout: Double, memoryMB: Int, provisionedConcurrency: Int, reservedConcurrency: Int,
                maxRetries: Int, retryDelay: Double, maxEventAge: Double, initTimeout: Double) {
        self.name = name
        self.handler = handler
        self.command = command
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.codeSHA256 = codeSHA256
        self.timeout = timeout
        self.memoryMB = memoryMB
        self.provisionedConcurrency = provisionedConcurrency
        self.reservedConcurrency = reservedConcurrency
        self.maxRetries = maxRetries
        self.retryDelay = retryDelay
        self.maxEventAge = maxEventAge
        self.initTimeout = initTimeout
    }

    /// Whether going from `self` to `other` needs new workers: what a worker runs changed (its
    /// code, handler, command, environment or memory). Anything else is a setting of the pool.
    public func needsNewWorkers(for other: FunctionConfiguration) -> Bool {
        handler != other.handler || command != other.command || environment != other.environment
            || workingDirectory != other.workingDirectory || codeSHA256 != other.codeSHA256 || memoryMB != other.memoryMB
    }
}

public struct WorkerStatus: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable { case starting, idle, busy, finishing, dead }

    public var id: String
    public var pid: Int32
    public var state: State
    public var invocations: UInt64

    public init(id: String, pid: Int32, state: State, invocations: UInt64) {
        self.id = id
        self.pid = pid
        self.state = state
        self.invocations = invocations
    }
}

/// A function as the host runs it: the configuration it converged to, its workers and counters.
public struct FunctionStatus: Sendable, Equatable, Codable {
    public var name: String
    /// What the function runs, as last put: observe reads its plan attributes from here.
    public var configuration: FunctionConfiguration
    public var arn: String
    public var workers: [WorkerStatus]
    public var invocations: UInt64
    public var errors: UInt64
    public var throttles: UInt64
    public var timeouts: UInt64
    public var asyncQueued: Int
    public var asyncFailed: UInt64

    public var codeSHA256: String { configuration.codeSHA256 }

    public init(name: String, configuration: FunctionConfiguration, arn: String, workers: [WorkerStatus], invocations: UInt64, errors: UInt64,
                throttles: UInt64, timeouts: UInt64, asyncQueued: Int, asyncFailed: UInt64) {
        self.name = name
        self.configuration = configuration
        self.arn = arn
        self.workers = workers
        self.invocations = invocations
        self.errors = errors
        self.throttles = throttles
        self.timeouts = timeouts
        self.asyncQueued = asyncQueued
        self.asyncFailed = asyncFailed
    }
}
