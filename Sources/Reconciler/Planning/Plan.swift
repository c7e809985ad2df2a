import EnvironmentAPI
import Spec

/// What apply will do to one resource.
public enum Action: String, Sendable, Equatable, Codable {
    case create, update, replace, delete
    case noChange = "no-op"
}

/// Why an action was chosen. Shown to the user; apply must not branch on it.
public enum ActionReason: Sendable, Equatable, Codable {
    /// The resource is in state but no longer in the stack files.
    case removedFromSpec
    /// `destroy` asked for everything to go.
    case destroyRequested
    /// An attribute that cannot change in place changed.
    case replacedBecause(String)
    /// What runs differs from what the last apply recorded.
    case drifted(String)

    public var text: String {
        switch self {
        case .removedFromSpec: return "removed from the stack"
        case .destroyRequested: return "destroy requested"
        case .replacedBecause(let why): return why
        case .drifted(let what): return "drifted: \(what)"
        }
    }
}

/// One attribute's before and after. `nil` means absent on that side.
public struct AttributeChange: Sendable, Equatable, Codable {
    public var path: String
    public var before: AttributeValue?
    public var after: AttributeValue?
    /// What this change costs at apply ("forces replacement", "in place, no restart").
    public var note: String?
}

/// One resource's planned change.
public struct Change: Sendable, Equatable, Codable {
    public var address: ResourceAddress
    public var action: Action
    /// For display only; apply must not depend on it.
    public var reason: ActionReason?
    /// Changed attributes in path order (for a create: all of them).
    public var attributes: [AttributeChange]
    /// What exists now (nil for a create).
    public var before: ResourceState?
    /// What the stack wants (nil for a delete).
    public var after: ResourceSpec?
    /// What a replace or delete deletes of the data the resource holds, in words ("replaces
    /// feature group 'customers': its 1,204 online records ... are deleted"); apply refuses such
    /// a change without `--allow-data-loss`. Destroy plans never carry it (destroy is explicit).
    public var dataLoss: String?
    /// Attributes another resource manages at run time, as the plan shows them beside the change
    /// ("1..6, managed by scaling_policies.fraud-current, now 4"): neither drift nor a change.
    public var managed: [ManagedAttribute]?

    public init(address: ResourceAddress, action: Action, reason: ActionReason?, attributes: [AttributeChange], before: ResourceState?,
                after: ResourceSpec?, dataLoss: String? = nil, managed: [ManagedAttribute]? = nil) {
        self.address = address
        self.action = action
        self.reason = reason
        self.attributes = attributes
        self.before = before
        self.after = after
        self.dataLoss = dataLoss
        self.managed = managed
    }
}

/// An attribute another resource owns at run time.
public struct ManagedAttribute: Sendable, Equatable, Codable {
    public var path: String
    public var note: String

    public init(path: String, note: String) {
        self.path = path
        self.note = note
    }
}

extension Plan {
    /// The changes that delete stored data.
    public var dataLosingChanges: [Change] { changes.filter { $0.dataLoss != nil } }
}

/// The exact set of changes an apply performs, in address order.
public struct Plan: Sendable, Equatable, Codable {
    public enum Mode: String, Sendable, Codable { case apply, destroy }

    public var stack: String
    public var environment: String
    public var mode: Mode
    /// Only resources that change, sorted by address.
    public var changes: [Change]
    /// How many resources stay as they are.
    public var unchanged: Int

    public var hasChanges: Bool { !changes.isEmpty }

    public struct Summary: Sendable, Equatable, Codable {
        public var add = 0, change = 0, replace = 0, destroy = 0, unchanged = 0
    }

    public var summary: Summary {
        var s = Summary(unchanged: unchanged)
        for c in changes {
            switch c.action {
            case .create: s.add += 1
            case .update: s.change += 1
            case .replace: s.replace += 1
            case .delete: s.destroy += 1
            case .noChange: break
            }
        }
        return s
    }
}

/// What the provider saw when it refreshed, gathered before planning.
public struct Observation: Sendable, Equatable, Codable {
    /// Resources the provider found running, by address. A recorded resource missing here is gone.
    public var resources: [ResourceAddress: ObservedResource]

    public init(resources: [ResourceAddress: ObservedResource] = [:]) {
        self.resources = resources
    }

    /// A stable hash of what planning depends on: a saved plan refuses to apply if it changed.
    public var fingerprint: String {
        let lines = resources.keys.sorted().map { address -> String in
            let r = resources[address]!
            let attrs = r.attributes.keys.sorted().map { "\($0)=\(r.attributes[$0]!)" }.joined(separator: ",")
            return "\(address)|\(attrs)"
        }
        return SHA256.hex(of: lines.joined(separator: "\n"))
    }
}

extension Observation {
    /// What differs from `earlier`, for people: a resource that started or stopped running, and
    /// each attribute that changed (`endpoints.e: variants.a.weight is 30, was 50`). At most
    /// `limit` lines, then how many more.
    public func differences(since earlier: Observation, limit: Int = 8) -> [String] {
        var lines: [String] = []
        for address in Set(resources.keys).union(earlier.resources.keys).sorted() {
            switch (earlier.resources[address], resources[address]) {
            case (nil, .some): lines.append("\(address) started running")
            case (.some, nil): lines.append("\(address) is no longer running")
            case (let then?, let now?):
                for path in Set(then.attributes.keys).union(now.attributes.keys).sorted() where then.attributes[path] != now.attributes[path] {
                    switch (then.attributes[path], now.attributes[path]) {
                    case (let a?, let b?): lines.append("\(address): \(path) is \(b), was \(a)")
                    case (let a?, nil): lines.append("\(address): \(path) is gone, was \(a)")
                    case (nil, let b?): lines.append("\(address): \(path) is \(b), was not set")
                    case (nil, nil): break
                    }
                }
            case (nil, nil): break
            }
        }
        guard lines.count > limit else { return lines }
        return Array(lines.prefix(limit)) + ["and \(lines.count - limit) more"]
    }
}

/// One running resource as the provider sees it: the attributes it can check, such as the weights
/// and instance counts an endpoint serves with.
public struct ObservedResource: Sendable, Equatable, Codable {
    public var attributes: Attributes
    /// What the resource holds, in words ("1,204 online records and 3,400 offline rows of
    /// history"), for a kind that keeps data; nil when it holds nothing. Not part of the
    /// fingerprint: records written since a plan was saved do not make it stale.
    public var storedData: String?

    public init(attributes: Attributes, storedData: String? = nil) {
        self.attributes = attributes
        self.storedData = storedData
    }
}
