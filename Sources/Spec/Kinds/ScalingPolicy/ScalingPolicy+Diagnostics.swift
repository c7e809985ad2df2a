import EnvironmentAPI

// Every message about scaling policies, in one place.
extension Diagnostic {
    static func badScalingTarget(_ text: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) names target '\(printable(text))', which is not a variant or a function",
                   hint: "write 'target: endpoints.NAME.variants.VARIANT' (its instance count) or 'target: functions.NAME' (its provisioned concurrency)")
    }
    static func scalingMinAboveMax(_ what: String, min: Int, max: Int, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) has min \(min) above max \(max)", hint: "make 'min' at most 'max'")
    }
    static func scalingDuplicateName(_ name: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) has two policies or actions named '\(printable(name))'", hint: "give each a 'name:' of its own")
    }
    static func badScalingName(_ name: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'\(printable(name))' is not a valid name for \(what)", hint: "use letters, digits, '-' and '_'")
    }
    static func badAlarmName(_ name: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'\(printable(name))' is not a valid alarm name for \(what)", hint: "an alarm name is 1 to 255 characters on one line")
    }
    static func unknownScalingValue(_ text: String, what kind: String, of what: String, suggestion: String?, allowed: [String], at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "unknown \(kind) '\(printable(text))' for \(what)",
                   hint: (suggestion.map { "did you mean '\($0)'? " } ?? "") + "use \(allowed.joined(separator: ", "))")
    }
    static func scalingMetricForOtherTarget(_ metric: String, of what: String, function: Bool, allowed: [String], at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) tracks \(metric), which a \(function ? "function" : "variant") does not have",
                   hint: "use \(allowed.joined(separator: ", "))")
    }
    static func badSteps(_ problem: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "the steps of \(what) are not valid: \(problem)",
                   hint: "bounds are relative to the alarm's threshold; together the steps cover one range without gaps or overlaps, as [{upper: 0, adjustment: -1}] or [{lower: 0, upper: 10, adjustment: 1}, {lower: 10, adjustment: 2}]")
    }
    static func magnitudeWithoutPercent(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'min_adjustment_magnitude' of \(what) only goes with 'adjustment_type: PercentChangeInCapacity'",
                   hint: "remove it, or make the adjustments percentages")
    }
    static func badAlarmPeriod(_ seconds: Double, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "the period \(formatNumber(seconds))s of \(what) is not one CloudWatch evaluates",
                   hint: "use 10s, 30s, or a multiple of 60s")
    }
    static func alarmRangeTooLong(_ periods: Int, period: Int, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) evaluates \(periods) periods of \(period)s, more than one day",
                   hint: "make evaluation_periods × period at most 86400s")
    }
    static func scalingConflictingSchedules(_ name: String, other: String, schedule: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "scheduled actions '\(name)' and '\(other)' of \(what) both fire at \(schedule) with different bounds",
                   hint: "give them different schedules, or merge them into one action")
    }
    static func scalingTargetTaken(_ policy: String, other: String, target: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "scaling policies '\(other)' and '\(policy)' both scale \(target)",
                   hint: "a target has one scaling policy: put the target tracking, step scaling and scheduled actions of both under one")
    }
    static func scalingAboveReserved(_ policy: String, function: String, max: Int, reserved: Int, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "scaling policy '\(policy)' may provision \(max) workers, but function '\(function)' is reserved \(reserved)",
                   hint: "lower 'max' to \(reserved), or raise the function's reserved_concurrency")
    }
    static func scalingMultiModel(_ policy: String, endpoint: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "scaling policy '\(policy)' scales endpoint '\(endpoint)', a multi-model endpoint, which this version does not scale",
                   hint: "set the endpoint's multi_model instances in the stack instead")
    }
    static func scalingUnknownVariant(_ variant: String, policy: String, endpoint: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "scaling policy '\(policy)' names variant '\(printable(variant))', which endpoint '\(endpoint)' does not have",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "name one of the endpoint's production variants")
    }
    static func scalingShadowVariant(_ policy: String, endpoint: String, variant: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "scaling policy '\(policy)' scales variant '\(variant)' of endpoint '\(endpoint)', a shadow variant",
                   hint: "scale production variants; a shadow's instances follow the stack")
    }
}
