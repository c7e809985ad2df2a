import EnvironmentAPI

/// A scaling policy (Application Auto Scaling's scalable target with its policies): a variant's
/// instance count or a function's provisioned concurrency, kept between `min` and `max` by
/// target tracking, step scaling on alarms, and scheduled actions, on the environment's clock.
/// The policy owns the target's capacity: the plan shows it as managed, neither drift nor a
/// change; removing the policy hands the capacity back to the stack.
public struct ScalingPolicy: ResourceDefinition {
    public static let kind = ResourceKind.scalingPolicy
    public static let section = ["scaling_policies"]
    public static let singular = "scaling policy"
    public static let referenceableAttributes = ["name", "resource_id"]

    public var name: String
    public var target: ScalableTarget
    /// As written: `endpoints.fraud.variants.current`, `functions.enrich`.
    public var targetText: String
    public var minCapacity: Int
    public var maxCapacity: Int
    public var targetTracking: [TargetTrackingPolicy] = []
    public var stepScaling: [StepScalingPolicy] = []
    public var scheduledActions: [ScheduledAction] = []
    public var location: SourceLocation?
    var targetLocation: SourceLocation?

    public var targetAddress: ResourceAddress {
        target.function.map { ResourceAddress(.function, $0) } ?? ResourceAddress(.endpoint, target.endpoint ?? "")
    }

    /// The attribute of the target that the policy owns.
    public var ownedPath: String { target.isFunction ? "provisioned_concurrency" : "variants.\(target.variant ?? "").instances" }

    public var dependencies: [ResourceAddress] { [targetAddress] }

    public var ownedAttributes: [ResourceAddress: [String: String]] {
        [targetAddress: [ownedPath: "\(minCapacity)..\(maxCapacity), managed by \(address)"]]
    }

    /// What a recorded policy owned (its `target` attribute), so that a plan removing it can say
    /// the capacity goes back to the stack.
    public static func ownedAttributes(recorded attributes: Attributes) -> [ResourceAddress: Set<String>] {
        guard case .string(let text)? = attributes["target"], let t = parseTarget(text) else { return [:] }
        if let f = t.function { return [ResourceAddress(.function, f): ["provisioned_concurrency"]] }
        return [ResourceAddress(.endpoint, t.endpoint ?? ""): ["variants.\(t.variant ?? "").instances"]]
    }

    /// `endpoints.E.variants.V` or `functions.F`.
    static func parseTarget(_ text: String) -> ScalableTarget? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 4, parts[0] == "endpoints", parts[2] == "variants", !parts[1].isEmpty, !parts[3].isEmpty {
            return .variant(parts[1], parts[3])
        }
        if parts.count == 2, parts[0] == "functions", !parts[1].isEmpty { return .function(parts[1]) }
        return nil
    }

    static func targetText(_ t: ScalableTarget) -> String {
        t.function.map { "functions.\($0)" } ?? "endpoints.\(t.endpoint ?? "").variants.\(t.variant ?? "")"
    }

    public static func runningAttributes(of c: ScalingPolicyConfiguration) -> Attributes {
        var a: Attributes = [:]
        a["target"] = .string(targetText(c.target))
        a["min"] = .number(Double(c.minCapacity))
        a["max"] = .number(Double(c.maxCapacity))
        for t in c.targetTracking {
            let p = "target_tracking.\(t.name)."
            a[p + "metric"] = .string(t.metric.rawValue)
            a[p + "target"] = .number(t.targetValue)
            a[p + "scale_in_cooldown"] = .number(t.scaleInCooldown)
            a[p + "scale_out_cooldown"] = .number(t.scaleOutCooldown)
            a[p + "disable_scale_in"] = .bool(t.disableScaleIn)
        }
        for s in c.stepScaling {
            let p = "step_scaling.\(s.name)."
            let alarm = s.alarm
            a[p + "alarm"] = .string("\(alarm.name): \(alarm.statistic.rawValue)(\(alarm.metric.rawValue)) \(alarm.comparison.symbol) \(formatCapacityNumber(alarm.threshold)) "
                                     + "for \(alarm.datapointsToAlarm) of \(alarm.evaluationPeriods) periods of \(alarm.period)s, missing data: \(alarm.missingData.text)")
            a[p + "adjustment_type"] = .string(s.adjustmentType.rawValue)
            a[p + "steps"] = .string(s.steps.map { "[\($0.lower.map(formatCapacityNumber) ?? "-inf"), \($0.upper.map(formatCapacityNumber) ?? "+inf")): \($0.adjustment > 0 && s.adjustmentType != .exactCapacity ? "+" : "")\($0.adjustment)" }
                .joined(separator: ", "))
            if let m = s.minAdjustmentMagnitude { a[p + "min_adjustment_magnitude"] = .number(Double(m)) }
            a[p + "cooldown"] = .number(s.cooldown)
        }
        for s in c.scheduledActions {
            let p = "scheduled_actions.\(s.name)."
            a[p + "schedule"] = .string(s.schedule + (s.timeZone.map { " (\($0))" } ?? ""))
            if let m = s.minCapacity { a[p + "min"] = .number(Double(m)) }
            if let m = s.maxCapacity { a[p + "max"] = .number(Double(m)) }
        }
        return a
    }

    public static func replacementReason(changed paths: [String]) -> String? {
        paths.contains("target") ? "a scaling policy scales one target: another target is another policy (its activities stay in data/scaling)" : nil
    }

    public static func note(forChangedAttribute path: String) -> String? {
        switch path {
        case "min", "max": return "in place; the capacity is brought inside the new bounds at once"
        default: return path.hasPrefix("scheduled_actions.") ? "in place; the next firing is computed from the new schedule" : "in place; the next evaluation uses it"
        }
    }
}

extension ScalingPolicy: ReadableDefinition {
    func configuration(in index: ResourceIndex, local: LocalSettings) -> ScalingPolicyConfiguration {
        ScalingPolicyConfiguration(name: name, target: target, minCapacity: minCapacity, maxCapacity: maxCapacity, targetTracking: targetTracking,
                                   stepScaling: stepScaling, scheduledActions: scheduledActions)
    }

    func check(in index: ResourceIndex, into diagnostics: inout Diagnostics) {
        if let f = target.function {
            guard let function = index.value(Function.self, named: f) else { return }
            if maxCapacity > function.reservedConcurrency {
                diagnostics.append(.scalingAboveReserved(name, function: f, max: maxCapacity, reserved: function.reservedConcurrency, at: targetLocation))
            }
        } else if let e = target.endpoint, let v = target.variant {
            guard let endpoint = index.value(Endpoint.self, named: e) else { return }
            if endpoint.multiModel != nil {
                diagnostics.append(.scalingMultiModel(name, endpoint: e, at: targetLocation))
                return
            }
            guard let variant = endpoint.variants.first(where: { $0.name == v }) else {
                diagnostics.append(.scalingUnknownVariant(v, policy: name, endpoint: e, suggestion: suggestion(for: v, among: endpoint.variants.map(\.name)), at: targetLocation))
                return
            }
            if variant.shadowSamplePercent != nil {
                diagnostics.append(.scalingShadowVariant(name, endpoint: e, variant: v, at: targetLocation))
            }
        }
        // One target, one policy: two would fight over its capacity and their schedules.
        let others = index.values.values.compactMap { $0 as? ScalingPolicy }.filter { $0.name < name && $0.target == target }
        if let other = others.first {
            diagnostics.append(.scalingTargetTaken(name, other: other.name, target: targetText, at: targetLocation))
        }
    }
}
