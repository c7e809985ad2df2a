import EnvironmentAPI
import Foundation
import Spec
import Testing

struct ValidationCase: CustomTestStringConvertible, Sendable {
    var name: String
    var yaml: String
    /// Each expected diagnostic as "line:column: summary fragment".
    var expected: [String]
    var testDescription: String { name }
}

let validationCases: [ValidationCase] = [
    ValidationCase(name: "unknown top-level key suggests the right one", yaml: """
        stack: demo
        endpoint: {}
        """, expected: ["2:1: unknown key 'endpoint' in the stack|did you mean 'endpoints'?"]),
    ValidationCase(name: "scaling policies: bounds, alarms, steps, metrics, schedules, one policy per target", yaml: validHeader + """
        endpoints:
          e:
            variants:
              a: {model: m1, weight: 1}
        scaling_policies:
          p1:
            target: endpoints.e.variants.b
            min: 3
            max: 2
            step_scaling:
              - alarm: {metric: Invocations, statistic: Average, period: 45s, threshold: 1, comparison: LessThan}
                steps: [{upper: 0, adjustment: -1}]
              - alarm: {metric: Invocations, threshold: 100, comparison: GreaterThanThreshold}
                steps: [{lower: 0, upper: 10, adjustment: 1}, {lower: 5, adjustment: 2}]
          p2:
            target: endpoints.e.variants.a
            min: 1
            max: 4
            target_tracking:
              - {metric: LambdaProvisionedConcurrencyUtilization, target: 0.7}
            scheduled_actions:
              - {name: a, schedule: "cron(0 20 * * ? *)", min: 1, max: 1}
              - {name: b, schedule: "cron(0 20 * * ? *)", min: 2, max: 2}
          p3:
            target: endpoints.e.variants.a
            min: 1
            max: 2
            scheduled_actions:
              - {schedule: "rate(1 day)", max: 2}
          p4:
            target: endpoints.e.variants.a.instances
            min: 1
            max: 2
            step_scaling:
              - alarm: {metric: CPUUtilization, threshold: 80, comparison: GreaterThanThreshold, evaluation_periods: 2000}
                adjustment_type: ChangeInCapacity
                min_adjustment_magnitude: 2
                steps: [{lower: 0, adjustment: 1}]
        """, expected: ["12:5: scaling policy 'p1' has min 3 above max 2",
                        "15:49: unknown statistic 'Average' for the alarm of step scaling policy 1 of scaling policy 'p1' (Invocations has Sum and SampleCount)",
                        "15:66: the period 45s of the alarm of step scaling policy 1 of scaling policy 'p1' is not one CloudWatch evaluates|10s, 30s",
                        "15:97: unknown comparison 'LessThan' for the alarm|LessThanThreshold",
                        "18:16: the steps of step scaling policy 2 of scaling policy 'p1' are not valid: the steps [0, 10) and [5, +inf) overlap",
                        "24:18: target tracking policy 1 of scaling policy 'p2' tracks LambdaProvisionedConcurrencyUtilization, which a variant does not have",
                        "27:9: scheduled actions 'b' and 'a' of scaling policy 'p2' both fire at cron(0 20 * * ? *) with different bounds",
                        "35:13: scaling policy 'p4' names target 'endpoints.e.variants.a.instances', which is not a variant or a function",
                        "39:110: the alarm of step scaling policy 1 of scaling policy 'p4' evaluates 2000 periods of 60s, more than one day",
                        "41:9: 'min_adjustment_magnitude' of step scaling policy 1 of scaling policy 'p4' only goes with 'adjustment_type: PercentChangeInCapacity'"]),
    ValidationCase(name: "scaling policies: the target must exist, once", yaml: validHeader + """
        endpoints:
          e:
            variants:
              a: {model: m1, weight: 1}
        scaling_policies:
          p1:
            target: endpoints.e.variants.b
            min: 1
            max: 2
            scheduled_actions: [{schedule: "rate(1 day)", max: 2}]
          p2:
            target: endpoints.e.variants.a
            min: 1
            max: 2
            scheduled_actions: [{schedule: "rate(1 day)", max: 2}]
          p3:
            target: endpoints.e.variants.a
            min: 1
            max: 2
            scheduled_actions: [{schedule: "rate(1 day)", max: 2}]
          p4:
            target: functions.missing
            min: 0
            max: 2
            scheduled_actions: [{schedule: "rate(1 day)", max: 2}]
          p5:
            target: endpoints.e.variants.a
            min: 1
            max: 2
        """, expected: ["11:13: scaling policy 'p1' names variant 'b', which endpoint 'e' does not have|did you mean 'a'?",
                        "21:13: scaling policies 'p2' and 'p3' both scale endpoints.e.variants.a",
                        "26:13: reference to undeclared 'functions.missing'",
                        "31:5: scaling policy 'p5' is missing required key 'target_tracking'|a policy without any never scales"]),
    ValidationCase(name: "unknown variant key suggests", yaml: validHeader + """
        endpoints:
          e:
            variants:
              a: {model: m1, wieght: 3}
        """, expected: ["8:22: unknown key 'wieght' in variant 'a' of endpoint 'e'|did you mean 'weight'?"]),
    ValidationCase(name: "dangling model reference", yaml: validHeader + """
        endpoints:
          e:
            variants:
              a: {model: m3}
        """, expected: ["8:18: variant 'a' of endpoint 'e' names undeclared model 'm3'|did you mean 'm1'?"]),
    ValidationCase(name: "all weights zero", yaml: validHeader + """
        endpoints:
          e:
            variants:
              a: {model: m1, weight: 0}
              b: {model: m2, weight: 0}
        """, expected: ["8:7: every variant weight of endpoint 'e' is 0"]),
    ValidationCase(name: "bad types are reported each", yaml: validHeader + """
        endpoints:
          e:
            variants:
              a: {model: m1, weight: heavy, instances: 1.5}
        """, expected: ["8:30: 'weight' of variant 'a' of endpoint 'e' must be a number, found a string",
                        "8:48: 'instances' of variant 'a' of endpoint 'e' must be a whole number"]),
    ValidationCase(name: "negative weight and too many instances", yaml: validHeader + """
        endpoints:
          e:
            variants:
              a: {model: m1, weight: -1, instances: 100}
        """, expected: ["8:30: 'weight' of variant 'a' of endpoint 'e' must not be negative",
                        "8:45: 'instances' of variant 'a' of endpoint 'e' must be between 1 and 64"]),
    ValidationCase(name: "missing artifact file", yaml: """
        stack: demo
        models:
          m: {runtime: linear, artifact: missing.bin}
        """, expected: ["3:34: artifact of model 'm' 'missing.bin' does not exist|looked for '/w/stacks/missing.bin'"]),
    ValidationCase(name: "missing required keys", yaml: """
        stack: demo
        models:
          m: {artifact: m.json}
        endpoints:
          e: {description: x}
        """, expected: ["3:6: model 'm' is missing required key 'runtime'", "5:6: endpoint 'e' is missing required key 'variants'"]),
    ValidationCase(name: "unknown runtime suggests a built-in one", yaml: """
        stack: demo
        models:
          m: {runtime: xgbost, artifact: m.json}
        """, expected: ["3:16: unknown runtime 'xgbost' for model 'm'|did you mean 'xgboost'?"]),
    ValidationCase(name: "a server command and a runtime together", yaml: """
        stack: demo
        models:
          m: {runtime: linear, artifact: m.json, command: [serve]}
        """, expected: ["3:42: model 'm' has both 'runtime' and 'command'"]),
    ValidationCase(name: "a server command must be a list; its artifact must exist", yaml: """
        stack: demo
        models:
          a: {command: "python3 serve.py"}
          b: {command: [serve], artifact: model.tar.gz, startup_timeout: soon}
        """, expected: ["3:16: 'command' of model 'a' must be a non-empty list",
                        "4:35: artifact of model 'b' 'model.tar.gz' does not exist",
                        "4:66: 'startup_timeout' of model 'b' must be a duration such as 30s or 2m"]),
    ValidationCase(name: "a server's environment cannot set what the host sets", yaml: """
        stack: demo
        models:
          a: {command: [serve], environment: {SAGEMAKER_BIND_TO_PORT: "8080", SM_MODEL_DIR: /x}}
          b: {command: [serve], artifact: m.json, environment: {SM_MODEL_DIR: /x}}
        """, expected: ["3:39: 'SAGEMAKER_BIND_TO_PORT' in the environment of model 'a' is set by the environment host|each instance gets its own port",
                        "4:57: 'SM_MODEL_DIR' in the environment of model 'b' is set by the environment host|the folder holding the model's artifact"]),
    ValidationCase(name: "rollouts are checked", yaml: validHeader + """
        endpoints:
          e:
            variants:
              a: {model: m1}
              b: {model: m2, weight: 3, rollout: {steps: [10, 50]}}
          f:
            variants:
              a: {model: m1}
              b: {model: m2, rollout: {steps: [50, 10], max_error_rate: 2}}
        """, expected: ["9:22: variant 'b' of endpoint 'e' rolls out, so its share follows 'rollout.steps', not 'weight'",
                        "13:39: 'steps' of 'rollout' of variant 'b' of endpoint 'f' must rise",
                        "13:65: 'max_error_rate' of 'rollout' of variant 'b' of endpoint 'f' must be between 0 and 1"]),
    ValidationCase(name: "shadow variants take no weight and cannot stand alone", yaml: validHeader + """
        endpoints:
          e:
            variants: {s: {model: m1, weight: 5, shadow: {sample_percent: 50}}}
          f:
            variants: {s: {model: m1, shadow: true}}
        """, expected: ["7:31: shadow variant 's' of endpoint 'e' takes no 'weight'",
                        "9:15: every variant of endpoint 'f' is a shadow"]),
    ValidationCase(name: "a multi-model endpoint has a folder and no variants", yaml: validHeader + """
        endpoints:
          e:
            multi_model: {artifacts: nowhere/}
          f:
            multi_model: {artifacts: per-customer-models}
            variants: {a: {model: m1}}
          g:
            instances: 2
            variants: {a: {model: m1}}
        """, expected: ["7:30: artifact folder of 'multi_model' of endpoint 'e' 'nowhere/' does not exist",
                        "10:5: endpoint 'f' has both 'multi_model' and 'variants'",
                        "12:5: 'instances' on endpoint 'g' belongs to a multi-model endpoint"]),
    ValidationCase(name: "data capture settings are checked", yaml: validHeader + """
        endpoints:
          e:
            data_capture: {sample_percent: 150, capture: [input, outptu]}
            variants: {a: {model: m1}}
        """, expected: ["7:36: 'sample_percent' of 'data_capture' of endpoint 'e' must be between 0 and 100",
                        "7:50: unknown capture mode 'outptu'"]),
    ValidationCase(name: "undeclared variable in expression", yaml: validHeader + """
        variables:
          weight: {type: number, default: 5}
        endpoints:
          e:
            variants: {a: {model: m1, weight: "${var.wieght}"}}
        """, expected: ["9:39: reference to undeclared 'var.wieght'|did you mean 'var.weight'?"]),
    ValidationCase(name: "expression known only after apply", yaml: validHeader + """
        endpoints:
          e:
            variants: {a: {model: m1, weight: "${endpoints.e.url}"}}
        """, expected: ["7:39: '${endpoints.e.url}' is only known after apply"]),
    ValidationCase(name: "output referencing an unknown attribute", yaml: validHeader + """
        outputs:
          u: ${endpoints.nope.url}
        """, expected: ["6:6: reference to undeclared 'endpoints.nope.url'"]),
    ValidationCase(name: "invalid names", yaml: """
        stack: Demo Stack
        models:
          "bad name": {runtime: linear, artifact: m.json}
        """, expected: ["1:8: stack name 'Demo Stack' is invalid", "3:3: model name 'bad name' is invalid"]),
    ValidationCase(name: "YAML syntax error has a position", yaml: """
        stack: demo
        models:
          m: {runtime: linear
        """, expected: ["3:6: invalid YAML: did not find expected ',' or '}' (parsing a flow mapping that starts here, found at 4:1)"]),
    ValidationCase(name: "sensitive variable in a resource attribute", yaml: validHeader + """
        variables:
          w: {type: number, default: 5, sensitive: true}
        endpoints:
          e:
            variants: {a: {model: m1, weight: "${var.w}"}}
        """, expected: ["9:39: 'weight' of variant 'a' of endpoint 'e' cannot come from a sensitive variable"]),
    ValidationCase(name: "variable without a value", yaml: validHeader + """
        variables:
          key: {type: string, from_env: DEMO_KEY}
        """, expected: ["6:3: variable 'key' has no value|set the environment variable DEMO_KEY"]),
    ValidationCase(name: "feature group: reserved, invalid and duplicate feature names", yaml: """
        stack: demo
        feature_groups:
          g:
            record_identifier: id
            event_time: at
            features: {id: String, at: Fractional, is_deleted: String, bad.name: Integral, ID: String}
        """, expected: ["6:44: feature name 'is_deleted' of feature group 'g' is reserved",
                        "6:64: feature name 'bad.name' of feature group 'g' is invalid",
                        "6:84: feature 'ID' of feature group 'g' is declared twice|the first is at stack.yaml:6:16"]),
    ValidationCase(name: "feature group: identifier and event time must be features", yaml: """
        stack: demo
        feature_groups:
          g:
            record_identifier: customer
            event_time: tme
            features: {customer_id: String, time: Fractional}
        """, expected: ["4:24: 'record_identifier' of feature group 'g' names 'customer', which is not one of its features|declare it under 'features:'",
                        "5:17: 'event_time' of feature group 'g' names 'tme', which is not one of its features|did you mean 'time'?"]),
    ValidationCase(name: "feature group: an Integral or collection event time", yaml: """
        stack: demo
        feature_groups:
          g:
            record_identifier: tags
            event_time: at
            features: {tags: {type: String, collection: List}, at: Integral}
        """, expected: ["4:24: feature 'tags' of feature group 'g' is a collection and cannot be the record identifier",
                        "5:17: the event time feature 'at' of feature group 'g' is Integral|an event time is Fractional"]),
    ValidationCase(name: "feature group: unknown type and collection, vector without a dimension", yaml: """
        stack: demo
        feature_groups:
          g:
            record_identifier: id
            event_time: at
            features:
              id: string
              at: Fractional
              tags: {type: String, collection: Lists}
              v: {type: Fractional, collection: Vector}
              w: {type: Fractional, dimension: 3}
        """, expected: ["7:11: unknown type 'string' for feature 'id' of feature group 'g'|did you mean 'String'?",
                        "9:40: unknown collection 'Lists' for feature 'tags' of feature group 'g'|did you mean 'List'?",
                        "10:10: feature 'v' of feature group 'g' is missing required key 'dimension'",
                        "11:29: 'dimension' of feature 'w' of feature group 'g' only goes with 'collection: Vector'"]),
    ValidationCase(name: "feature group: no store, a TTL without an online store, a missing load file", yaml: """
        stack: demo
        feature_groups:
          g:
            record_identifier: id
            event_time: at
            features: {id: String, at: Fractional}
            online: false
            offline: false
          h:
            record_identifier: id
            event_time: at
            features: {id: String, at: Fractional}
            online: {enabled: false, ttl: 1h}
            load: [rows.csv, rows.parquet]
        """, expected: ["8:5: feature group 'g' has neither an online nor an offline store",
                        "13:30: feature group 'h' has a TTL but no online store",
                        "14:11: load file of feature group 'h' 'rows.csv' does not exist",
                        "14:11: load file 'rows.parquet' of feature group 'h' is neither .csv nor .jsonl"]),
    ValidationCase(name: "enrichment: unknown group, unknown path parameter, features the group lacks, defaults that do not match", yaml: validHeader + """
        endpoints:
          e:
            variants: {a: {model: m1}}
        feature_groups:
          customers:
            record_identifier: id
            event_time: at
            features: {id: String, at: Fractional, age: Integral, tags: {type: String, collection: List}}
        gateway:
          stages:
            v:
              routes:
                POST /a/{id}:
                  endpoint: e
                  enrich: {feature_group: customer, record_identifier: {path: id}, features: [age]}
                POST /b/{id}:
                  endpoint: e
                  enrich: {feature_group: customers, record_identifier: {path: cid}, features: [age]}
                POST /c:
                  endpoint: e
                  enrich: {feature_group: customers, record_identifier: {header: X-Id}, features: [age], on_missing: {defaults: [1, 2]}}
                POST /d:
                  endpoint: e
                  enrich: {feature_group: customers, record_identifier: {header: X-Id, json: id}, features: [age]}
        """, expected: ["19:35: reference to undeclared 'feature_groups.customer'|did you mean 'feature_groups.customers'?",
                        "22:72: 'record_identifier' of 'enrich' of route 'POST /b/{id}' of stage 'v' takes path parameter 'cid', which '/b/{id}' does not have|did you mean 'id'?",
                        "25:121: 'enrich' of route 'POST /c' of stage 'v' gives 2 defaults for 1 feature",
                        "28:65: 'record_identifier' of 'enrich' of route 'POST /d' of stage 'v' needs exactly one of path, header or json"]),
    ValidationCase(name: "enrichment: a feature the group lacks or a collection", yaml: validHeader + """
        endpoints:
          e:
            variants: {a: {model: m1}}
        feature_groups:
          customers:
            record_identifier: id
            event_time: at
            features: {id: String, at: Fractional, age: Integral, tags: {type: String, collection: List}}
        gateway:
          stages:
            v:
              routes:
                POST /a/{id}:
                  endpoint: e
                  enrich: {feature_group: customers, record_identifier: {path: id}, features: [ages, tags]}
        """, expected: ["16:7: route 'POST /a/{id}' of stage 'v' enriches with 'ages', which is not a feature of feature group 'customers'|did you mean 'age'?",
                        "16:7: route 'POST /a/{id}' of stage 'v' enriches with 'tags', which is a collection of feature group 'customers'"]),
    ValidationCase(name: "feature group: a PostgreSQL online store without a URL, a URL without it, a bad URL that is never shown", yaml: """
        stack: demo
        variables:
          db: {type: string, sensitive: true, default: "mysql://admin:hunter2@db/x"}
        feature_groups:
          a:
            record_identifier: id
            event_time: at
            features: {id: String, at: Fractional}
            online: {store: postgres}
          b:
            record_identifier: id
            event_time: at
            features: {id: String, at: Fractional}
            online: {url: "${var.db}"}
          c:
            record_identifier: id
            event_time: at
            features: {id: String, at: Fractional}
            online: {store: postgres, url: "${var.db}"}
          d:
            record_identifier: id
            event_time: at
            features: {id: String, at: Fractional}
            online: {store: mongo}
        """, expected: ["9:13: 'online' of feature group 'a' is missing required key 'url'|sensitive variable",
                        "14:14: 'online.url' of feature group 'b' only goes with 'store: postgres'",
                        "19:36: 'online.url' of feature group 'c' is not a PostgreSQL URL: it does not start with postgres://|not shown here",
                        "24:21: unknown online store 'mongo' for feature group 'd'"]),
]

@Test(arguments: validationCases)
func validationReportsEveryProblem(_ c: ValidationCase) {
    let (stack, diagnostics) = load(c.yaml)
    #expect(stack == nil)
    let rendered = diagnostics.map { "\($0.location.map { "\($0.line):\($0.column)" } ?? "-"): \($0.summary)|\($0.hint ?? "")" }
    #expect(diagnostics.count == c.expected.count, "got: \(rendered)")
    for expected in c.expected {
        // "line:column: summary fragment|hint fragment"
        let parts = expected.split(separator: "|", maxSplits: 1).map(String.init)
        let position = parts[0].split(separator: ":", maxSplits: 2).prefix(2).joined(separator: ":") + ":"
        let summary = String(parts[0].dropFirst(position.count + 1))
        let match = rendered.contains { line in
            line.hasPrefix(position) && line.contains(summary) && (parts.count < 2 || line.contains(parts[1]))
        }
        #expect(match, "expected \(expected) in \(rendered)")
    }
}


@Test func diagnosticsRenderWithFileLineColumnAndHint() {
    let (_, d) = load("stack: demo\nendpoint: {}\n")
    #expect(d.first?.description == "stack.yaml:2:1: error: unknown key 'endpoint' in the stack\n  hint: did you mean 'endpoints'?")
}

@Test func aValidStackLoadsWithVariablesAndOrder() throws {
    let (stack, d) = load(validHeader + """
        variables:
          w: {type: number, default: 10}
        endpoints:
          e:
            variants:
              b: {model: m2, weight: "${100 - var.w}", instances: 2}
              a: {model: m1, weight: "${var.w}"}
        outputs:
          url: ${endpoints.e.url}
        """, vars: ["w": "25"])
    #expect(d.isEmpty, "\(d)")
    let s = try #require(stack)
    #expect(s.resources.map(\.address.description) == ["models.m1", "models.m2", "endpoints.e"])
    let e = try #require(s.resources.last?.endpoint)
    #expect(e.variants.map(\.name) == ["b", "a"])
    #expect(e.variants.map(\.weight) == [75, 25])
    #expect(e.variants.map(\.instances) == [2, 1])
    #expect(s.resources.last?.dependencies.map(\.description) == ["models.m1", "models.m2"])
    #expect(s.resources.last?.attributes["variants.b.model_sha256"] == .string(SHA256.hex(of: "/w/stacks/m2.json")))
}

@Test func severalFilesMergeAndDuplicatesNameBothPlaces() {
    let a = StackSource(path: "a.yaml", absolutePath: "/w/a.yaml", text: "stack: demo\nmodels:\n  m: {runtime: linear, artifact: m.json}\n")
    let b = StackSource(path: "b.yaml", absolutePath: "/w/b.yaml", text: "models:\n  m: {runtime: linear, artifact: m.json}\n")
    let (stack, d) = StackLoader.load([a, b], files: FakeFiles())
    #expect(stack == nil)
    #expect(d.all.count == 1)
    #expect(d.all.first?.description.contains("b.yaml:2:3: error: 'models.m' is defined twice") == true)
    #expect(d.all.first?.hint?.contains("a.yaml:3:3") == true)
}

@Test func variablePrecedenceIsVarThenEnvThenDefault() {
    let yaml = "stack: demo\nvariables:\n  x: {type: string, default: d, from_env: X_ENV}\noutputs:\n  o: ${var.x}\n"
    #expect(load(yaml).0?.variables["x"]?.value == .string("d"))
    #expect(load(yaml, env: ["X_ENV": "e"]).0?.variables["x"]?.value == .string("e"))
    #expect(load(yaml, vars: ["x": "v"], env: ["X_ENV": "e"]).0?.variables["x"]?.value == .string("v"))
}

@Test func wrongVariableValuesAndUndeclaredAssignments() {
    let yaml = "stack: demo\nvariables:\n  n: {type: number, default: 1}\n"
    let (_, d1) = load(yaml, vars: ["n": "many"])
    #expect(d1.map(\.summary) == ["value 'many' for variable 'n' is not a number"])
    let (_, d2) = load(yaml, vars: ["m": "1"])
    #expect(d2.map(\.summary) == ["a value was given for undeclared variable 'm'"])
    #expect(d2.first?.hint == "did you mean 'n'?")
}

@Test func sensitiveVariablesMakeOutputsSensitiveAndAreNotEchoed() throws {
    let yaml = "stack: demo\nvariables:\n  key: {type: number, sensitive: true}\noutputs:\n  k: \"prefix-${var.key}\"\n"
    let (_, bad) = load(yaml, vars: ["key": "s3cret"])
    #expect(bad.first?.summary.contains("s3cret") == false)
    let (stack, _) = load(yaml, vars: ["key": "42"])
    #expect(try #require(stack).outputs.first?.sensitive == true)
}

@Test func variableFilesSetValuesBelowCommandLineAssignments() {
    var inputs = VariableInputs(assignments: ["b": "from-cli"])
    var d = Diagnostics()
    inputs.addVariableFile(path: "vars.yaml", text: "a: from-file\nb: also-from-file\n", into: &d)
    #expect(d.all.isEmpty)
    let yaml = "stack: demo\nvariables:\n  a: {type: string}\n  b: {type: string}\n"
    let (stack, _) = StackLoader.load([StackSource(path: "s.yaml", absolutePath: "/w/s.yaml", text: yaml)], variables: inputs, files: FakeFiles())
    #expect(stack?.variables["a"]?.value == .string("from-file"))
    #expect(stack?.variables["b"]?.value == .string("from-cli"))
}

@Test func aServerModelsIdentityIncludesItsScriptAndEnvironment() throws {
    let yaml = "stack: demo\nmodels:\n  s:\n    command: [python3, serve.py]\n    environment: {MODE: fast}\n    startup_timeout: 2m\n"
    let scriptA = FakeFiles(contents: ["/w/stacks/serve.py": "v1"])
    let scriptB = FakeFiles(contents: ["/w/stacks/serve.py": "v2"])
    let a = try #require(load(yaml, files: scriptA).0?.resources.first?.model)
    let b = try #require(load(yaml, files: scriptB).0?.resources.first?.model)
    #expect(a.command == ["python3", "serve.py"])
    #expect(a.startupTimeout == 120)
    #expect(a.workingDirectory == "/w/stacks")
    #expect(a.contentSHA256 != b.contentSHA256)
    let c = try #require(load(yaml.replacingOccurrences(of: "fast", with: "slow"), files: scriptA).0?.resources.first?.model)
    #expect(a.contentSHA256 != c.contentSHA256)

    // An artifact's content is part of the identity; its path alone is not.
    let withArtifact = yaml + "    artifact: model.tar.gz\n"
    let d = try #require(load(withArtifact, files: FakeFiles(contents: ["/w/stacks/serve.py": "v1", "/w/stacks/model.tar.gz": "weights 1"])).0?.resources.first)
    let e = try #require(load(withArtifact, files: FakeFiles(contents: ["/w/stacks/serve.py": "v1", "/w/stacks/model.tar.gz": "weights 2"])).0?.resources.first)
    #expect(d.model?.artifactSHA256 == SHA256.hex(of: "weights 1"))
    #expect(d.model?.contentSHA256 != e.model?.contentSHA256 && d.model?.contentSHA256 != a.contentSHA256)
    #expect(d.attributes["artifact_sha256"] == .string(SHA256.hex(of: "weights 1")) && d.attributes["artifact"] == .string("model.tar.gz"))
}

@Test func aMultiModelEndpointReadsItsFolderRuntimeAndCache() throws {
    let (stack, d) = load("stack: demo\nendpoints:\n  e:\n    multi_model: {artifacts: per-customer-models, runtime: xgboost, cache: {models: 5}}\n    instances: 3\n")
    #expect(d.isEmpty, "\(d)")
    let e = try #require(stack?.resources.first?.endpoint)
    #expect(e.variants.isEmpty && e.dependencies.isEmpty)
    let m = try #require(e.multiModel)
    #expect(m.artifacts == "per-customer-models" && m.artifactsPath == "/w/stacks/per-customer-models")
    #expect(m.runtime == .xgboost && m.cacheModels == 5 && m.instances == 3)
    #expect(stack?.resources.first?.attributes["multi_model.cache_models"] == .number(5))
}

@Test func aPostgresURLIsPlannedAsAFingerprintAndNeverInClear() throws {
    let (stack, d) = load("""
        stack: demo
        variables:
          db: {type: string, sensitive: true, default: "postgres://mlgw:hunter2hunter2@127.0.0.1:5432/features"}
        feature_groups:
          g:
            record_identifier: id
            event_time: at
            features: {id: String, at: Fractional}
            online: {store: postgres, url: "${var.db}"}
        """)
    let s = try #require(stack, "\(d)")
    let attributes = try #require(s.resources.first?.attributes)
    #expect(attributes["online.store"] == .string("postgres"))
    guard case .sensitive? = attributes["online.url"] else { Issue.record("the URL is not planned as sensitive: \(String(describing: attributes["online.url"]))"); return }
    #expect(!attributes.values.contains { $0.description.contains("hunter2") })
    let encoded = String(decoding: try JSONEncoder().encode(s.resources[0].configuration(as: FeatureGroupConfiguration.self)!.redacted), as: UTF8.self)
    #expect(!encoded.contains("hunter2"))
}
