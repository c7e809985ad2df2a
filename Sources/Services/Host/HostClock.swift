import Atomics
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
    /// Nanoseconds ahead of the wall clock. An atomic, not a lock: the gateway reads the clock on
    /// every request that counts against a quota, from every event loop.
    private let offsetNanos = ManagedAtomic<Int64>(0)

    func now() -> Date {
        let offset = offsetNanos.load(ordering: .relaxed)
        return offset == 0 ? Date() : Date().addingTimeInterval(Double(offset) / 1e9)
    }

    /// How far the environment's time is ahead of the wall clock, seconds.
    var ahead: Double { Double(offsetNanos.load(ordering: .relaxed)) / 1e9 }

    /// Moves the environment's time forward by `seconds` (above 0, at most a century).
    func advance(by seconds: Double) {
        guard seconds.isFinite, seconds > 0, seconds < 3.2e9 else { return }
        offsetNanos.wrappingIncrement(by: Int64(seconds * 1e9), ordering: .relaxed)
    }
}

/// A clock a test sets by hand.
final class ManualClock: HostClock, @unchecked Sendable {
    private let time: NIOLockedValueBox<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { time = NIOLockedValueBox(start) }

    func now() -> Date { time.withLockedValue { $0 } }
    func advance(by seconds: Double) { time.withLockedValue { $0 = $0.addingTimeInterval(seconds) } }
}
