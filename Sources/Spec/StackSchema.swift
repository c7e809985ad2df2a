/// The JSON Schema (draft 2020-12) of a stack file, printed by `mlgw-deploy schema`. Editors use it
/// for completion; CI checks every stack in stacks/ against it. It describes what this version
/// accepts: a kind that is not built yet is not in it. `validate` checks more than a schema can
/// (references, artifact files, weights).
public enum StackSchema {
    public static let json = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://mlgw-deploy.dev/schema/stack-v1.json",
      "title": "mlgw-deploy stack",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "stack": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,62}$", "description": "The stack's name; it names the state folder."},
        "description": {"type": "string"},
        "variables": {
          "type": "object",
          "additionalProperties": {"$ref": "#/$defs/variable"},
          "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"}
        },
        "outputs": {
          "type": "object",
          "additionalProperties": {
            "oneOf": [
              {"type": "string"},
              {"type": "object", "additionalProperties": false, "required": ["value"],
               "properties": {"value": {"type": "string"}, "description": {"type": "string"}, "sensitive": {"type": "boolean"}}}
            ]
          }
        },
        "local": {
          "type": "object",
          "additionalProperties": false,
          "description": "Settings of the local provider.",
          "properties": {
            "port": {"type": "integer", "minimum": 1, "maximum": 65535, "description": "Fixed port of the environment's AWS-compatible URL."},
            "health_timeout": {"type": "number", "exclusiveMinimum": 0, "description": "Seconds a new model server may take to become healthy (default 60)."}
          }
        },
        "models": {
          "type": "object",
          "propertyNames": {"$ref": "#/$defs/name"},
          "additionalProperties": {"$ref": "#/$defs/model"}
        },
        "endpoints": {
          "type": "object",
          "propertyNames": {"$ref": "#/$defs/name"},
          "additionalProperties": {"$ref": "#/$defs/endpoint"}
        }
      },
      "$defs": {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$"},
        "expression": {"type": "string", "pattern": "^\\$\\{.+\\}$", "description": "A ${...} expression evaluated at plan time."},
        "number": {"oneOf": [{"type": "number"}, {"$ref": "#/$defs/expression"}]},
        "variable": {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "type": {"enum": ["string", "number", "bool"]},
            "default": {"type": ["string", "number", "boolean"]},
            "description": {"type": "string"},
            "sensitive": {"type": "boolean"},
            "from_env": {"type": "string"}
          }
        },
        "model": {
          "oneOf": [
            {
              "type": "object",
              "description": "A built-in runtime serving an artifact file.",
              "additionalProperties": false,
              "required": ["runtime", "artifact"],
              "properties": {
                "runtime": {"enum": ["linear", "xgboost"]},
                "artifact": {"type": "string", "description": "Path of the model file, relative to the stack file."},
                "description": {"type": "string"}
              }
            },
            {
              "type": "object",
              "description": "A bring-your-own server honouring SageMaker's container contract, run in the stack file's folder.",
              "additionalProperties": false,
              "required": ["command"],
              "properties": {
                "command": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                "environment": {"type": "object", "additionalProperties": {"type": "string"}},
                "startup_timeout": {"oneOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "pattern": "^[0-9.]+(ms|s|m|h)$"}]},
                "probe": {
                  "type": "object", "additionalProperties": false, "required": ["body"],
                  "properties": {"content_type": {"type": "string"}, "body": {"type": "string"}}
                },
                "description": {"type": "string"}
              }
            }
          ]
        },
        "endpoint": {
          "type": "object",
          "additionalProperties": false,
          "oneOf": [{"required": ["variants"]}, {"required": ["multi_model"]}],
          "properties": {
            "description": {"type": "string"},
            "multi_model": {
              "type": "object",
              "additionalProperties": false,
              "required": ["artifacts"],
              "description": "Serve every artifact under a folder; callers pick one with TargetModel.",
              "properties": {
                "artifacts": {"type": "string"},
                "runtime": {"enum": ["linear", "xgboost"]},
                "server": {"type": "string", "description": "A model with a command that speaks the multi-model container API."},
                "cache": {"type": "object", "additionalProperties": false, "properties": {"models": {"type": "integer", "minimum": 1}, "memory_mb": {"type": "integer", "minimum": 1}}}
              }
            },
            "instances": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 64}, {"$ref": "#/$defs/expression"}], "description": "Model-server processes of a multi-model endpoint."},
            "data_capture": {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "sample_percent": {"oneOf": [{"type": "number", "minimum": 0, "maximum": 100}, {"$ref": "#/$defs/expression"}]},
                "capture": {"type": "array", "minItems": 1, "items": {"enum": ["input", "output"]}},
                "csv_content_types": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                "json_content_types": {"type": "array", "minItems": 1, "items": {"type": "string"}}
              }
            },
            "variants": {
              "type": "object",
              "minProperties": 1,
              "propertyNames": {"$ref": "#/$defs/name"},
              "additionalProperties": {"$ref": "#/$defs/variant"}
            }
          }
        },
        "variant": {
          "type": "object",
          "additionalProperties": false,
          "required": ["model"],
          "properties": {
            "model": {"type": "string", "description": "Name of one of the stack's models."},
            "weight": {"oneOf": [{"type": "number", "minimum": 0}, {"$ref": "#/$defs/expression"}], "description": "Share of traffic is weight / sum of weights (default 1)."},
            "instances": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 64}, {"$ref": "#/$defs/expression"}], "description": "Model-server processes (default 1)."},
            "rollout": {
              "type": "object",
              "additionalProperties": false,
              "required": ["steps"],
              "description": "Move this variant's share of traffic through 'steps' (percent), rolling back by itself when a limit is crossed.",
              "properties": {
                "steps": {"type": "array", "minItems": 1, "items": {"type": "number", "exclusiveMinimum": 0, "maximum": 100}},
                "bake": {"oneOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": "^[0-9.]+(ms|s|m|h)$"}]},
                "max_error_rate": {"type": "number", "minimum": 0, "maximum": 1},
                "max_p99_latency": {"oneOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "pattern": "^[0-9.]+(ms|s|m|h)$"}]},
                "min_requests": {"type": "integer", "minimum": 1}
              }
            },
            "shadow": {
              "description": "Makes this a shadow variant: it gets a copy of a sampled share of requests; its answers never reach callers.",
              "oneOf": [{"const": true}, {"type": "object", "additionalProperties": false,
                         "properties": {"sample_percent": {"oneOf": [{"type": "number", "minimum": 0, "maximum": 100}, {"$ref": "#/$defs/expression"}]}}}]
            }
          }
        }
      }
    }
    """#
}
