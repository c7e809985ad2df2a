import EnvironmentAPI

extension Model {
    static var schema: String {
        #"""
        {"oneOf": [
          {"type": "object", "description": "A built-in runtime serving an artifact file.", "additionalProperties": false,
           "required": ["runtime", "artifact"],
           "properties": {
             "runtime": {"enum": [\#(ModelRuntime.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))]},
             "artifact": {"type": "string", "description": "Path of the model file, relative to the stack file."},
             "description": {"type": "string"}}},
          {"type": "object", "description": "A bring-your-own server honouring SageMaker's container contract, run in the stack file's folder.",
           "additionalProperties": false, "required": ["command"],
           "properties": {
             "command": {"type": "array", "minItems": 1, "items": {"type": "string"}},
             "artifact": {"type": "string", "description": "A file, folder or .tar.gz, relative to the stack file; the server finds it in SM_MODEL_DIR."},
             "environment": {"type": "object", "additionalProperties": {"type": "string"}},
             "startup_timeout": {"$ref": "#/$defs/duration", "description": "Up to 1h (default: local.health_timeout)."},
             "probe": {"type": "object", "additionalProperties": false, "required": ["body"],
                       "properties": {"content_type": {"type": "string"}, "body": {"type": "string"}}},
             "description": {"type": "string"}}}
        ]}
        """#
    }
}
