import EnvironmentAPI

/// A usage plan: throttling as a token bucket per key, a quota per period, and per-route overrides.
public struct UsagePlan: ResourceDefinition {
    public typealias Period = QuotaPeriod

    public static let kind = ResourceKind.usagePlan
    public static let section = [Gateway.section, "usage_plans"]
    public static let singular = "usage plan"
    public static let referenceableAttributes = ["name"]
    /// The largest quota a plan may set per period.
    static let maxQuota = 2_000_000_000

    public var name: String
    public var throttle: Throttle?
    public var quotaLimit: Int?
    public var quotaPeriod: Period?
    /// Stages the plan's keys may call; empty means every stage.
    public var stages: [String]
    /// Throttling for one route of one stage, keyed `STAGE METHOD /path`.
    public var routeThrottles: [String: Throttle]
    /// Where each route override is written, by its key.
    public var routeLocations: [String: SourceLocation] = [:]
    public var location: SourceLocation?

    public var dependencies: [ResourceAddress] { [] }

    public static func runningAttributes(of c: UsagePlanConfiguration) -> Attributes {
        var a: Attributes = [:]
        if let t = c.throttle { a.merge(t.attributes(prefix: "throttle")) { $1 } }
        if let l = c.quotaLimit, let p = c.quotaPeriod { a["quota.limit"] = .number(Double(l)); a["quota.period"] = .string(p.rawValue) }
        if !c.stages.isEmpty { a["stages"] = .string(c.stages.joined(separator: ",")) }
        for (k, t) in c.routeThrottles { a.merge(t.attributes(prefix: "routes[\(k)].throttle")) { $1 } }
        return a
    }

    public static func replacementReason(changed paths: [String]) -> String? { nil }
    public static func note(forChangedAttribute path: String) -> String? { "in place, no restart" }
}

extension UsagePlan: ReadableDefinition {
    func configuration(in index: ResourceIndex, local: LocalSettings) -> UsagePlanConfiguration {
        UsagePlanConfiguration(name: name, throttle: throttle, quotaLimit: quotaLimit, quotaPeriod: quotaPeriod, stages: stages, routeThrottles: routeThrottles)
    }

    /// A route override must name a route its stage has.
    func check(in index: ResourceIndex, into diagnostics: inout Diagnostics) {
        for key in routeThrottles.keys.sorted() {
            let parts = key.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, let stage = index.value(Stage.self, named: parts[0]) else { continue }
            if !stage.routes.contains(where: { $0.key == parts[1] }) {
                diagnostics.append(.unknownOverrideRoute(key, plan: name, stage: stage.name,
                                                         suggestion: suggestion(for: parts[1], among: stage.routes.map(\.key)),
                                                         at: routeLocations[key]))
            }
        }
    }

    static func read(_ entry: ResourceEntry, reader: inout NodeReader, in context: ReadContext) -> UsagePlan? {
        let what = "usage plan '\(entry.name)'"
        guard let keys = reader.keys(entry.node, allowed: ["throttle", "quota", "stages", "routes"], context: what) else { return nil }
        var plan = UsagePlan(name: entry.name, stages: [], routeThrottles: [:], location: reader.location(entry.node))
        var failed = false
        if let t = keys["throttle"] {
            if let th = Gateway.readThrottle(t.value, context: "'throttle' of \(what)", reader: &reader) { plan.throttle = th } else { failed = true }
        }
        if let q = keys["quota"] {
            if let qk = reader.keys(q.value, allowed: ["limit", "period"], context: "'quota' of \(what)") {
                if let l = reader.require(qk, "limit", hint: "add 'limit: 10000'") {
                    if let n = reader.integer(l.value, what: "'quota.limit' of \(what)", range: 1...maxQuota) { plan.quotaLimit = n } else { failed = true }
                } else { failed = true }
                plan.quotaPeriod = .day
                if let p = qk["period"] {
                    if let text = reader.literalString(p.value, what: "'quota.period' of \(what)") {
                        if let period = Period(rawValue: text) { plan.quotaPeriod = period } else {
                            reader.error(.unknownQuotaPeriod(text, of: what, at: reader.location(p.value)))
                            failed = true
                        }
                    } else { failed = true }
                }
            } else { failed = true }
        }
        if let s = keys["stages"] {
            if let list = reader.stringList(s.value, what: "'stages' of \(what)") {
                let loc = reader.location(s.value)
                for stage in list {
                    let declared = context.checkDeclared(ResourceAddress(.stage, stage), reader: &reader) {
                        .unknownStage(stage, of: what, suggestion: $0, at: loc)
                    }
                    if !declared { failed = true }
                }
                plan.stages = list
            } else { failed = true }
        }
        if let r = keys["routes"] {
            if let rEntries = reader.mapping(r.value, what: "'routes' of \(what)") {
                for e in rEntries {
                    let parts = e.key.split(separator: " ", maxSplits: 1).map(String.init)
                    guard parts.count == 2 else {
                        reader.error(.overrideKeyMalformed(e.key, of: what, at: e.keyLocation))
                        failed = true
                        continue
                    }
                    let stageDeclared = context.checkDeclared(ResourceAddress(.stage, parts[0]), reader: &reader) {
                        .unknownStage(parts[0], of: "route override '\(e.key)' of \(what)", suggestion: $0, at: e.keyLocation)
                    }
                    guard stageDeclared, let (method, path) = Gateway.parseRouteKey(parts[1], at: e.keyLocation, reader: &reader) else {
                        failed = true
                        continue
                    }
                    let context = "route override '\(e.key)' of \(what)"
                    guard let rk = reader.keys(e.value, allowed: ["throttle"], context: context),
                          let t = reader.require(rk, "throttle", hint: "add 'throttle: {rate: 10, burst: 20}'"),
                          let th = Gateway.readThrottle(t.value, context: "'throttle' of \(context)", reader: &reader) else {
                        failed = true
                        continue
                    }
                    let key = "\(parts[0]) \(method) \(path)"
                    plan.routeThrottles[key] = th
                    plan.routeLocations[key] = e.keyLocation
                }
            } else { failed = true }
        }
        return failed ? nil : plan
    }

    static var schema: String {
        #"""
        {"type": "object", "additionalProperties": false, "properties": {
          "throttle": {"$ref": "#/$defs/throttle"},
          "quota": {"type": "object", "additionalProperties": false, "required": ["limit"], "properties": {
            "limit": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": \#(maxQuota)}, {"$ref": "#/$defs/expression"}]},
            "period": {"enum": [\#(Period.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))]}}},
          "stages": {"type": "array", "items": {"type": "string"}},
          "routes": {"type": "object", "description": "Per-route throttles, keyed 'STAGE METHOD /path'.",
                     "additionalProperties": {"type": "object", "additionalProperties": false, "required": ["throttle"],
                                              "properties": {"throttle": {"$ref": "#/$defs/throttle"}}}}}}
        """#
    }
}
