import EnvironmentAPI
import Events

/// An event rule (EventBridge): a pattern matched against every event on the environment's bus,
/// or a schedule fired on the environment's clock; each match is delivered to the rule's targets
/// (functions, endpoints, loopback URLs, commands, the environment's log) at least once, with
/// retries, and ends in a dead-letter file when it cannot be. Every change is in place, as
/// EventBridge's PutRule and PutTargets.
public struct EventRule: ResourceDefinition {
    public static let kind = ResourceKind.eventRule
    public static let section = ["event_rules"]
    public static let singular = "event rule"
    public static let referenceableAttributes = ["name", "arn"]

    public var name: String
    /// The pattern as compact JSON, keys in the order written.
    public var pattern: String?
    public var schedule: String?
    public var timeZone: String?
    public var enabled = true
    public var description: String?
    public var targets: [EventTargetConfiguration] = []
    public var location: SourceLocation?

    public var dependencies: [ResourceAddress] {
        var out: [ResourceAddress] = []
        for t in targets {
            switch t.kind {
            case .function: out.append(ResourceAddress(.function, t.target))
            case .endpoint: out.append(ResourceAddress(.endpoint, t.target))
            default: break
            }
        }
        return Array(Set(out)).sorted()
    }

    public static func runningAttributes(of c: EventRuleConfiguration) -> Attributes {
        var a: Attributes = [:]
        if let p = c.pattern { a["pattern"] = .string(p) }
        if let s = c.schedule { a["schedule"] = .string(s) }
        if let z = c.timeZone { a["timezone"] = .string(z) }
        a["state"] = .string(c.enabled ? "enabled" : "disabled")
        if let d = c.description { a["description"] = .string(d) }
        for t in c.targets {
            let key = "targets.\(t.id)"
            a[key] = .string(t.kind == .command ? t.command.joined(separator: " ") : t.kind == .log ? "environment log" : t.target)
            switch t.input {
            case .event: break
            case .constant: a[key + ".input"] = .string(t.inputText ?? "")
            case .path: a[key + ".input_path"] = .string(t.inputText ?? "")
            case .transformer:
                a[key + ".input_transformer.template"] = .string(t.template ?? "")
                for (name, path) in t.inputPaths { a[key + ".input_transformer.paths.\(name)"] = .string(path) }
            }
            if t.kind == .endpoint { a[key + ".content_type"] = .string(t.contentType) }
            a[key + ".retry.maximum_attempts"] = .number(Double(t.maxAttempts - 1))
            a[key + ".retry.maximum_event_age"] = .number(t.maxEventAge)
            if let d = t.deadLetter { a[key + ".dead_letter"] = .string(d) }
            if t.kind == .url || t.kind == .command { a[key + ".timeout"] = .number(t.timeout) }
        }
        return a
    }

    /// PutRule and PutTargets change a rule in place, whatever changes.
    public static func replacementReason(changed paths: [String]) -> String? { nil }

    public static func note(forChangedAttribute path: String) -> String? {
        switch path {
        case "schedule", "timezone": return "in place; the next firing is computed from the new schedule"
        case "pattern": return "in place; events already accepted keep the deliveries they matched"
        default: return nil
        }
    }
}

extension EventRule: ReadableDefinition {
    func configuration(in index: ResourceIndex, local: LocalSettings) -> EventRuleConfiguration {
        EventRuleConfiguration(name: name, pattern: pattern, schedule: schedule, timeZone: timeZone, enabled: enabled,
                               description: description, targets: targets)
    }
}

extension ResourceSpec {
    public var eventRule: EventRule? { value(as: EventRule.self) }
}
