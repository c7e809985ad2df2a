import Spec
import Testing

/// One value out of its range, written where `«` and `»` mark it: the load must fail with one
/// error at exactly that place, saying what the value should be.
struct OutOfRangeCase: CustomTestStringConvertible, Sendable {
    var name: String
    /// Lines after the common header (a stack name and models `m1`, `m2`).
    var yaml: String
    var message: String
    var testDescription: String { name }
}

private let header = """
stack: demo
models:
  m1: {runtime: linear, artifact: m1.json}
  m2: {runtime: linear, artifact: m2.json}

"""

private func variant(_ settings: String) -> String { "endpoints:\n  e:\n    variants:\n      a: {model: m1, \(settings)}\n" }
private func rollout(_ settings: String) -> String {
    "endpoints:\n  e:\n    variants:\n      a: {model: m1}\n      b: {model: m2, rollout: {steps: [10, 100], \(settings)}}\n"
}
private func function(_ settings: String) -> String { "functions:\n  f: {runtime: python3, handler: fn.handler, \(settings)}\n" }
private func stage(_ settings: String) -> String { "gateway:\n  stages:\n    v1:\n      routes: {GET /ok: {mock: {}}}\n      \(settings)\n" }
private func route(_ settings: String) -> String { "gateway:\n  stages:\n    v1:\n      routes:\n        GET /a: {\(settings)}\n" }
private func group(_ settings: String, features: String = "id: String, at: Fractional") -> String {
    "feature_groups:\n  g:\n    record_identifier: id\n    event_time: at\n    features: {\(features)}\n    \(settings)\n"
}
private func rule(_ target: String) -> String { "event_rules:\n  r:\n    schedule: rate(5 minutes)\n    target: {\(target)}\n" }
private func monitor(_ settings: String) -> String {
    "endpoints:\n  e:\n    variants: {a: {model: m1}}\n    data_capture: {sample_percent: 100, capture: [input]}\n"
        + "monitors:\n  d:\n    endpoint: e\n    schedule: rate(1 hour)\n    baseline: {statistics: s.json, constraints: c.json}\n    \(settings)\n"
}
private func scaling(_ settings: String, target: String = "endpoints.e.variants.a") -> String {
    "endpoints:\n  e:\n    variants: {a: {model: m1}}\nfunctions:\n  f: {runtime: python3, handler: fn.handler, reserved_concurrency: 20}\n"
        + "scaling_policies:\n  p:\n    target: \(target)\n    \(settings)\n"
}
private func alarm(_ settings: String) -> String {
    scaling("min: 1\n    max: 4\n    step_scaling:\n      - alarm: {metric: Invocations, threshold: 10, comparison: GreaterThanThreshold, \(settings)}\n        steps: [{lower: 0, adjustment: 1}]")
}
private func step(_ settings: String, type: String = "ChangeInCapacity") -> String {
    scaling("min: 1\n    max: 4\n    step_scaling:\n      - alarm: {metric: Invocations, threshold: 10, comparison: GreaterThanThreshold}\n        adjustment_type: \(type)\n        \(settings)")
}
private func tracking(_ settings: String) -> String {
    scaling("min: 1\n    max: 4\n    target_tracking:\n      - {metric: SageMakerVariantInvocationsPerInstance, \(settings)}")
}
private func plan(_ settings: String) -> String { "gateway:\n  usage_plans:\n    p: {\(settings)}\n" }

let outOfRangeCases: [OutOfRangeCase] = [
    // local settings
    .init(name: "local port zero", yaml: "local: {port: «0»}\n", message: "'local.port' must be between 1 and 65535, found 0"),
    .init(name: "local port too large", yaml: "local: {port: «70000»}\n", message: "'local.port' must be between 1 and 65535"),
    .init(name: "gateway port negative", yaml: "local: {gateway_port: «-1»}\n", message: "'local.gateway_port' must be between 1 and 65535"),
    .init(name: "health timeout zero", yaml: "local: {health_timeout: «0»}\n", message: "'local.health_timeout' (seconds) must be above 0 and at most 3600"),
    .init(name: "health timeout huge", yaml: "local: {health_timeout: «1e300»}\n", message: "must be above 0 and at most 3600, found 1e+300"),
    .init(name: "health timeout not a number", yaml: "local: {health_timeout: «.nan»}\n", message: "must be a finite number, found .nan"),
    // models
    .init(name: "server start-up timeout zero", yaml: "  s: {command: [python3, serve.py], startup_timeout: «0s»}\n",
          message: "'startup_timeout' of model 's' must be above 0s and at most 1h, found 0s"),
    .init(name: "server start-up timeout too long", yaml: "  s: {command: [python3, serve.py], startup_timeout: «2h»}\n",
          message: "'startup_timeout' of model 's' must be above 0s and at most 1h, found 2h"),
    .init(name: "server start-up timeout in an unknown unit", yaml: "  s: {command: [python3, serve.py], startup_timeout: «10x»}\n",
          message: "'startup_timeout' of model 's' must be a duration such as 30s or 2m"),
    // variants
    .init(name: "negative weight", yaml: variant("weight: «-1»"), message: "'weight' of variant 'a' of endpoint 'e' must not be negative"),
    .init(name: "huge weight", yaml: variant("weight: «1e7»"), message: "'weight' of variant 'a' of endpoint 'e' must be between 0 and 1000000"),
    .init(name: "weight .nan", yaml: variant("weight: «.nan»"), message: "'weight' of variant 'a' of endpoint 'e' must be a finite number, found .nan"),
    .init(name: "weight .inf", yaml: variant("weight: «.inf»"), message: "must be a finite number, found .inf"),
    .init(name: "weight beyond a double", yaml: variant("weight: «1e309»"), message: "must be a finite number, found 1e309"),
    .init(name: "weight from an overflowing expression", yaml: variant("weight: «\"${1e300 * 1e300}\"»"), message: "must be a finite number, found inf"),
    .init(name: "zero instances", yaml: variant("instances: «0»"), message: "'instances' of variant 'a' of endpoint 'e' must be between 1 and 64, found 0"),
    .init(name: "too many instances", yaml: variant("instances: «65»"), message: "must be between 1 and 64, found 65"),
    .init(name: "instances beyond an integer", yaml: variant("instances: «1e30»"), message: "must be between 1 and 64"),
    .init(name: "shadow sample above 100", yaml: variant("shadow: {sample_percent: «101»}"),
          message: "'shadow.sample_percent' of variant 'a' of endpoint 'e' must be between 0 and 100, found 101"),
    .init(name: "shadow sample negative", yaml: variant("shadow: {sample_percent: «-5»}"), message: "'shadow.sample_percent' of variant 'a' of endpoint 'e' must not be negative"),
    // rollouts
    .init(name: "rollout min_requests zero", yaml: rollout("min_requests: «0»"),
          message: "'min_requests' of 'rollout' of variant 'b' of endpoint 'e' must be between 1 and 1000000, found 0"),
    .init(name: "rollout negative bake", yaml: rollout("bake: «-1s»"), message: "'bake' of 'rollout' of variant 'b' of endpoint 'e' must not be negative, found -1s"),
    .init(name: "rollout bake over a day", yaml: rollout("bake: «25h»"), message: "must be between 0s and 24h, found 25h"),
    .init(name: "rollout zero p99 latency", yaml: rollout("max_p99_latency: «0s»"),
          message: "'max_p99_latency' of 'rollout' of variant 'b' of endpoint 'e' must be above 0s and at most 10m, found 0s"),
    .init(name: "rollout error rate above 1", yaml: rollout("max_error_rate: «2»"), message: "'max_error_rate' of 'rollout' of variant 'b' of endpoint 'e' must be between 0 and 1"),
    .init(name: "rollout max_wait over a day", yaml: rollout("max_wait: «2d»"), message: "'max_wait' of 'rollout' of variant 'b' of endpoint 'e' must be between 0s and 24h, found 2d"),
    .init(name: "rollout max_wait in weeks", yaml: rollout("max_wait: «1w»"), message: "'max_wait' of 'rollout' of variant 'b' of endpoint 'e' must be a duration such as 30s or 2m"),
    .init(name: "rollout negative max_wait", yaml: rollout("max_wait: «-5s»"), message: "'max_wait' of 'rollout' of variant 'b' of endpoint 'e' must not be negative, found -5s"),
    .init(name: "rollout max_wait of 25 hours", yaml: rollout("max_wait: «25h»"), message: "must be between 0s and 24h, found 25h"),
    .init(name: "rollout traffic policy unknown", yaml: rollout("on_too_little_traffic: «advance»"),
          message: "'on_too_little_traffic' of 'rollout' of variant 'b' of endpoint 'e' is 'advance'"),
    .init(name: "rollout step zero", yaml: "endpoints:\n  e:\n    variants:\n      a: {model: m1}\n      b: {model: m2, rollout: {steps: [«0», 100]}}\n",
          message: "a step of 'rollout' of variant 'b' of endpoint 'e' must be above 0 and at most 100, found 0"),
    .init(name: "rollout step above 100", yaml: "endpoints:\n  e:\n    variants:\n      a: {model: m1}\n      b: {model: m2, rollout: {steps: [10, «101»]}}\n",
          message: "must be above 0 and at most 100, found 101"),
    // multi-model endpoints and capture
    .init(name: "multi-model cache of no megabytes", yaml: "endpoints:\n  e:\n    multi_model: {artifacts: per-customer-models, cache: {memory_mb: «0»}}\n",
          message: "'cache.memory_mb' of 'multi_model' of endpoint 'e' must be between 1 and 1048576, found 0"),
    .init(name: "multi-model cache of no models", yaml: "endpoints:\n  e:\n    multi_model: {artifacts: per-customer-models, cache: {models: «0»}}\n",
          message: "'cache.models' of 'multi_model' of endpoint 'e' must be between 1 and 100000, found 0"),
    .init(name: "multi-model without instances", yaml: "endpoints:\n  e:\n    instances: «0»\n    multi_model: {artifacts: per-customer-models}\n",
          message: "'instances' of endpoint 'e' must be between 1 and 64, found 0"),
    .init(name: "capture above 100 percent", yaml: "endpoints:\n  e:\n    data_capture: {sample_percent: «150»}\n    variants: {a: {model: m1}}\n",
          message: "'sample_percent' of 'data_capture' of endpoint 'e' must be between 0 and 100, found 150"),
    .init(name: "capture .nan percent", yaml: "endpoints:\n  e:\n    data_capture: {sample_percent: «.nan»}\n    variants: {a: {model: m1}}\n",
          message: "must be a finite number, found .nan"),
    // functions
    .init(name: "function timeout zero", yaml: function("timeout: «0s»"), message: "'timeout' of function 'f' must be between 100ms and 15m, found 0s"),
    .init(name: "function timeout huge", yaml: function("timeout: «1e300s»"), message: "'timeout' of function 'f' must be between 100ms and 15m, found 1e300s"),
    .init(name: "function timeout in milliseconds too short", yaml: function("timeout: «50ms»"), message: "must be between 100ms and 15m, found 50ms"),
    .init(name: "function memory too small", yaml: function("memory: «64»"), message: "'memory' of function 'f' must be between 128 and 10240, found 64"),
    .init(name: "function memory too large", yaml: function("memory: «20000»"), message: "must be between 128 and 10240"),
    .init(name: "negative provisioned concurrency", yaml: function("provisioned_concurrency: «-1»"),
          message: "'provisioned_concurrency' of function 'f' must not be negative, found -1"),
    .init(name: "zero reserved concurrency", yaml: function("reserved_concurrency: «0»"), message: "'reserved_concurrency' of function 'f' must be between 1 and 256, found 0"),
    .init(name: "too many async retries", yaml: function("async: {max_retries: «3»}"), message: "'async.max_retries' of function 'f' must be between 0 and 2, found 3"),
    .init(name: "negative retry delay", yaml: function("async: {retry_delay: «-1s»}"), message: "'async.retry_delay' of function 'f' must not be negative, found -1s"),
    .init(name: "retry delay over an hour", yaml: function("async: {retry_delay: «2h»}"), message: "must be between 0s and 1h, found 2h"),
    .init(name: "no event age", yaml: function("async: {max_event_age: «0s»}"), message: "'async.max_event_age' of function 'f' must be above 0s and at most 6h, found 0s"),
    .init(name: "event age over six hours", yaml: function("async: {max_event_age: «7h»}"), message: "must be above 0s and at most 6h, found 7h"),
    // stages and routes
    .init(name: "stage default timeout zero", yaml: stage("defaults: {timeout: «0s»}"), message: "'defaults.timeout' of stage 'v1' must be above 0s and at most 15m, found 0s"),
    .init(name: "stage default timeout huge", yaml: stage("defaults: {timeout: «1e300s»}"), message: "found 1e300s"),
    .init(name: "stage body limit zero", yaml: stage("max_body: «0»"), message: "'max_body' of stage 'v1' (bytes, API Gateway's limit) must be between 1 and 10485760, found 0"),
    .init(name: "stage throttle rate huge", yaml: stage("throttle: {rate: «1e30»}"), message: "'rate' of 'throttle' of stage 'v1' must be above 0 and at most 1000000, found 1e+30"),
    .init(name: "stage throttle rate zero", yaml: stage("throttle: {rate: «0»}"), message: "must be above 0 and at most 1000000, found 0"),
    .init(name: "stage throttle burst zero", yaml: stage("throttle: {rate: 10, burst: «0»}"), message: "'burst' of 'throttle' of stage 'v1' must be between 1 and 1000000, found 0"),
    .init(name: "CORS max age negative", yaml: stage("cors: {max_age: «-1s»}"), message: "'cors.max_age' of stage 'v1' must not be negative, found -1s"),
    .init(name: "CORS max age huge", yaml: stage("cors: {max_age: «1e300m»}"), message: "'cors.max_age' of stage 'v1' must be between 0s and 24h, found 1e300m"),
    .init(name: "CORS max age .nan", yaml: stage("cors: {max_age: «.nan»}"), message: "'cors.max_age' of stage 'v1' must be a finite number, found .nan"),
    .init(name: "route timeout zero", yaml: route("mock: {}, timeout: «0s»"), message: "'timeout' of route 'GET /a' of stage 'v1' must be above 0s and at most 15m, found 0s"),
    .init(name: "route timeout huge", yaml: route("mock: {}, timeout: «1e300s»"), message: "must be above 0s and at most 15m, found 1e300s"),
    .init(name: "route timeout of sixteen minutes", yaml: route("mock: {}, timeout: «16m»"), message: "found 16m"),
    .init(name: "mock status 700", yaml: route("mock: {status: «700»}"), message: "'mock.status' of route 'GET /a' of stage 'v1' must be between 100 and 599, found 700"),
    .init(name: "mock status 99", yaml: route("mock: {status: «99»}"), message: "must be between 100 and 599, found 99"),
    .init(name: "route throttle rate negative", yaml: route("mock: {}, throttle: {rate: «-1»}"), message: "'rate' of 'throttle' of route 'GET /a' of stage 'v1' must be above 0"),
    // usage plans
    .init(name: "quota limit zero", yaml: plan("quota: {limit: «0»}"), message: "'quota.limit' of usage plan 'p' must be between 1 and 2000000000, found 0"),
    .init(name: "quota limit too large", yaml: plan("quota: {limit: «3e9»}"), message: "must be between 1 and 2000000000"),
    // feature groups
    .init(name: "feature group TTL zero", yaml: group("online: {ttl: «0s»}"), message: "'online.ttl' of feature group 'g' must be between 1s and 876000h, found 0s"),
    .init(name: "feature group TTL negative", yaml: group("online: {ttl: «-1d»}"), message: "'online.ttl' of feature group 'g' must be between 1s and 876000h, found -1d"),
    .init(name: "feature group TTL two centuries", yaml: group("online: {ttl: «73000d»}"), message: "must be between 1s and 876000h, found 73000d"),
    .init(name: "feature group TTL in part seconds", yaml: group("online: {ttl: «1.5s»}"), message: "'online.ttl' of feature group 'g' is not a whole number of seconds"),
    .init(name: "feature group TTL in weeks", yaml: group("online: {ttl: «2w»}"), message: "'online.ttl' of feature group 'g' must be a duration such as 30s or 2m"),
    .init(name: "feature group TTL not finite", yaml: group("online: {ttl: «.inf»}"), message: "'online.ttl' of feature group 'g' must be a finite number"),
    .init(name: "vector dimension zero", yaml: group("", features: "id: String, at: Fractional, v: {type: Fractional, collection: Vector, dimension: «0»}"),
          message: "'dimension' of feature 'v' of feature group 'g' must be between 1 and 8192, found 0"),
    .init(name: "vector dimension too large", yaml: group("", features: "id: String, at: Fractional, v: {type: Fractional, collection: Vector, dimension: «9000»}"),
          message: "must be between 1 and 8192, found 9000"),
    .init(name: "vector dimension negative", yaml: group("", features: "id: String, at: Fractional, v: {type: Fractional, collection: Vector, dimension: «-3»}"),
          message: "'dimension' of feature 'v' of feature group 'g' must be between 1 and 8192, found -3"),
    .init(name: "rule retries negative", yaml: rule("log: true, retry: {maximum_attempts: «-1»}"),
          message: "'retry.maximum_attempts' of target 1 of event rule 'r' must not be negative, found -1"),
    .init(name: "rule retries above EventBridge's", yaml: rule("log: true, retry: {maximum_attempts: «186»}"), message: "must be between 0 and 185, found 186"),
    .init(name: "rule retries not whole", yaml: rule("log: true, retry: {maximum_attempts: «1.5»}"), message: "'retry.maximum_attempts' of target 1 of event rule 'r' must be a whole number"),
    .init(name: "rule event age below a minute", yaml: rule("log: true, retry: {maximum_event_age: «59s»}"),
          message: "'retry.maximum_event_age' of target 1 of event rule 'r' must be between 1m and 24h, found 59s"),
    .init(name: "rule event age above a day", yaml: rule("log: true, retry: {maximum_event_age: «2d»}"), message: "must be between 1m and 24h, found 2d"),
    .init(name: "rule event age not finite", yaml: rule("log: true, retry: {maximum_event_age: «.nan»}"),
          message: "'retry.maximum_event_age' of target 1 of event rule 'r' must be a finite number"),
    .init(name: "rule timeout zero", yaml: rule("url: 'http://127.0.0.1:9/x', timeout: «0s»"), message: "'timeout' of target 1 of event rule 'r' must be between 100ms and 15m, found 0s"),
    .init(name: "rule timeout above 15 minutes", yaml: rule("command: [true], timeout: «1h»"), message: "must be between 100ms and 15m, found 1h"),
    // monitors
    .init(name: "monitor window under a minute", yaml: monitor("window: «30s»"), message: "'window' of monitor 'd' must be between 1m and 744h, found 30s"),
    .init(name: "monitor window above 31 days", yaml: monitor("window: «40d»"), message: "'window' of monitor 'd' must be between 1m and 744h"),
    .init(name: "monitor minimum samples zero", yaml: monitor("minimum_samples: «0»"), message: "'minimum_samples' of monitor 'd' must be between 1 and 100000000, found 0"),
    .init(name: "monitor threshold zero", yaml: monitor("drift: {threshold: «0»}"), message: "'threshold' of 'drift' of monitor 'd' must be above 0 and at most 1000"),
    .init(name: "monitor threshold not finite", yaml: monitor("drift: {threshold: «.inf»}"), message: "'threshold' of 'drift' of monitor 'd' must be a finite number"),
    .init(name: "monitor probability threshold above 1",
          yaml: "endpoints:\n  e:\n    variants: {a: {model: m1}}\n    data_capture: {sample_percent: 100, capture: [output]}\n"
              + "monitors:\n  q:\n    endpoint: e\n    type: model_quality\n    problem_type: binary_classification\n    schedule: rate(1 hour)\n"
              + "    ground_truth: truth\n    baseline: {constraints: c.json}\n    probability_threshold: «1.5»\n",
          message: "'probability_threshold' of monitor 'q' must be between 0 and 1, found 1.5"),
    .init(name: "monitor p-value threshold above 1", yaml: monitor("features: {x: {method: l_infinity, threshold: 2}}\n    drift: {method: psi, threshold: «1001»}"),
          message: "'threshold' of 'drift' of monitor 'd' must be above 0 and at most 1000, found 1001"),
    .init(name: "plan throttle burst zero", yaml: plan("throttle: {rate: 5, burst: «0»}"), message: "'burst' of 'throttle' of usage plan 'p' must be between 1 and 1000000"),
]

@Test(arguments: outOfRangeCases)
func outOfRangeValuesAreLocatedErrors(_ c: OutOfRangeCase) throws {
    let marked = header + c.yaml
    let start = try #require(marked.firstIndex(of: "«"))
    let before = marked[..<start]
    let line = before.filter { $0 == "\n" }.count + 1
    let column = before.count - (before.lastIndex(of: "\n").map { before.distance(from: before.startIndex, to: $0) + 1 } ?? 0) + 1
    let yaml = marked.replacingOccurrences(of: "«", with: "").replacingOccurrences(of: "»", with: "")
    let files = FakeFiles(contents: ["/w/stacks/fn.py": "def handler(e, c): pass", "/w/stacks/serve.py": "print()"])
    let (stack, diagnostics) = load(yaml, files: files)
    #expect(stack == nil, "the stack loaded despite the out-of-range value")
    let errors = diagnostics.filter { $0.severity == .error }
    #expect(errors.count == 1, "\(errors.map(\.description))")
    let error = try #require(errors.first)
    #expect(error.location?.line == line && error.location?.column == column, "at \(String(describing: error.location)), expected \(line):\(column)")
    #expect(error.summary.contains(c.message), "\(error.summary)")
    #expect(error.hint != nil)
}

/// A kind's reader that gives up records why: no out-of-range value, in any kind, makes a
/// resource vanish without an error (the loader's own check would name it).
@Test func noReaderGivesUpWithoutSayingWhy() {
    for c in outOfRangeCases {
        let yaml = (header + c.yaml).replacingOccurrences(of: "«", with: "").replacingOccurrences(of: "»", with: "")
        let (_, diagnostics) = load(yaml)
        #expect(!diagnostics.contains { $0.summary.contains("recorded no reason") }, "\(c.name)")
    }
}
