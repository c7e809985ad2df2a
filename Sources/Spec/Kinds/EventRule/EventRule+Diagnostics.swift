import EnvironmentAPI
import Events

// Every message about event rules, in one place.
extension Diagnostic {
    static func patternAndSchedule(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) has both a pattern and a schedule", hint: "a rule either matches events or runs on a schedule: split it into two rules")
    }
    static func badSchedule(_ text: String, problem: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "the schedule of \(what) is not valid: \(problem)",
                   hint: "EventBridge says: \(ScheduleError.awsMessage) Write rate(5 minutes), cron(0 20 * * ? *) or at(2026-12-24T20:00:00)")
    }
    static func badPattern(_ reason: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "the pattern of \(what) is not valid: \(reason)",
                   hint: "EventBridge says: Event pattern is not valid. Reason: \(reason)")
    }
    static func timeZoneWithoutSchedule(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'timezone' of \(what) only goes with a schedule", hint: "remove 'timezone', or give the rule a cron or at schedule")
    }
    static func unknownTimeZone(_ text: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "unknown time zone '\(printable(text))' for \(what)", hint: "use an IANA name, such as Europe/Berlin or America/New_York")
    }
    static func unknownRuleState(_ text: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "unknown state '\(printable(text))' for \(what)", hint: "use enabled or disabled")
    }
    static func ruleDescriptionTooLong(_ what: String, length: Int, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'description' of \(what) has \(length) characters", hint: "EventBridge allows up to 512")
    }
    static func targetAndTargets(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) has both 'target' and 'targets'", hint: "list every target under 'targets:'")
    }
    static func tooManyTargets(_ what: String, count: Int, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) has \(count) targets", hint: "EventBridge allows up to \(EventRule.maxTargets) per rule; add a second rule with the same pattern")
    }
    static func duplicateTarget(_ id: String, of what: String, first: SourceLocation?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) names the target '\(printable(id))' twice", hint: "the first is at \(first?.description ?? "another line"); remove one")
    }
    static func severalTargetKinds(_ what: String, kinds: [String], at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) names \(kinds.joined(separator: " and ")); a target is one of them",
                   hint: "make each its own entry under 'targets:'")
    }
    static func undeclaredTarget(_ address: ResourceAddress, of what: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) names \(address.kind.singular) '\(printable(address.name))', which the stack does not declare",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "declare it under '\(address.kind.rawValue):', or name one that is")
    }
    static func notLoopbackURL(_ url: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'url' of \(what) is not a loopback HTTP URL: '\(printable(url))'",
                   hint: "the environment runs on this machine: write http://127.0.0.1:PORT/PATH (or http://localhost:PORT/PATH)")
    }
    static func logFalse(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) says 'log: false'", hint: "write 'log: true' to send matches to the environment's log, or remove the target")
    }
    static func severalInputs(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) has more than one of 'input', 'input_path' and 'input_transformer'", hint: "keep one (as EventBridge's target takes one)")
    }
    static func badJSONPath(_ text: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'\(printable(text))' of \(what) is not a JSON path EventBridge reads", hint: "write $, then .key or [N] steps, as $.detail.state or $.resources[0]")
    }
    static func reservedTransformerName(_ name: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "path name '\(printable(name))' of \(what) is reserved", hint: "names starting with aws.events. are EventBridge's own (<aws.events.rule-name> and others); rename it")
    }
    static func contentTypeWithoutEndpoint(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'content_type' of \(what) only goes with an endpoint target", hint: "remove it")
    }
    static func timeoutWithoutProcess(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'timeout' of \(what) only goes with a url or command target", hint: "remove it: functions have their own timeout, endpoints their router's")
    }
}
