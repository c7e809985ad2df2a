extension Function {
    static var schema: String {
        #"""
        {"type": "object", "additionalProperties": false,
         "oneOf": [{"required": ["runtime", "handler"]}, {"required": ["command"]}],
         "properties": {
           "runtime": {"enum": [\#(Runtime.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))]},
           "handler": {"type": "string", "description": "path/to/file.function, relative to 'code'."},
           "command": {"type": "array", "minItems": 1, "items": {"type": "string"}, "description": "A program that speaks the Lambda Runtime API itself."},
           "code": {"type": "string", "description": "The folder of the function's code (default: the stack file's folder)."},
           "environment": {"type": "object", "additionalProperties": {"type": "string"}},
           "timeout": {"$ref": "#/$defs/duration", "description": "Between 100ms and 15m (default 3s)."},
           "memory": {"type": "integer", "minimum": 128, "maximum": 10240},
           "provisioned_concurrency": {"oneOf": [{"type": "integer", "minimum": 0, "maximum": 64}, {"$ref": "#/$defs/expression"}]},
           "reserved_concurrency": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 256}, {"$ref": "#/$defs/expression"}]},
           "async": {"type": "object", "additionalProperties": false, "properties": {
             "max_retries": {"type": "integer", "minimum": 0, "maximum": 2},
             "retry_delay": {"$ref": "#/$defs/duration", "description": "Up to 1h (default 1s)."},
             "max_event_age": {"$ref": "#/$defs/duration", "description": "Above 0, up to 6h (default 6h)."}}},
           "description": {"type": "string"}}}
        """#
    }
}
