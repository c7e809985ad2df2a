import EnvironmentAPI

extension Endpoint {
    static var schema: String {
        let runtimes = ModelRuntime.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        return #"""
        {"type": "object", "additionalProperties": false,
         "oneOf": [{"required": ["variants"]}, {"required": ["multi_model"]}],
         "properties": {
           "description": {"type": "string"},
           "multi_model": {"type": "object", "additionalProperties": false, "required": ["artifacts"],
             "description": "Serve every artifact under a folder; callers pick one with TargetModel.",
             "properties": {
               "artifacts": {"type": "string"},
               "runtime": {"enum": [\#(runtimes)]},
               "server": {"type": "string", "description": "A model with a command that speaks the multi-model container API."},
               "cache": {"type": "object", "additionalProperties": false, "properties": {
                 "models": {"type": "integer", "minimum": 1, "maximum": 100000},
                 "memory_mb": {"type": "integer", "minimum": 1, "maximum": 1048576}}}}},
           "instances": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": \#(maxInstances)}, {"$ref": "#/$defs/expression"}],
                         "description": "Model-server processes of a multi-model endpoint."},
           "data_capture": {"type": "object", "additionalProperties": false, "properties": {
             "sample_percent": {"oneOf": [{"type": "number", "minimum": 0, "maximum": 100}, {"$ref": "#/$defs/expression"}]},
             "capture": {"type": "array", "minItems": 1, "items": {"enum": ["input", "output"]}},
             "csv_content_types": {"type": "array", "minItems": 1, "items": {"type": "string"}},
             "json_content_types": {"type": "array", "minItems": 1, "items": {"type": "string"}}}},
           "variants": {"type": "object", "minProperties": 1, "propertyNames": {"$ref": "#/$defs/name"},
                        "additionalProperties": {"$ref": "#/$defs/variant"}}}}
        """#
    }

    static var schemaDefinitions: [String: String] {
        ["variant": #"""
        {"type": "object", "additionalProperties": false, "required": ["model"],
         "properties": {
           "model": {"type": "string", "description": "Name of one of the stack's models."},
           "weight": {"oneOf": [{"type": "number", "minimum": 0, "maximum": \#(formatNumber(Variant.maxWeight))}, {"$ref": "#/$defs/expression"}],
                      "description": "Share of traffic is weight / sum of weights (default 1)."},
           "instances": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": \#(maxInstances)}, {"$ref": "#/$defs/expression"}],
                         "description": "Model-server processes (default 1)."},
           "rollout": {"type": "object", "additionalProperties": false, "required": ["steps"],
             "description": "Move this variant's share of traffic through 'steps' (percent), rolling back by itself when a limit is crossed.",
             "properties": {
               "steps": {"type": "array", "minItems": 1, "items": {"type": "number", "exclusiveMinimum": 0, "maximum": 100}},
               "bake": {"$ref": "#/$defs/duration", "description": "Up to 24h (default 60s)."},
               "max_error_rate": {"type": "number", "minimum": 0, "maximum": 1},
               "max_p99_latency": {"$ref": "#/$defs/duration", "description": "Above 0, up to 10m."},
               "min_requests": {"type": "integer", "minimum": 1, "maximum": 1000000,
                                "description": "A step is judged, and advances, only once it has seen this many requests (default 20)."},
               "max_wait": {"$ref": "#/$defs/duration", "description": "How long a step waits for min_requests after its bake, up to 24h (default 10m)."},
               "on_too_little_traffic": {"enum": ["roll_back", "halt", "stay"], "description": "After max_wait without min_requests (default roll_back)."}}},
           "shadow": {"description": "Makes this a shadow variant: it gets a copy of a sampled share of requests; its answers never reach callers.",
             "oneOf": [{"const": true}, {"type": "object", "additionalProperties": false,
                        "properties": {"sample_percent": {"oneOf": [{"type": "number", "minimum": 0, "maximum": 100}, {"$ref": "#/$defs/expression"}]}}}]}}}
        """#]
    }
}
