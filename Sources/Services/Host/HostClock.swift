import Foundation
import NIOConcurrencyHelpers

/// The time the environment runs on: what schedules, rollouts' bake times, retries' delays and
/// quota periods read. Behind a protocol so that tests can pass a clock they set by hand.
protocol HostClock: Sendable {
    func now() -> Date
}

/// The system's wall clock plus an offset that only grows: moving the environment's time
/// forward rehearses hours of operations in seconds, and nothing that waits ever sees time run
/// backwards.
final class EnvironmentClock: HostClock, @unchecked Sendable {
    private let offset = NIOLockedValueBox(0.0)

    func now() -> Date { Date().addingTimeInterval(offset.withLockedValue { $0 }) }

    /// How far the environment's time is ahead of the wall clock, seconds.
    var ahead: Double { offset.withLockedValue { $0 } }

    /// Moves the environment's time forward by `seconds` (at least 0).
    func advance(by seconds: Double) {
        guard seconds.isFinite, seconds > 0 else { return }
        offset.withLockedValue { $0 += seconds }
    }
}

/// A clock a test sets by hand.
final class ManualClock: HostClock, @unchecked Sendable {
    private let time: NIOLockedValueBox<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { time = NIOLockedValueBox(start) }

    func now() -> Date { time.withLockedValue { $0 } }
    func advance(by seconds: Double) { time.withLockedValue { $0 = $0.addingTimeInterval(seconds) } }
}
