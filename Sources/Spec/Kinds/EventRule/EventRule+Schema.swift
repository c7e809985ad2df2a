extension EventRule {
    static var schema: String {
        #"""
        {"type": "object", "description": "An event rule: a pattern matched against the environment's bus, or a schedule, delivering to targets.",
         "additionalProperties": false,
         "properties": {
           "pattern": {"oneOf": [{"type": "object"}, {"type": "string"}], "description": "An EventBridge event pattern (YAML or its JSON text)."},
           "schedule": {"type": "string", "pattern": "^(rate|cron|at)\\(.*\\)$", "description": "rate(5 minutes), cron(0 20 * * ? *) or at(2026-12-24T20:00:00)."},
           "timezone": {"type": "string", "description": "An IANA time zone for cron and at schedules (UTC without)."},
           "state": {"enum": ["enabled", "disabled"]},
           "description": {"type": "string", "maxLength": 512},
           "target": {"$ref": "#/$defs/eventTarget"},
           "targets": {"type": "array", "minItems": 1, "maxItems": 5, "items": {"$ref": "#/$defs/eventTarget"}}}}
        """#
    }

    static var schemaDefinitions: [String: String] {
        ["eventTarget": #"""
        {"type": "object", "additionalProperties": false,
         "properties": {
           "function": {"type": "string"}, "endpoint": {"type": "string"}, "url": {"type": "string", "pattern": "^http://(127\\.0\\.0\\.1|localhost):[0-9]+"},
           "command": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}, "log": {"const": true},
           "input": {}, "input_path": {"type": "string", "pattern": "^\\$"},
           "input_transformer": {"type": "object", "additionalProperties": false, "required": ["template"],
                                 "properties": {"paths": {"type": "object", "additionalProperties": {"type": "string"}}, "template": {"type": "string"}}},
           "content_type": {"type": "string"},
           "retry": {"type": "object", "additionalProperties": false,
                     "properties": {"maximum_attempts": {"type": "integer", "minimum": 0, "maximum": 185},
                                    "maximum_event_age": {"$ref": "#/$defs/duration"}}},
           "dead_letter": {"type": "string", "description": "A JSON-lines file, relative to the stack file."},
           "timeout": {"$ref": "#/$defs/duration"}}}
        """#]
    }
}
