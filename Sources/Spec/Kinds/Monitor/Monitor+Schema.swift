extension Monitor {
    static var schema: String {
        #"""
        {"type": "object", "description": "A data-quality monitor over an endpoint's captured inputs, compared with a baseline on a schedule.",
         "additionalProperties": false, "required": ["endpoint", "schedule", "baseline"],
         "properties": {
           "endpoint": {"type": "string"}, "variant": {"type": "string"},
           "type": {"enum": ["data_quality", "model_quality"]},
           "problem_type": {"enum": ["binary_classification", "multiclass_classification", "regression"]},
           "ground_truth": {"type": "string", "description": "A folder of ground-truth JSON lines (SageMaker's merge format), relative to the stack file."},
           "probability_threshold": {"type": "number", "minimum": 0, "maximum": 1},
           "schedule": {"type": "string", "pattern": "^(rate|cron)\\(.*\\)$", "description": "rate(1 hour) or cron(0 * * * ? *) on the environment's clock."},
           "window": {"oneOf": [{"const": "since_last_run"}, {"$ref": "#/$defs/duration"}]},
           "baseline": {"oneOf": [{"type": "string", "description": "A training CSV with a header."},
                                  {"type": "object", "additionalProperties": false,
                                   "properties": {"csv": {"type": "string"}, "statistics": {"type": "string"}, "constraints": {"type": "string"},
                                                  "label": {"type": "string"}, "prediction": {"type": "string"}}}]},
           "features": {"type": "object", "additionalProperties": {"$ref": "#/$defs/monitorFeature"}},
           "drift": {"$ref": "#/$defs/monitorFeature"},
           "minimum_samples": {"type": "integer", "minimum": 1, "maximum": 100000000},
           "state": {"enum": ["enabled", "disabled"]}}}
        """#
    }

    static var schemaDefinitions: [String: String] {
        ["monitorFeature": #"""
        {"type": "object", "additionalProperties": false,
         "properties": {"type": {"enum": ["Integral", "Fractional", "String"]},
                        "method": {"enum": ["ks", "chi_square", "z_test", "wasserstein", "jensen_shannon", "psi", "l_infinity"]},
                        "threshold": {"type": "number", "exclusiveMinimum": 0}}}
        """#]
    }
}
