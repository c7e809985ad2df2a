import EnvironmentAPI
import Foundation

/// A service of the environment host (models, endpoints, functions, the gateway): it owns some
/// control collections, converges level-based when the supervisor asks it to, hears about the
/// exits of the processes it started, describes itself in the snapshot, and stops gracefully.
/// The host wires a list of them; nothing in the host switches over what they serve.
protocol EnvironmentService: AnyObject, Sendable {
    /// For logs: "endpoints".
    var name: String { get }
    /// Registers the PUT and DELETE of each collection the service owns.
    func register(on router: ControlRouter)
    /// One level-based look at what should be against what is, at `now` on the host's clock.
    /// Returns when the service wants the next look (nil: not before something changes).
    func reconcile(now: Date) async -> Date?
    /// A process this service started has exited (only its own are reported to it).
    func processExited(pid: Int32, status: Int32) async
    /// Adds what the service runs to the snapshot.
    func describe(into snapshot: inout EnvironmentSnapshot) async
    /// Stops taking work, lets work in flight finish (up to a bound), then stops its processes.
    func shutdown() async
}

/// The host's log (`logs/environment.log` is the host's standard output): one stamped line each.
enum HostLog {
    static func write(_ message: String) {
        let stamp = ISO8601DateFormatter().string(from: Date())
        print("\(stamp) \(message)")
        fflush(nil)
    }
}
