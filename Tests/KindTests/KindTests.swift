import EnvironmentAPI
import Foundation
import NIOPosix
import Providers
import Reconciler
@testable import Services
import Spec
import Testing

/// Files for tests: the artifacts and scripts the stack below names.
struct Files: SpecFileSystem {
    func sha256(ofFileAt absolutePath: String) -> String? {
        absolutePath.hasSuffix(".json") || absolutePath.hasSuffix(".py") || absolutePath.hasSuffix(".csv") ? SHA256.hex(of: absolutePath) : nil
    }
    func isDirectory(_ absolutePath: String) -> Bool { absolutePath.hasSuffix("-models") }
}

/// Every kind, with the settings that make its attributes interesting.
let everyKind = """
stack: kinds
variables:
  key: {type: string, sensitive: true, default: abcdefghijklmnopqrstuvwxyz}
models:
  m1: {runtime: linear, artifact: m1.json}
  m2: {runtime: xgboost, artifact: m2.json}
  own: {command: [python3, serve.py], environment: {MODE: fast, URL: "${environment.aws_endpoint_url}"}, startup_timeout: 20s,
        probe: {body: "1,2"}}
feature_groups:
  customers:
    record_identifier: id
    event_time: at
    features: {id: String, at: Fractional, spend: Fractional, visits: Integral, tags: {type: String, collection: List},
               embedding: {type: Fractional, collection: Vector, dimension: 3}}
    online: {ttl: 7d}
    load: customers.csv
  history:
    record_identifier: id
    event_time: at
    features: {id: Integral, at: String}
    online: false
endpoints:
  weighted:
    data_capture: {sample_percent: 50, capture: [input, output]}
    variants:
      a: {model: m1, weight: 3, instances: 2}
      b: {model: m2, rollout: {steps: [10, 50, 100], bake: 30s, max_error_rate: 0.1, max_p99_latency: 50ms, min_requests: 5}}
      s: {model: m1, shadow: {sample_percent: 25}}
  many:
    multi_model: {artifacts: per-customer-models, runtime: xgboost, cache: {models: 5, memory_mb: 64}}
    instances: 2
  served:
    multi_model: {artifacts: per-customer-models, server: own}
functions:
  score: {runtime: python3, handler: fn.handler, timeout: 5s, memory: 256, provisioned_concurrency: 1,
          async: {max_retries: 1, retry_delay: 2s, max_event_age: 1h}, environment: {ENDPOINT: "${endpoints.weighted.url}"}}
gateway:
  authorizers:
    corp: {issuer: https://id.example.com, audiences: [api], jwks_file: jwks.json}
  stages:
    v1:
      cors: {allow_origins: [https://app.example.com], max_age: 10m}
      throttle: {rate: 100, burst: 200}
      routes:
        POST /score/{variant}: {endpoint: weighted, variant: {path: variant}, auth: api_key, throttle: {rate: 5}}
        POST /fn: {function: score, payload: "1.0", auth: {jwt: corp, scopes: [score]}}
        GET /ready: {mock: {status: 204}}
  usage_plans:
    standard: {throttle: {rate: 10}, quota: {limit: 1000, period: week}, routes: {"v1 POST /score/{variant}": {throttle: {rate: 1}}}}
  api_keys:
    ci: {value: "${var.key}", usage_plan: standard}
event_rules:
  nightly:
    schedule: cron(0 20 ? * MON-FRI *)
    timezone: Europe/Berlin
    state: disabled
    targets:
      - {function: score, input: {mode: report}, retry: {maximum_attempts: 3, maximum_event_age: 1h}}
      - {endpoint: weighted, content_type: text/csv, input: "1,2"}
  on-drift:
    pattern: {source: [mlgw.monitor], detail: {drift: [{numeric: [">", 0.2]}], $or: [{a: [1]}, {b: [{prefix: x}]}]}}
    targets:
      - {log: true, input_transformer: {paths: {d: $.detail.drift}, template: "drift <d>"}}
      - {url: "http://127.0.0.1:9/hook", input_path: $.detail, timeout: 2s, dead_letter: dlq.jsonl}
      - {command: [python3, on_drift.py]}
monitors:
  drift:
    endpoint: weighted
    variant: a
    schedule: rate(1 hour)
    window: 6h
    baseline: train.csv
    features: {amount: {method: ks, threshold: 0.01}, kind: {type: String, method: chi_square}}
    drift: {method: psi, threshold: 0.2}
    minimum_samples: 100
  from-files:
    endpoint: weighted
    schedule: cron(0 * * * ? *)
    baseline: {statistics: statistics.json, constraints: constraints.json}
    state: disabled
  quality:
    endpoint: weighted
    type: model_quality
    problem_type: binary_classification
    schedule: rate(1 day)
    ground_truth: truth
    baseline: {constraints: constraints.json}
    probability_threshold: 0.7
scaling_policies:
  weighted-a:
    target: endpoints.weighted.variants.a
    min: 1
    max: 6
    target_tracking:
      - {metric: SageMakerVariantInvocationsPerInstance, target: 70, scale_in_cooldown: 10m}
    step_scaling:
      - name: silence
        alarm: {metric: Invocations, period: 60s, evaluation_periods: 15, threshold: 1, comparison: LessThanThreshold, missing_data: {fill: 0}}
        steps: [{upper: 0, adjustment: -1}]
      - name: burst
        alarm: {metric: CPUUtilization, statistic: Maximum, period: 10s, evaluation_periods: 3, datapoints_to_alarm: 2, threshold: 80,
                comparison: GreaterThanOrEqualToThreshold, missing_data: notBreaching}
        adjustment_type: PercentChangeInCapacity
        min_adjustment_magnitude: 1
        steps: [{lower: 0, upper: 10, adjustment: 50}, {lower: 10, adjustment: 100}]
        cooldown: 2m
    scheduled_actions:
      - {name: evening, schedule: cron(0 20 * * ? *), timezone: Europe/Berlin, min: 1, max: 1}
      - {name: morning, schedule: cron(0 7 ? * MON-FRI *), timezone: Europe/Berlin, min: 2, max: 6}
  score:
    target: functions.score
    min: 0
    max: 4
    target_tracking:
      - {metric: LambdaProvisionedConcurrencyUtilization, target: 0.7, disable_scale_in: true}
"""

func loadEveryKind() throws -> Stack {
    let (stack, d) = StackLoader.load([StackSource(path: "kinds.yaml", absolutePath: "/k/kinds.yaml", text: everyKind)], files: Files())
    return try #require(stack, "\(d.all.map(\.description))")
}

@Test func everyKindIsRegisteredInEveryLayer() async throws {
    let kinds = Set(ResourceKind.allCases)
    #expect(Set(LocalProvider.handledKinds) == kinds, "a kind without a handler in Providers")
    #expect(LocalProvider.handledKinds.count == kinds.count, "a kind with two handlers")
    for kind in ResourceKind.allCases {
        #expect(kind.definition.kind == kind)
        #expect(kind.definition.referenceableAttributes.contains("name"))
    }
    #expect(Set(ResourceKind.allCases.map(\.section)).count == kinds.count, "two kinds in one section")
    // Each kind's section is in the schema editors and CI check stacks against.
    let schema = try JSONSerialization.jsonObject(with: Data(StackSchema.json.utf8)) as! [String: Any]
    let properties = schema["properties"] as! [String: Any]
    for kind in ResourceKind.allCases {
        var node = properties
        for (i, key) in kind.section.enumerated() {
            let next = try #require(node[key] as? [String: Any], "\(kind.section.joined(separator: ".")) is not in the schema")
            node = i == kind.section.count - 1 ? next : (next["properties"] as? [String: Any] ?? [:])
        }
    }
    // The host serves every collection the provider's handlers use, and no other.
    let directory = NSTemporaryDirectory() + "mlgw-kinds-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let supervisor = Supervisor(clock: ManualClock())
    let spawner = ProcessSpawner()
    let models = ModelRegistry(directory: directory)
    let services: [any EnvironmentService] = [
        models,
        EndpointService(directory: directory, table: RouteTable(), metrics: MetricsRegistry(), executable: "/bin/false", spawner: spawner,
                        models: models, supervisor: supervisor),
        FunctionService(directory: directory, group: group, spawner: spawner, supervisor: supervisor),
        GatewayState(directory: directory),
        try FeatureStoreService(directory: directory, clock: EnvironmentClock()),
        EventBusService(directory: directory, clock: EnvironmentClock(),
                        functions: FunctionService(directory: directory, group: group, spawner: spawner, supervisor: supervisor), supervisor: supervisor),
        MonitorService(directory: directory, clock: ManualClock(), supervisor: supervisor, metrics: MetricsRegistry()),
        ScalingService(directory: directory,
                       endpoints: EndpointService(directory: directory, table: RouteTable(), metrics: MetricsRegistry(), executable: "/bin/false",
                                                  spawner: spawner, models: models, supervisor: supervisor),
                       functions: FunctionService(directory: directory, group: group, spawner: spawner, supervisor: supervisor),
                       metrics: MetricsRegistry(), table: RouteTable(), supervisor: supervisor),
    ]
    let router = ControlRouter()
    for s in services { s.register(on: router) }
    #expect(router.collections == Set(ControlCollection.allCases))
    #expect(Set(LocalProvider.usedCollections) == Set(ControlCollection.allCases))
    try await group.shutdownGracefully()
}

/// What a host running exactly the stack's configurations reports, kind by kind.
func snapshot(running stack: Stack) -> EnvironmentSnapshot {
    var s = EnvironmentSnapshot(pid: 1, awsPort: 1, startedAt: 0)
    for r in stack.resources {
        if let c = r.configuration(as: ModelRegistration.self) { s.models.append(c) }
        if let c = r.configuration(as: FeatureGroupConfiguration.self) {
            s.featureGroups.append(FeatureGroupStatus(configuration: c, onlineRecords: 0, offlineRows: 0, offlineBytes: 0, lastWrite: nil, load: nil))
        }
        if let c = r.configuration(as: EndpointConfiguration.self) { s.endpoints.append(EndpointStatus(name: c.name, configuration: c, variants: [])) }
        if let c = r.configuration(as: FunctionConfiguration.self) {
            s.functions.append(FunctionStatus(name: c.name, configuration: c, arn: "", workers: [], invocations: 0, errors: 0, throttles: 0,
                                              timeouts: 0, asyncQueued: 0, asyncFailed: 0))
        }
        if let c = r.configuration(as: StageConfiguration.self) { s.stages.append(c) }
        if let c = r.configuration(as: APIKeyConfiguration.self) { s.apiKeys.append(c) }
        if let c = r.configuration(as: UsagePlanConfiguration.self) { s.usagePlans.append(c) }
        if let c = r.configuration(as: EventRuleConfiguration.self) { s.eventRules.append(EventRuleStatus(configuration: c, arn: "")) }
        if let c = r.configuration(as: MonitorConfiguration.self) {
            s.monitors.append(MonitorStatus(configuration: c, arn: "", baselineRows: 0, baselineFeatures: [], runs: 0, lastRun: nil, nextRun: nil))
        }
        if let c = r.configuration(as: ScalingPolicyConfiguration.self) {
            s.scalingPolicies.append(ScalingPolicyStatus(configuration: c, resourceId: c.target.resourceID, desiredCapacity: 1, minCapacity: c.minCapacity,
                                                         maxCapacity: c.maxCapacity, runningCapacity: 1, alarms: [], activities: [], nextScheduledAction: nil))
        }
    }
    return s
}

/// Desired and observed come from one definition: observing what each kind's configuration
/// runs reports exactly the observable part of the attributes the stack planned with, so a
/// no-op plan after an apply has nothing to say.
@Test(arguments: ResourceKind.allCases)
func observingARunningConfigurationGivesBackThePlannedAttributes(_ kind: ResourceKind) throws {
    let stack = try loadEveryKind()
    let observed = LocalProvider.observation(of: snapshot(running: stack))
    let resources = stack.resources.filter { $0.kind == kind }
    #expect(!resources.isEmpty, "the stack declares no \(kind.rawValue)")
    for r in resources {
        let seen = try #require(observed.resources[r.address], "\(r.address) is not observed")
        #expect(seen.attributes == r.attributes.filter { r.observablePaths.contains($0.key) }, "\(r.address)")
        #expect(!r.observablePaths.isEmpty, "\(r.address) reports nothing when observed")
    }
}

@Test func aNoOpPlanAfterApplyingEveryKindHasNoChanges() throws {
    let stack = try loadEveryKind()
    var state = StackState(stack: stack.name, environment: stack.environment, lineage: "l")
    for r in stack.resources { state.set(ResourceState(address: r.address, attributes: r.attributes, dependencies: r.dependencies)) }
    let plan = Planner.plan(stack: stack, prior: state, observed: LocalProvider.observation(of: snapshot(running: stack)))
    #expect(plan.changes.isEmpty, "\(plan.changes.map { "\($0.address): \($0.attributes.map(\.path))" })")
}

/// Saved plans carry the kinds' values and configurations; they read back as they were.
@Test func resourceSpecsRoundTripThroughJSON() throws {
    let stack = try loadEveryKind()
    for r in stack.resources {
        let back = try JSONDecoder().decode(ResourceSpec.self, from: JSONEncoder().encode(r))
        #expect(back == r, "\(r.address)")
    }
}
