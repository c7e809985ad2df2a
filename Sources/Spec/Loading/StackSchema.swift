/// The JSON Schema (draft 2020-12) of a stack file, printed by `mlgw-deploy schema`. Editors use it
/// for completion; CI checks every stack in stacks/ against it. Each kind contributes its own part
/// (`schema` and `schemaDefinitions` in its folder), so the schema describes exactly the kinds this
/// version builds. `validate` checks more than a schema can (references, artifact files, weights).
public enum StackSchema {
    public static var json: String {
        var sections: [String] = []
        var gateway: [String] = []
        var definitions = common
        for kind in ResourceKind.allCases {
            let d = kind.readable
            let part = "{\"type\": \"object\", \"propertyNames\": {\"$ref\": \"#/$defs/name\"}, \"additionalProperties\": \(d.schema)}"
            if d.section.count == 1 {
                sections.append("\"\(d.section[0])\": \(part)")
            } else {
                gateway.append("\"\(d.section[1])\": \(part)")
            }
            for (name, schema) in d.schemaDefinitions { definitions[name] = schema }
        }
        let settings = Gateway.settingsSchema.trimmed
        gateway.append(String(settings.dropFirst().dropLast()))
        sections.append("""
            "gateway": {"type": "object", "additionalProperties": false,
              "description": "The stack's one API gateway: stages with routes, API keys, usage plans and JWT authorizers.",
              "properties": {\(gateway.joined(separator: ",\n"))}}
            """)
        let defs = definitions.keys.sorted().map { "\"\($0)\": \(definitions[$0]!)" }.joined(separator: ",\n")
        return """
            {
              "$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": "https://mlgw-deploy.dev/schema/stack-v1.json",
              "title": "mlgw-deploy stack",
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "stack": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,62}$", "description": "The stack's name; it names the state folder."},
                "description": {"type": "string"},
                "variables": {"type": "object", "additionalProperties": {"$ref": "#/$defs/variable"},
                              "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"}},
                "outputs": {"type": "object", "additionalProperties": {"oneOf": [
                  {"type": "string"},
                  {"type": "object", "additionalProperties": false, "required": ["value"],
                   "properties": {"value": {"type": "string"}, "description": {"type": "string"}, "sensitive": {"type": "boolean"}}}]}},
                "local": {"type": "object", "additionalProperties": false, "description": "Settings of the local provider.",
                  "properties": {
                    "port": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 65535}, {"$ref": "#/$defs/expression"}],
                             "description": "Fixed port of the environment's AWS-compatible URL (a variable gives each environment its own)."},
                    "gateway_port": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 65535}, {"$ref": "#/$defs/expression"}],
                                     "description": "Fixed port of the gateway."},
                    "health_timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": \(formatNumber(StackLoader.maxHealthTimeout)),
                                       "description": "Seconds a new model server may take to become healthy (default 60)."}}},
                \(sections.joined(separator: ",\n"))
              },
              "$defs": {
            \(defs)
              }
            }

            """
    }

    /// Definitions every kind may refer to.
    static let common: [String: String] = [
        "name": ##"{"type": "string", "pattern": "^[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$"}"##,
        "expression": ##"{"type": "string", "pattern": "^\\$\\{.+\\}$", "description": "A ${...} expression evaluated at plan time."}"##,
        "number": ##"{"oneOf": [{"type": "number"}, {"$ref": "#/$defs/expression"}]}"##,
        "duration": ##"{"oneOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": "^[0-9.]+(ms|s|m|h|d)$"}, {"$ref": "#/$defs/expression"}]}"##,
        "variable": #"""
        {"type": "object", "additionalProperties": false, "properties": {
          "type": {"enum": ["string", "number", "bool"]}, "default": {"type": ["string", "number", "boolean"]},
          "description": {"type": "string"}, "sensitive": {"type": "boolean"}, "from_env": {"type": "string"}}}
        """#,
    ]
}
