import EnvironmentAPI

/// Which instances an endpoint keeps, starts and drains to go from what runs to a new
/// configuration, as a pure function (no processes): the endpoint service carries it out.
///
/// - A variant whose model (and priority) is unchanged keeps its instances and adds the missing
///   ones, or keeps the first `n` and drains the rest.
/// - A variant with a new model, or that becomes or stops being a shadow (shadows run at idle
///   priority), is blue/green: a full set of new instances, and the old set drains once they
///   are healthy and the route has switched.
/// - Instances of variants the configuration no longer has drain.
enum EndpointConvergence {
    /// One running instance as the decision sees it.
    struct Running: Sendable, Equatable {
        var id: String
        var variant: String
        var idlePriority: Bool
        /// False once the instance is stopping or stopped: it is neither kept nor drained again.
        var active: Bool
    }

    /// One variant as the new configuration wants it.
    struct Desired: Sendable, Equatable {
        var variant: String
        var model: ModelRegistration
        var instances: Int
        var idlePriority: Bool
    }

    struct Decision: Sendable, Equatable {
        /// Instances that stay, by variant, in the order they run.
        var keep: [String: [String]] = [:]
        /// New instances to start, by variant.
        var start: [String: Int] = [:]
        /// Instances to take out of the routes and stop once idle.
        var drain: [String] = []
        /// Variants that switch to a whole new set of instances.
        var blueGreen: Set<String> = []
    }

    /// `previousModels`: the registration each variant runs now.
    static func decide(running: [Running], previousModels: [String: ModelRegistration], desired: [Desired]) -> Decision {
        var d = Decision()
        let wanted = Set(desired.map(\.variant))
        for v in desired {
            let existing = running.filter { $0.variant == v.variant && $0.active }
            let samePriority = existing.allSatisfy { $0.idlePriority == v.idlePriority }
            if let before = previousModels[v.variant], before == v.model, samePriority {
                if existing.count >= v.instances {
                    d.keep[v.variant] = existing.prefix(v.instances).map(\.id)
                    d.drain += existing.dropFirst(v.instances).map(\.id)
                } else {
                    d.keep[v.variant] = existing.map(\.id)
                    d.start[v.variant] = v.instances - existing.count
                }
            } else {
                d.keep[v.variant] = []
                d.start[v.variant] = v.instances
                d.drain += existing.map(\.id)
                if !existing.isEmpty { d.blueGreen.insert(v.variant) }
            }
        }
        d.drain += running.filter { $0.active && !wanted.contains($0.variant) }.map(\.id)
        return d
    }
}
