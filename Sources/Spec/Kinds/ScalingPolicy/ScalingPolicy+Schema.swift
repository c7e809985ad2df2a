extension ScalingPolicy {
    static var schema: String {
        #"""
        {"type": "object", "description": "Application Auto Scaling for one target: a variant's instance count or a function's provisioned concurrency.",
         "additionalProperties": false, "required": ["target", "min", "max"],
         "properties": {
           "target": {"type": "string", "pattern": "^(endpoints\\.[^.]+\\.variants\\.[^.]+|functions\\.[^.]+)$"},
           "min": {"type": "integer", "minimum": 0, "maximum": 1000}, "max": {"type": "integer", "minimum": 0, "maximum": 1000},
           "target_tracking": {"type": "array", "minItems": 1, "items": {"type": "object", "additionalProperties": false, "required": ["metric", "target"],
             "properties": {"name": {"type": "string"},
                            "metric": {"enum": ["SageMakerVariantInvocationsPerInstance", "SageMakerVariantCPUUtilization", "SageMakerVariantModelLatency", "LambdaProvisionedConcurrencyUtilization"]},
                            "target": {"type": "number", "exclusiveMinimum": 0},
                            "scale_in_cooldown": {"$ref": "#/$defs/duration"}, "scale_out_cooldown": {"$ref": "#/$defs/duration"},
                            "disable_scale_in": {"type": "boolean"}}}},
           "step_scaling": {"type": "array", "minItems": 1, "items": {"type": "object", "additionalProperties": false, "required": ["alarm", "steps"],
             "properties": {"name": {"type": "string"},
                            "alarm": {"type": "object", "additionalProperties": false, "required": ["metric", "threshold", "comparison"],
                                      "properties": {"name": {"type": "string"},
                                                     "metric": {"enum": ["Invocations", "InvocationsPerInstance", "Invocation4XXErrors", "Invocation5XXErrors", "ModelLatency", "CPUUtilization", "ProvisionedConcurrencyUtilization", "ConcurrentExecutions"]},
                                                     "statistic": {"enum": ["Sum", "Average", "Maximum", "Minimum", "SampleCount"]},
                                                     "period": {"$ref": "#/$defs/duration"},
                                                     "evaluation_periods": {"type": "integer", "minimum": 1}, "datapoints_to_alarm": {"type": "integer", "minimum": 1},
                                                     "threshold": {"type": "number"},
                                                     "comparison": {"enum": ["GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"]},
                                                     "missing_data": {"oneOf": [{"enum": ["missing", "ignore", "breaching", "notBreaching"]},
                                                                                {"type": "object", "additionalProperties": false, "required": ["fill"], "properties": {"fill": {"type": "number"}}}]}}},
                            "adjustment_type": {"enum": ["ChangeInCapacity", "PercentChangeInCapacity", "ExactCapacity"]},
                            "steps": {"type": "array", "minItems": 1, "items": {"type": "object", "additionalProperties": false, "required": ["adjustment"],
                                      "properties": {"lower": {"type": "number"}, "upper": {"type": "number"}, "adjustment": {"type": "integer"}}}},
                            "min_adjustment_magnitude": {"type": "integer", "minimum": 1},
                            "cooldown": {"$ref": "#/$defs/duration"}}}},
           "scheduled_actions": {"type": "array", "minItems": 1, "items": {"type": "object", "additionalProperties": false, "required": ["schedule"],
             "properties": {"name": {"type": "string"}, "schedule": {"type": "string", "pattern": "^(at|rate|cron)\\(.*\\)$"}, "timezone": {"type": "string"},
                            "min": {"type": "integer", "minimum": 0}, "max": {"type": "integer", "minimum": 0}}}}}}
        """#
    }
}
