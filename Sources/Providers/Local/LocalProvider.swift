import EnvironmentAPI
import Foundation
import Reconciler
import Spec

/// The local provider: resources become real processes on this machine, run by one environment
/// host per environment. This type launches and wires; the host (module Services) serves. Each
/// kind is a `KindHandler` in `Kinds/`; nothing here switches over kinds.
public struct LocalProvider: Provider {
    public var folder: EnvironmentFolder
    /// The `mlgw-deploy` binary, which also runs the host and the model servers (`serve ...`).
    public var executable: String

    /// The host found or started by `prepare`, so that each change does not look it up again.
    let known = KnownHost()

    public init(folder: EnvironmentFolder, executable: String) {
        self.folder = folder
        self.executable = executable
    }

    var host: HostProcess { HostProcess(folder: folder, executable: executable) }

    func client() throws -> HostClient {
        if let port = known.controlPort { return HostClient(controlPort: port) }
        guard let info = host.running() else { throw ProviderError("the environment host is not running; run apply again to start it") }
        known.controlPort = info.controlPort
        return HostClient(controlPort: info.controlPort)
    }

    static func handler(for kind: ResourceKind) throws -> AnyKindHandler {
        guard let handler = AnyKindHandler.byKind[kind] else {
            throw ProviderError("the local provider has no handler for \(kind.rawValue)", terminal: true)
        }
        return handler
    }

    /// The kinds the local provider handles, in kind order.
    public static var handledKinds: [ResourceKind] { AnyKindHandler.all.map(\.kind) }

    /// The host's control collections the handlers use.
    public static var usedCollections: [ControlCollection] { AnyKindHandler.all.map(\.collection) }

    /// The host of this environment when it runs and answers.
    public func runningHost() -> EnvironmentInfo? { host.running() }

    /// What `environment.json` says of the host last started, whether or not it still runs.
    public func recordedHost() -> EnvironmentInfo? {
        guard let data = FileManager.default.contents(atPath: folder.infoPath) else { return nil }
        return try? JSONDecoder().decode(EnvironmentInfo.self, from: data)
    }

    /// The host's view of what runs, or nil when no host runs.
    public func snapshot() async -> EnvironmentSnapshot? {
        guard let info = host.running() else { return nil }
        return try? await HostClient(controlPort: info.controlPort).snapshot()
    }

    /// Stores a chunk of a file's rows in a feature group of the running environment (`ingest`).
    public func ingest(_ chunk: FeatureRowsChunk, into group: String) async throws -> FeatureLoadResult {
        try await client().call("POST", ControlCollection.featureGroups.path(group) + "/" + FeatureRowsChunk.action, body: chunk,
                                timeout: 300, as: FeatureLoadResult.self)
    }

    /// Has the running host write its offline queue to the offline store's files.
    public func flushOffline(_ group: String) async throws {
        _ = try await client().call("POST", ControlCollection.featureGroups.path(group) + "/flush", body: [String: String](),
                                    timeout: 120, as: ControlAcknowledgement.self)
    }

    /// The environment's clock; `advance` moves it forward and returns once the schedule firings
    /// in between have been delivered (or wait for a retry).
    public func clock() async throws -> ClockStatus {
        try await client().call("GET", ControlPath.clock, timeout: 10, as: ClockStatus.self)
    }

    public func advanceClock(by seconds: Double) async throws -> ClockStatus {
        try await client().call("POST", ControlPath.clockAdvance, body: ClockAdvance(seconds: seconds), timeout: 120, as: ClockStatus.self)
    }

    /// One event onto the environment's bus.
    public func putEvent(_ entry: EventEntry) async throws -> PutEventResult {
        try await client().call("POST", ControlPath.eventsPut, body: entry, timeout: 10, as: PutEventResult.self)
    }

    /// Runs a monitor now (its window ends now on the environment's clock); answers when it is done.
    public func runMonitor(_ name: String) async throws -> MonitorRunSummary {
        try await client().call("POST", ControlCollection.monitors.path(name) + "/run", body: MonitorActionRequest(), timeout: 600, as: MonitorRunSummary.self)
    }

    /// Computes a monitor's baseline again from its files.
    public func rebaseline(_ name: String) async throws -> MonitorStatus {
        try await client().call("POST", ControlCollection.monitors.path(name) + "/baseline", body: MonitorActionRequest(), timeout: 600, as: MonitorStatus.self)
    }

    /// Every scaling activity a policy recorded, oldest first.
    public func scalingActivities(_ name: String) async throws -> ScalingActivities {
        try await client().call("POST", ControlCollection.scalingPolicies.path(name) + "/activities", body: ScalingActivitiesRequest(), timeout: 10,
                                as: ScalingActivities.self)
    }

    /// The bus's events after `after`.
    public func recentEvents(after: UInt64) async throws -> RecentEvents {
        try await client().call("POST", ControlPath.eventsRecent, body: RecentEventsRequest(after: after), timeout: 10, as: RecentEvents.self)
    }

    /// What each kind adds to `status`: process rows, then sections.
    public static func status(of snapshot: EnvironmentSnapshot, now: Double) -> (rows: [[String]], sections: [StatusSection]) {
        (AnyKindHandler.all.flatMap { $0.processRows(snapshot, now) }, AnyKindHandler.all.flatMap { $0.statusSections(snapshot) })
    }

    public func observe(_ state: StackState?) async throws -> Observation {
        guard let state, !state.resources.isEmpty, let snapshot = await snapshot() else { return Observation() }
        return Self.observation(of: snapshot)
    }

    /// What runs, in plan attributes, from a host's snapshot.
    public static func observation(of snapshot: EnvironmentSnapshot) -> Observation {
        var observed: [ResourceAddress: ObservedResource] = [:]
        for handler in AnyKindHandler.all {
            for (name, resource) in handler.observe(snapshot) { observed[ResourceAddress(handler.kind, name)] = resource }
        }
        return Observation(resources: observed)
    }

    public func prepare(_ plan: Plan, context: ApplyContext) async throws -> [String: String] {
        let info: EnvironmentInfo
        if let running = host.running() {
            info = running
        } else {
            info = try await host.start(port: context.local.port, gatewayPort: context.local.gatewayPort)
        }
        known.controlPort = info.controlPort
        var attributes = ["aws_endpoint_url": "http://127.0.0.1:\(info.awsPort)", "metrics_url": "http://127.0.0.1:\(info.awsPort)/metrics",
                          "host_pid": String(info.pid), "control_port": String(info.controlPort)]
        if let port = info.gatewayPort { attributes["gateway_url"] = "http://127.0.0.1:\(port)" }
        return attributes
    }

    public func create(_ spec: ResourceSpec, context: ApplyContext) async throws -> ResourceState {
        let handler = try Self.handler(for: spec.kind)
        return try await handler.put(spec, HandlerContext(apply: context, client: try client(), folder: folder))
    }

    public func update(_ current: ResourceState, to spec: ResourceSpec, context: ApplyContext) async throws -> ResourceState {
        try await create(spec, context: context)
    }

    public func delete(_ current: ResourceState, context: ApplyContext) async throws {
        // Nothing to do when the host is gone: its processes went with it.
        guard let client = try? client() else { return }
        let handler = try Self.handler(for: current.address.kind)
        try await client.delete(handler.collection, current.address.name, timeout: handler.deleteTimeout)
    }

    public func finish(_ state: StackState) async throws {
        guard state.resources.isEmpty else { return }
        known.controlPort = nil
        await host.stop()
        try? FileManager.default.removeItem(atPath: folder.data)
    }
}

/// The control port of the host this command talks to, once known.
final class KnownHost: @unchecked Sendable {
    private let lock = NSLock()
    private var port: Int?

    var controlPort: Int? {
        get { lock.lock(); defer { lock.unlock() }; return port }
        set { lock.lock(); port = newValue; lock.unlock() }
    }
}
