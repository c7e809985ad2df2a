extension Stage {
    static var schema: String {
        #"""
        {"type": "object", "additionalProperties": false, "required": ["routes"], "properties": {
          "description": {"type": "string"},
          "defaults": {"type": "object", "additionalProperties": false, "properties": {
            "auth": {"$ref": "#/$defs/auth"}, "timeout": {"$ref": "#/$defs/duration", "description": "Above 0, up to 15m (default 29s)."}}},
          "cors": {"type": "object", "additionalProperties": false, "properties": {
            "allow_origins": {"type": "array", "items": {"type": "string"}}, "allow_methods": {"type": "array", "items": {"type": "string"}},
            "allow_headers": {"type": "array", "items": {"type": "string"}}, "expose_headers": {"type": "array", "items": {"type": "string"}},
            "max_age": {"$ref": "#/$defs/duration", "description": "Up to 24h."}}},
          "max_body": {"type": "integer", "minimum": 1, "maximum": \#(maxBodyLimit)},
          "throttle": {"$ref": "#/$defs/throttle"},
          "routes": {"type": "object",
            "propertyNames": {"pattern": "^(\#(Gateway.methods.joined(separator: "|"))) /"},
            "additionalProperties": {"type": "object", "additionalProperties": false,
              "oneOf": [{"required": ["endpoint"]}, {"required": ["function"]}, {"required": ["mock"]}],
              "properties": {
                "endpoint": {"type": "string"}, "variant": {"$ref": "#/$defs/selector"}, "target_model": {"$ref": "#/$defs/selector"},
                "enrich": {"type": "object", "additionalProperties": false, "required": ["feature_group", "record_identifier", "features"],
                           "description": "Features read from a feature group and appended to the row the endpoint receives.",
                           "properties": {"feature_group": {"type": "string"},
                                          "record_identifier": {"type": "object", "additionalProperties": false, "minProperties": 1, "maxProperties": 1,
                                                                "properties": {"path": {"type": "string"}, "header": {"type": "string"}, "json": {"type": "string"}}},
                                          "features": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                                          "on_missing": {"oneOf": [{"const": 404}, {"type": "object", "additionalProperties": false, "required": ["defaults"],
                                                                                     "properties": {"defaults": {"type": "array", "items": {"type": ["string", "number"]}}}}]}}},
                "function": {"type": "string"}, "payload": {"enum": ["1.0", "2.0"]},
                "mock": {"type": "object", "additionalProperties": false, "properties": {
                  "status": {"type": "integer", "minimum": 100, "maximum": 599}, "body": {"type": "string"}, "content_type": {"type": "string"}}},
                "auth": {"$ref": "#/$defs/auth"}, "timeout": {"$ref": "#/$defs/duration", "description": "Above 0, up to 15m."},
                "throttle": {"$ref": "#/$defs/throttle"}}}}}}
        """#
    }

    static var schemaDefinitions: [String: String] {
        [
            "throttle": #"""
            {"type": "object", "additionalProperties": false, "required": ["rate"], "properties": {
              "rate": {"$ref": "#/$defs/number", "description": "Requests per second, above 0 and up to 1000000."},
              "burst": {"$ref": "#/$defs/number"}}}
            """#,
            "auth": #"""
            {"oneOf": [{"type": "string"}, {"type": "object", "additionalProperties": false, "required": ["jwt"],
                       "properties": {"jwt": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}}}}]}
            """#,
            "selector": #"""
            {"oneOf": [{"type": "string"}, {"type": "object", "additionalProperties": false, "maxProperties": 1,
                       "properties": {"header": {"type": "string"}, "path": {"type": "string"}}}]}
            """#,
        ]
    }
}

extension Gateway {
    /// The settings under `gateway:` that are not resources: JWT authorizers.
    static let settingsSchema = #"""
    {"authorizers": {"type": "object", "propertyNames": {"$ref": "#/$defs/name"},
      "additionalProperties": {"type": "object", "additionalProperties": false, "required": ["issuer", "audiences"], "properties": {
        "type": {"const": "jwt"}, "issuer": {"type": "string"},
        "audiences": {"oneOf": [{"type": "string"}, {"type": "array", "minItems": 1, "items": {"type": "string"}}]},
        "jwks_file": {"type": "string"}, "jwks_url": {"type": "string"}}}}}
    """#
}
