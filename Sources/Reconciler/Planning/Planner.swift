import Spec

/// Decides what to do: a pure function of the stack, the recorded state and what the provider
/// observed. It never launches, reads or sleeps, so it is tested with plain values.
public enum Planner {
    public static func plan(stack: Stack, prior: StackState?, observed: Observation) -> Plan {
        let desired = Dictionary(uniqueKeysWithValues: stack.resources.map { ($0.address, $0) })
        let recorded = prior?.resources ?? [:]
        var changes: [Change] = []
        var unchanged = 0
        // What a removed resource owned goes back to the stack (a scaling policy's target).
        var handedBack: [ResourceAddress: [String: ResourceAddress]] = [:]
        for (address, state) in recorded where desired[address] == nil {
            for (target, paths) in address.kind.definition.ownedAttributes(recorded: state.attributes) {
                for path in paths where stack.ownedAttributes[target]?[path] == nil { handedBack[target, default: [:]][path] = address }
            }
        }
        for address in Set(desired.keys).union(recorded.keys).sorted() {
            if let change = change(for: address, desired: desired[address], recorded: recorded[address],
                                   observed: observed.resources[address], owned: stack.ownedAttributes[address] ?? [:],
                                   handedBack: handedBack[address] ?? [:]) {
                changes.append(change)
            } else {
                unchanged += 1
            }
        }
        return Plan(stack: stack.name, environment: stack.environment, mode: .apply, changes: changes, unchanged: unchanged)
    }

    /// Everything recorded goes, dependents first (apply orders it; the list is by address).
    public static func destroyPlan(stack: String, environment: String, prior: StackState?) -> Plan {
        let changes = (prior?.sortedResources ?? []).map { r in
            Change(address: r.address, action: .delete, reason: .destroyRequested,
                   attributes: diff(before: r.attributes, after: [:], spec: nil), before: r, after: nil)
        }
        return Plan(stack: stack, environment: environment, mode: .destroy, changes: changes, unchanged: 0)
    }

    /// `owned`: attributes another resource changes at run time (with how to name the owner).
    /// They are neither drift nor reset: the change keeps what runs (or what was recorded) for
    /// them, and shows them as managed. `handedBack`: attributes whose owner is being removed;
    /// what runs is not drift, and the stack's value is put back.
    static func change(for address: ResourceAddress, desired: ResourceSpec?, recorded: ResourceState?,
                       observed: ObservedResource?, owned: [String: String] = [:], handedBack: [String: ResourceAddress] = [:]) -> Change? {
        switch (desired, recorded) {
        case (let spec?, nil):
            return Change(address: address, action: .create, reason: nil,
                          attributes: diff(before: [:], after: spec.attributes, spec: spec), before: nil, after: spec)
        case (nil, let state?):
            return Change(address: address, action: .delete, reason: .removedFromSpec,
                          attributes: diff(before: state.attributes, after: [:], spec: nil), before: state, after: nil,
                          dataLoss: observed?.storedData.map { "destroys \(address.kind.singular) '\(address.name)': its \($0) are deleted" })
        case (var spec?, let state?):
            guard let observed else {
                return Change(address: address, action: .create, reason: .drifted("recorded in state but not running"),
                              attributes: diff(before: [:], after: spec.attributes, spec: spec), before: state, after: spec)
            }
            // What runs now: the record, corrected by whatever the provider could see.
            var current = state.attributes
            var drifted: [String] = []
            for (path, value) in observed.attributes where state.attributes[path] != value {
                current[path] = value
                if owned[path] == nil && handedBack[path] == nil { drifted.append(path) }
            }
            for path in state.attributes.keys where observed.attributes[path] == nil && spec.observablePaths.contains(path) {
                drifted.append(path)
                current[path] = nil
            }
            var managed: [ManagedAttribute] = []
            for (path, owner) in owned.sorted(by: { $0.key < $1.key }) where spec.attributes[path] != nil {
                if let value = current[path] { spec.attributes[path] = value }
                managed.append(ManagedAttribute(path: path, note: owner + (current[path].map { ", now \($0)" } ?? "")))
            }
            var attributes = diff(before: current, after: spec.attributes, spec: spec)
            guard !attributes.isEmpty else { return nil }
            for i in attributes.indices {
                if let owner = handedBack[attributes[i].path] { attributes[i].note = "no longer managed by \(owner): back to the stack's value" }
            }
            let driftedAndChanging = drifted.sorted().filter { path in attributes.contains { $0.path == path } }
            if let why = spec.replacementReason(from: current) {
                return Change(address: address, action: .replace, reason: .replacedBecause(why),
                              attributes: attributes, before: state, after: spec,
                              dataLoss: observed.storedData.map { "replaces \(address.kind.singular) '\(address.name)': its \($0) are deleted" })
            }
            let reason: ActionReason? = driftedAndChanging.isEmpty ? nil
                : .drifted("\(driftedAndChanging.joined(separator: ", ")) changed outside mlgw-deploy")
            return Change(address: address, action: .update, reason: reason, attributes: attributes, before: state, after: spec,
                          managed: managed.isEmpty ? nil : managed)
        case (nil, nil):
            return nil
        }
    }

    /// Attribute-by-attribute difference, in path order.
    static func diff(before: Attributes, after: Attributes, spec: ResourceSpec?) -> [AttributeChange] {
        Set(before.keys).union(after.keys).sorted().compactMap { path in
            let b = before[path], a = after[path]
            guard b != a else { return nil }
            let note = (b != nil && a != nil) ? spec?.note(forChangedAttribute: path) : nil
            return AttributeChange(path: path, before: b, after: a, note: note)
        }
    }
}
