import EnvironmentAPI

extension FeatureGroup {
    static var schema: String {
        #"""
        {"type": "object", "description": "A feature group: an online store of the latest record per identifier and an offline store of every write.",
         "additionalProperties": false, "required": ["record_identifier", "event_time", "features"],
         "properties": {
           "record_identifier": {"type": "string", "description": "The feature that identifies a record."},
           "event_time": {"type": "string", "description": "The feature that stamps a record's time (Fractional Unix seconds, or an ISO-8601 String)."},
           "features": {"type": "object", "minProperties": 2, "maxProperties": 2500,
                        "propertyNames": {"pattern": "^[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}$"},
                        "additionalProperties": {"oneOf": [
                          {"$ref": "#/$defs/featureType"},
                          {"type": "object", "additionalProperties": false, "required": ["type"],
                           "properties": {"type": {"$ref": "#/$defs/featureType"},
                                          "collection": {"enum": ["List", "Set", "Vector"]},
                                          "dimension": {"type": "integer", "minimum": 1, "maximum": 8192}}}]}},
           "online": {"oneOf": [{"type": "boolean"},
                                {"type": "object", "additionalProperties": false,
                                 "properties": {"enabled": {"type": "boolean"}, "ttl": {"$ref": "#/$defs/duration"}}}]},
           "offline": {"oneOf": [{"type": "boolean"},
                                 {"type": "object", "additionalProperties": false, "properties": {"enabled": {"type": "boolean"}}}]},
           "load": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                    "description": "CSV (with a header) or JSON-lines files loaded at apply, relative to the stack file."},
           "description": {"type": "string", "maxLength": 128}}}
        """#
    }

    static var schemaDefinitions: [String: String] {
        ["featureType": #"{"enum": ["Integral", "Fractional", "String"]}"#]
    }
}
