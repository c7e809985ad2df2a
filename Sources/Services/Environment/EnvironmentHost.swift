import EnvironmentAPI
import Foundation
import NIOCore
import NIOPosix

/// The long-lived process behind one environment: the AWS-compatible front door (the router of
/// every endpoint), the control API, and the supervisor of all model-server processes, which die
/// with it (parent-death signal). Started detached by `apply`; stopped by `destroy`.
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
        let table = RouteTable()
        let metrics = MetricsRegistry()
        var pools: [ObjectIdentifier: UpstreamPool] = [:]
        for loop in group.makeIterator() { pools[ObjectIdentifier(loop)] = UpstreamPool(loop: loop) }
        let poolsByLoop = pools
        let requestIDs = RequestIDs()
        let shadowLane = ShadowLane(loop: MultiThreadedEventLoopGroup(numberOfThreads: 1).next())
        let functions = FunctionHost(directory: directory)
        let gateway = GatewayState(directory: directory)
        let front = try HTTPServer.bind(group: group, port: port) { channel in
            FrontDoorHandler(table: table, metrics: metrics, pool: poolsByLoop[ObjectIdentifier(channel.eventLoop)]!, requestIDs: requestIDs,
                             shadowLane: shadowLane, functions: functions, routeMetrics: gateway)
        }
        let awsPort = front.localAddress?.port ?? port
        let gatewayListener = try HTTPServer.bind(group: group, port: self.gatewayPort) { channel in
            FrontDoorHandler(table: table, metrics: metrics, pool: poolsByLoop[ObjectIdentifier(channel.eventLoop)]!, requestIDs: requestIDs,
                             shadowLane: shadowLane, functions: functions, gateway: gateway)
        }
        let gatewayPort = gatewayListener.localAddress?.port ?? self.gatewayPort
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let controller = EnvironmentController(directory: directory, table: table, metrics: metrics, executable: executable,
                                               functions: functions, gateway: gateway, group: group)
        let infoPath = directory + "/" + EnvironmentInfo.fileName
        // Stopping never blocks a thread: a blocked Dispatch worker waiting on a Task made the
        // pool start a new thread first, which took up to half a second.
        let stop: @Sendable () -> Void = {
            Task {
                await controller.shutdown()
                unlink(infoPath)
                fflush(nil)
                // Everything is stopped and flushed; skip exit()'s teardown of live event loops.
                _exit(0)
            }
        }
        _ = ChildReaper { pid, status in
            if functions.processExited(pid: pid, status: status) { return }
            Task { await controller.processExited(pid: pid, status: status) }
        }
        let control = try HTTPServer.bind(group: group, port: 0) { _ in
            // The answer to the shutdown call goes out before the host stops.
            ControlHandler(controller: controller, onShutdown: { DispatchQueue.global().asyncAfter(deadline: .now() + 0.01, execute: stop) })
        }
        let controlPort = control.localAddress?.port ?? 0
        // Rollouts are supervised level-based: look at each every 200 ms.
        Task {
            while true {
                try? await Task.sleep(nanoseconds: 200_000_000)
                await controller.tickRollouts()
            }
        }
        let semaphore = DispatchSemaphore(value: 0)
        Task {
            await controller.setAWSPort(awsPort, gateway: gatewayPort)
            semaphore.signal()
        }
        semaphore.wait()
        var info = EnvironmentInfo(pid: getpid(), controlPort: controlPort, awsPort: awsPort, startedAt: Date().timeIntervalSince1970)
        info.gatewayPort = gatewayPort
        let data = try JSONEncoder().encode(info)
        let temp = infoPath + ".tmp"
        try data.write(to: URL(fileURLWithPath: temp))
        guard rename(temp, infoPath) == 0 else { throw ControlError(message: "cannot write \(infoPath)", terminal: true) }
        print("\(ISO8601DateFormatter().string(from: Date())) environment host pid \(getpid()): aws url http://127.0.0.1:\(awsPort), gateway http://127.0.0.1:\(gatewayPort), control port \(controlPort)")
        fflush(nil)
        waitForSignal(stop)
    }
}
