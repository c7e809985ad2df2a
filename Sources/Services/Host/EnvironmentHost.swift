import EnvironmentAPI
import Foundation
import NIOCore
import NIOPosix

/// The long-lived process behind one environment: the AWS-compatible front door (the router of
/// every endpoint and Lambda's Invoke), the gateway's listener, the control API, and the
/// services (models, endpoints, functions, the gateway) under one supervisor. Every child process
/// dies with it (parent-death signal). Started detached by `apply`; stopped by `destroy`, or by
/// SIGTERM, which drains: listeners close, work in flight finishes (up to a bound), children stop.
public struct EnvironmentHost {
    public var directory: String
    /// The front door's port; 0 lets the OS choose.
    public var port: Int
    /// The gateway's port; 0 lets the OS choose.
    public var gatewayPort: Int

    public init(directory: String, port: Int, gatewayPort: Int = 0) {
        self.directory = directory
        self.port = port
        self.gatewayPort = gatewayPort
    }

    public func run() throws -> Never {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let clock = EnvironmentClock()
        let supervisor = Supervisor(clock: clock)
        let spawner = ProcessSpawner()
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let table = RouteTable()
        let metrics = MetricsRegistry()
        let models = ModelRegistry(directory: directory)
        let endpoints = EndpointService(directory: directory, table: table, metrics: metrics, executable: executable, spawner: spawner,
                                        models: models, supervisor: supervisor)
        let functions = FunctionService(directory: directory, group: group, spawner: spawner, supervisor: supervisor)
        let gateway = GatewayState(directory: directory, clock: clock)
        let features = try FeatureStoreService(directory: directory, clock: clock)
        let events = EventBusService(directory: directory, clock: clock, functions: functions, supervisor: supervisor)
        // A failed asynchronous invocation is Lambda's on-failure event (an EventBridge destination).
        functions.onFailure = { [weak events] name, requestID, attempts, error, payload in
            events?.emit(source: "lambda", detailType: "Lambda Function Invocation Result - Failure",
                         detail: EventBusService.lambdaFailure(function: name, requestID: requestID, attempts: attempts, error: error, payload: payload),
                         resources: [FunctionService.arn(name)])
        }
        // Rollout steps, completions, halts and rollbacks, instance exits and restarts are events on
        // the bus (source mlgw.endpoint).
        endpoints.onEvent = { [weak events] type, endpoint, variant, detail in
            events?.emit(source: "mlgw.endpoint", detailType: EventBusService.rolloutDetailType(type),
                         detail: .object([.init("endpoint", .string(endpoint)), .init("variant", .string(variant)), .init("event", .string(type)),
                                          .init("note", .string(detail))]),
                         resources: ["arn:aws:sagemaker:\(AWSIdentity.region):\(AWSIdentity.account):endpoint/\(endpoint)"])
        }
        // Every monitor run is an event on the bus (source mlgw.monitor), violations in its detail.
        let monitors = MonitorService(directory: directory, clock: clock, supervisor: supervisor, metrics: metrics)
        monitors.onEvent = { [weak events] type, detail, resources in
            events?.emit(source: "mlgw.monitor", detailType: type, detail: detail, resources: resources)
        }
        // Scaling activities are events on the bus, as Application Auto Scaling sends them.
        let scaling = ScalingService(directory: directory, endpoints: endpoints, functions: functions, metrics: metrics, table: table, supervisor: supervisor)
        scaling.onEvent = { [weak events] type, detail, resources in
            events?.emit(source: "aws.application-autoscaling", detailType: type, detail: detail, resources: resources)
        }
        // The order services are looked at, and stopped in reverse: the gateway first, the
        // models it all depends on last.
        let services: [any EnvironmentService] = [models, features, endpoints, monitors, functions, scaling, events, gateway]
        let router = ControlRouter()
        for service in services { service.register(on: router) }

        var pools: [ObjectIdentifier: UpstreamPool] = [:]
        for loop in group.makeIterator() { pools[ObjectIdentifier(loop)] = UpstreamPool(loop: loop) }
        let poolsByLoop = pools
        let frontDoor = FrontDoorServices(table: table, metrics: metrics, requestIDs: RequestIDs(),
                                          shadowLane: ShadowLane(loop: MultiThreadedEventLoopGroup(numberOfThreads: 1).next()),
                                          functions: functions, gateway: gateway, features: features, events: events)
        let front = try Self.listen(group: group, port: port, what: "the AWS URL (local.port)") { channel in
            FrontDoorHandler(services: frontDoor, pool: poolsByLoop[ObjectIdentifier(channel.eventLoop)]!)
        }
        let awsPort = front.localAddress?.port ?? port
        let gatewayListener = try Self.listen(group: group, port: self.gatewayPort, what: "the gateway (local.gateway_port)") { channel in
            GatewayHandler(services: frontDoor, pool: poolsByLoop[ObjectIdentifier(channel.eventLoop)]!)
        }
        let gatewayPort = gatewayListener.localAddress?.port ?? self.gatewayPort
        functions.setAWSPort(awsPort)
        events.setAWSPort(awsPort)
        _ = ChildReaper(children: spawner.children)

        let infoPath = directory + "/" + EnvironmentInfo.fileName
        let stopping = ManagedFlag()
        // Stopping never blocks a thread: a blocked Dispatch worker waiting on a Task made the
        // pool start a new thread first, which took up to half a second.
        let stop: @Sendable () -> Void = {
            guard stopping.set() else { return }
            Task {
                HostLog.write("environment stopping: listeners close, work in flight finishes")
                _ = try? await front.close().get()
                _ = try? await gatewayListener.close().get()
                await supervisor.stop()
                for service in services.reversed() { await service.shutdown() }
                unlink(infoPath)
                HostLog.write("environment stopped")
                fflush(nil)
                // Everything is stopped and flushed; skip exit()'s teardown of live event loops.
                _exit(0)
            }
        }
        let snapshot: @Sendable () async -> EnvironmentSnapshot = {
            var s = EnvironmentSnapshot(pid: getpid(), awsPort: awsPort, gatewayPort: gatewayPort, startedAt: startedAt)
            for service in services { await service.describe(into: &s) }
            return s
        }
        let directory = self.directory
        let ui: @Sendable () async -> Data = {
            let s = await snapshot()
            let (recent, _) = events.recent(after: 0)
            return StatusPage.state(directory: directory, snapshot: s, events: recent.suffix(30).map(\.1))
        }
        let control = try HTTPServer.bind(group: group, port: 0) { _ in
            // The answer to the shutdown call goes out before the host stops.
            ControlHandler(router: router, snapshot: snapshot, onShutdown: { DispatchQueue.global().asyncAfter(deadline: .now() + 0.01, execute: stop) },
                           ui: ui)
        }
        let controlPort = control.localAddress?.port ?? 0
        let semaphore = DispatchSemaphore(value: 0)
        Task {
            for service in services { await supervisor.add(service) }
            semaphore.signal()
            await supervisor.run()
        }
        semaphore.wait()
        let info = EnvironmentInfo(pid: getpid(), controlPort: controlPort, awsPort: awsPort, startedAt: startedAt, gatewayPort: gatewayPort)
        let data = try JSONEncoder().encode(info)
        let temp = infoPath + ".tmp"
        try data.write(to: URL(fileURLWithPath: temp))
        guard rename(temp, infoPath) == 0 else { throw ControlError(message: "cannot write \(infoPath)", terminal: true) }
        HostLog.write("environment host pid \(getpid()): aws url http://127.0.0.1:\(awsPort), gateway http://127.0.0.1:\(gatewayPort), control port \(controlPort)")
        waitForSignal(stop)
    }
}

extension EnvironmentHost {
    /// A listener that could not be opened, said plainly (the provider shows this line).
    struct ListenError: Error, CustomStringConvertible {
        var description: String
    }

    static func listen(group: EventLoopGroup, port: Int, what: String, make: @escaping @Sendable (Channel) -> ChannelHandler) throws -> Channel {
        do {
            return try HTTPServer.bind(group: group, port: port, make: make)
        } catch let error as IOError {
            let reason = error.errnoCode == EADDRINUSE ? "address already in use" : String(cString: strerror(error.errnoCode))
            throw ListenError(description: "cannot listen on 127.0.0.1:\(port) for \(what): \(reason)")
        }
    }
}

/// When this host started (Unix seconds).
let startedAt = Date().timeIntervalSince1970

/// A flag that is set once.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    /// True the first time only.
    func set() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if value { return false }
        value = true
        return true
    }
}
