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
            "gateway_port": {"type": "integer", "minimum": 1, "maximum": 65535, "description": "Fixed port of the gateway."},
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
        },
        "functions": {
          "type": "object",
          "propertyNames": {"$ref": "#/$defs/name"},
          "additionalProperties": {"$ref": "#/$defs/function"}
        },
        "gateway": {
          "type": "object",
          "additionalProperties": false,
          "description": "The stack's one API gateway: stages with routes, API keys, usage plans and JWT authorizers.",
          "properties": {
            "stages": {"type": "object", "propertyNames": {"$ref": "#/$defs/name"}, "additionalProperties": {"$ref": "#/$defs/stage"}},
            "api_keys": {
              "type": "object", "propertyNames": {"$ref": "#/$defs/name"},
              "additionalProperties": {"type": "object", "additionalProperties": false, "required": ["value"], "properties": {
                "value": {"$ref": "#/$defs/expression", "description": "A sensitive variable: ${var.NAME}."},
                "usage_plan": {"type": "string"}, "enabled": {"type": "boolean"}}}
            },
            "usage_plans": {
              "type": "object", "propertyNames": {"$ref": "#/$defs/name"},
              "additionalProperties": {"type": "object", "additionalProperties": false, "properties": {
                "throttle": {"$ref": "#/$defs/throttle"},
                "quota": {"type": "object", "additionalProperties": false, "required": ["limit"], "properties": {
                  "limit": {"oneOf": [{"type": "integer", "minimum": 1}, {"$ref": "#/$defs/expression"}]}, "period": {"enum": ["day", "week", "month"]}}},
                "stages": {"type": "array", "items": {"type": "string"}},
                "routes": {"type": "object", "description": "Per-route throttles, keyed 'STAGE METHOD /path'.",
                           "additionalProperties": {"type": "object", "additionalProperties": false, "properties": {"throttle": {"$ref": "#/$defs/throttle"}}}}}}
            },
            "authorizers": {
              "type": "object", "propertyNames": {"$ref": "#/$defs/name"},
              "additionalProperties": {"type": "object", "additionalProperties": false, "required": ["issuer", "audiences"], "properties": {
                "type": {"const": "jwt"}, "issuer": {"type": "string"},
                "audiences": {"oneOf": [{"type": "string"}, {"type": "array", "minItems": 1, "items": {"type": "string"}}]},
                "jwks_file": {"type": "string"}, "jwks_url": {"type": "string"}}}
            }
          }
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
        "duration": {"oneOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": "^[0-9.]+(ms|s|m|h)$"}, {"$ref": "#/$defs/expression"}]},
        "throttle": {"type": "object", "additionalProperties": false, "required": ["rate"], "properties": {
          "rate": {"$ref": "#/$defs/number", "description": "Requests per second."}, "burst": {"$ref": "#/$defs/number"}}},
        "function": {
          "type": "object",
          "additionalProperties": false,
          "oneOf": [{"required": ["runtime", "handler"]}, {"required": ["command"]}],
          "properties": {
            "runtime": {"enum": ["python3"]},
            "handler": {"type": "string", "description": "path/to/file.function, relative to 'code'."},
            "command": {"type": "array", "minItems": 1, "items": {"type": "string"}, "description": "A program that speaks the Lambda Runtime API itself."},
            "code": {"type": "string", "description": "The folder of the function's code (default: the stack file's folder)."},
            "environment": {"type": "object", "additionalProperties": {"type": "string"}},
            "timeout": {"$ref": "#/$defs/duration"},
            "memory": {"type": "integer", "minimum": 128, "maximum": 10240},
            "provisioned_concurrency": {"$ref": "#/$defs/number"},
            "reserved_concurrency": {"$ref": "#/$defs/number"},
            "async": {"type": "object", "additionalProperties": false, "properties": {
              "max_retries": {"type": "integer", "minimum": 0, "maximum": 2}, "retry_delay": {"$ref": "#/$defs/duration"}, "max_event_age": {"$ref": "#/$defs/duration"}}},
            "description": {"type": "string"}
          }
        },
        "auth": {"oneOf": [{"type": "string"}, {"type": "object", "additionalProperties": false, "required": ["jwt"],
                 "properties": {"jwt": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}}}}]},
        "selector": {"oneOf": [{"type": "string"}, {"type": "object", "additionalProperties": false, "maxProperties": 1,
                     "properties": {"header": {"type": "string"}, "path": {"type": "string"}}}]},
        "stage": {
          "type": "object",
          "additionalProperties": false,
          "required": ["routes"],
          "properties": {
            "description": {"type": "string"},
            "defaults": {"type": "object", "additionalProperties": false, "properties": {"auth": {"$ref": "#/$defs/auth"}, "timeout": {"$ref": "#/$defs/duration"}}},
            "cors": {"type": "object", "additionalProperties": false, "properties": {
              "allow_origins": {"type": "array", "items": {"type": "string"}}, "allow_methods": {"type": "array", "items": {"type": "string"}},
              "allow_headers": {"type": "array", "items": {"type": "string"}}, "expose_headers": {"type": "array", "items": {"type": "string"}},
              "max_age": {"$ref": "#/$defs/duration"}}},
            "max_body": {"type": "integer", "minimum": 1, "maximum": 10485760},
            "throttle": {"$ref": "#/$defs/throttle"},
            "routes": {
              "type": "object",
              "propertyNames": {"pattern": "^(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS|ANY) /"},
              "additionalProperties": {
                "type": "object", "additionalProperties": false,
                "oneOf": [{"required": ["endpoint"]}, {"required": ["function"]}, {"required": ["mock"]}],
                "properties": {
                  "endpoint": {"type": "string"}, "variant": {"$ref": "#/$defs/selector"}, "target_model": {"$ref": "#/$defs/selector"},
                  "function": {"type": "string"}, "payload": {"enum": ["1.0", "2.0"]},
                  "mock": {"type": "object", "additionalProperties": false, "properties": {
                    "status": {"type": "integer", "minimum": 100, "maximum": 599}, "body": {"type": "string"}, "content_type": {"type": "string"}}},
                  "auth": {"$ref": "#/$defs/auth"}, "timeout": {"$ref": "#/$defs/duration"}, "throttle": {"$ref": "#/$defs/throttle"}
                }
              }
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
