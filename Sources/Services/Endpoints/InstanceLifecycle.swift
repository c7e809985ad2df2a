/// The lifecycle of one model-server instance, as a pure state machine: the controller feeds it
/// events and carries out the decisions, so the policy is tested without processes.
public struct InstanceLifecycle: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        /// Launched, not yet answering /ping and a probe inference.
        case starting
        case healthy
        /// Exited on its own; a new process starts after a backoff.
        case restarting
        /// Asked to stop (drain or teardown).
        case stopping
        case stopped
        /// Never became healthy at first launch: apply reports it instead of retrying forever.
        case failed
    }

    public enum Decision: Sendable, Equatable {
        case none
        case restart(after: Double)
        /// A requested stop completed.
        case stopped
        /// The first launch failed; report it.
        case launchFailed
    }

    public private(set) var state: State = .starting
    /// Whether the instance has ever been healthy: failures before that fail the apply.
    public private(set) var everHealthy = false
    public private(set) var consecutiveFailures = 0
    public private(set) var restarts = 0

    public static let baseBackoff = 0.1
    public static let maxBackoff = 10.0

    public init() {}

    public mutating func becameHealthy() {
        guard state == .starting else { return }
        state = .healthy
        everHealthy = true
        consecutiveFailures = 0
    }

    public mutating func stopRequested() {
        if state != .stopped && state != .failed { state = .stopping }
    }

    /// A new process was launched for a restart.
    public mutating func relaunched() {
        if state == .restarting { state = .starting }
    }

    public mutating func processExited() -> Decision {
        switch state {
        case .stopping, .stopped:
            state = .stopped
            return .stopped
        case .failed:
            return .none
        case .starting where !everHealthy:
            state = .failed
            return .launchFailed
        case .starting, .healthy, .restarting:
            consecutiveFailures += 1
            restarts += 1
            state = .restarting
            return .restart(after: Self.backoff(failures: consecutiveFailures))
        }
    }

    /// Exponential backoff from 0.1 s, doubling per consecutive failure, capped at 10 s.
    public static func backoff(failures: Int) -> Double {
        min(maxBackoff, baseBackoff * Double(1 << min(max(failures - 1, 0), 20)))
    }
}
