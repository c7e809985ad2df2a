import EnvironmentAPI
import Foundation

/// The gateway's collections (stages, API keys, usage plans) as a service of the host: each put
/// compiles a new snapshot that the gateway's listener swaps in whole; `reconcile` writes the
/// quota counts the keys used since the last look.
extension GatewayState: EnvironmentService {
    var name: String { "gateway" }

    func register(on router: ControlRouter) {
        router.on(StageConfiguration.self, put: { [self] c in
            try Self.check(c)
            try putStage(c)
            HostLog.write("gateway: applied stage \(c.name)")
            return ControlAcknowledgement(applied: c.name)
        }, delete: { [self] name in
            deleteStage(name)
            HostLog.write("gateway: deleted stage \(name)")
        })
        router.on(APIKeyConfiguration.self, put: { [self] c in
            putKey(c)
            HostLog.write("gateway: applied API key \(c.name)")
            return ControlAcknowledgement(applied: c.name)
        }, delete: { [self] name in
            deleteKey(name)
            HostLog.write("gateway: deleted API key \(name)")
        })
        router.on(UsagePlanConfiguration.self, put: { [self] c in
            try Self.check(c)
            putPlan(c)
            HostLog.write("gateway: applied usage plan \(c.name)")
            return ControlAcknowledgement(applied: c.name)
        }, delete: { [self] name in
            deletePlan(name)
            HostLog.write("gateway: deleted usage plan \(name)")
        })
    }

    /// Nothing to look at on a timer: quota counts are written as they are taken.
    func reconcile(now: Date) async -> Date? { nil }

    func processExited(pid: Int32, status: Int32) async {}

    /// What the host checks again, whatever the stack's validation did: a route timeout or a
    /// throttle that would trap a timer or a conversion answers an error for this stage.
    static func check(_ c: StageConfiguration) throws {
        func bad(_ what: String) -> ControlError { ControlError(message: "stage \(c.name): \(what)", terminal: true) }
        for r in c.routes {
            guard r.timeout.isFinite, r.timeout > 0, r.timeout <= RouteConfiguration.maxTimeout else { throw bad("route '\(r.key)' has a timeout of \(r.timeout)s") }
            if let t = r.throttle { try check(t, bad: bad) }
            if case .mock(let status, _, _) = r.integration, !(100...599).contains(status) { throw bad("route '\(r.key)' mocks status \(status)") }
        }
        if let t = c.throttle { try check(t, bad: bad) }
        guard c.maxBodyBytes >= 1 else { throw bad("max body \(c.maxBodyBytes)") }
        if let age = c.cors?.maxAge, !(0...86_400).contains(age) { throw bad("CORS max age \(age)s") }
    }

    static func check(_ c: UsagePlanConfiguration) throws {
        func bad(_ what: String) -> ControlError { ControlError(message: "usage plan \(c.name): \(what)", terminal: true) }
        if let t = c.throttle { try check(t, bad: bad) }
        for t in c.routeThrottles.values { try check(t, bad: bad) }
        if let limit = c.quotaLimit, limit < 1 { throw bad("quota limit \(limit)") }
    }

    static func check(_ t: Throttle, bad: (String) -> ControlError) throws {
        guard t.rate.isFinite, t.rate > 0, t.rate <= 1e9, t.burst >= 1 else { throw bad("throttle rate \(t.rate), burst \(t.burst)") }
    }
}
