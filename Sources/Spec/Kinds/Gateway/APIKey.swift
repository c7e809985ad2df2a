import EnvironmentAPI

/// An API key: the caller sends it as `x-api-key`. Its value comes from a sensitive variable
/// (an environment variable or a variable file); only a hash of it leaves the command that read it.
public struct APIKey: ResourceDefinition {
    public static let kind = ResourceKind.apiKey
    public static let section = [Gateway.section, "api_keys"]
    public static let singular = "API key"
    public static let referenceableAttributes = ["name"]

    public var name: String
    /// SHA-256 of the value: what the gateway compares a caller's key against.
    public var valueSHA256: String
    public var usagePlan: String?
    public var enabled: Bool
    public var location: SourceLocation?

    public var dependencies: [ResourceAddress] { usagePlan.map { [ResourceAddress(.usagePlan, $0)] } ?? [] }

    public static func runningAttributes(of c: APIKeyConfiguration) -> Attributes {
        var a: Attributes = ["value": .sensitive(fingerprint: SHA256.hex(of: "mlgw-sensitive:" + c.valueSHA256)), "enabled": .bool(c.enabled)]
        if let plan = c.usagePlan { a["usage_plan"] = .string(plan) }
        return a
    }

    public static func replacementReason(changed paths: [String]) -> String? { nil }
    public static func note(forChangedAttribute path: String) -> String? { "in place, no restart" }
}

extension APIKey: ReadableDefinition {
    func configuration(in index: ResourceIndex, local: LocalSettings) -> APIKeyConfiguration {
        APIKeyConfiguration(name: name, valueSHA256: valueSHA256, usagePlan: usagePlan, enabled: enabled)
    }

    static func read(_ entry: ResourceEntry, reader: inout NodeReader, in context: ReadContext) -> APIKey? {
        let what = "API key '\(entry.name)'"
        guard let keys = reader.keys(entry.node, allowed: ["value", "usage_plan", "enabled"], context: what) else { return nil }
        var key = APIKey(name: entry.name, valueSHA256: "", usagePlan: nil, enabled: true, location: reader.location(entry.node))
        var failed = false
        if let p = keys["usage_plan"] {
            if let plan = reader.literalString(p.value, what: "'usage_plan' of \(what)") {
                key.usagePlan = plan
                let loc = reader.location(p.value)
                let declared = context.checkDeclared(ResourceAddress(.usagePlan, plan), reader: &reader) {
                    .unknownUsagePlan(plan, of: what, suggestion: $0, at: loc)
                }
                if !declared { failed = true }
            } else { failed = true }
        }
        if let e = keys["enabled"] {
            if let b = reader.bool(e.value, what: "'enabled' of \(what)") { key.enabled = b } else { failed = true }
        }
        guard let v = reader.require(keys, "value", hint: "add 'value: ${var.NAME}' with a sensitive variable read from an environment variable or a variable file") else { return nil }
        guard let text = reader.literalString(v.value, what: "'value' of \(what)") else { return nil }
        let loc = reader.location(v.value)
        guard text.contains("${") else {
            reader.error(.keyInClear(what, at: loc))
            return nil
        }
        // A variable without a value is reported once, where it is declared; the stack cannot
        // plan, so the key's value stays unknown here.
        if let t = try? Template.parse(text), t.references.contains(where: { $0.count == 2 && $0[0] == "var" && context.unsetVariables.contains($0[1]) }) {
            return failed ? nil : key
        }
        switch reader.evaluate(text, at: loc) {
        case .value(let s, true)?:
            let value = s.description
            guard value.count >= 20 else {
                reader.error(.keyTooShort(what, length: value.count, at: loc))
                return nil
            }
            key.valueSHA256 = SHA256.hex(of: value)
        case .value?:
            reader.error(.keyNotSensitive(what, at: loc))
            return nil
        case .knownAfterApply?:
            reader.error(.notKnownAtPlan(text, at: loc))
            return nil
        case nil:
            return nil
        }
        return failed ? nil : key
    }

    static var schema: String {
        #"""
        {"type": "object", "additionalProperties": false, "required": ["value"], "properties": {
          "value": {"$ref": "#/$defs/expression", "description": "A sensitive variable: ${var.NAME}."},
          "usage_plan": {"type": "string"}, "enabled": {"type": "boolean"}}}
        """#
    }
}
