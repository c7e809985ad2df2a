import EnvironmentAPI

/// A real-time endpoint: named production variants that split traffic by weight
/// (SageMaker's endpoint and endpoint configuration in one).
public struct Endpoint: ResourceDefinition {
    public static let kind = ResourceKind.endpoint
    public static let section = ["endpoints"]
    public static let singular = "endpoint"
    public static let referenceableAttributes = ["name", "url"]

    public var name: String
    /// In the order the stack lists them.
    public var variants: [Variant]
    /// Capture of requests and answers into the environment, in SageMaker's JSONL format.
    public var dataCapture: DataCapture?
    /// A multi-model endpoint serves every artifact under a folder instead of named variants.
    public var multiModel: MultiModel?
    public var description: String?
    public var location: SourceLocation?

    public var dependencies: [ResourceAddress] {
        var models = Set(variants.map { ResourceAddress(.model, $0.model) })
        if let server = multiModel?.server { models.insert(ResourceAddress(.model, server)) }
        return Array(models).sorted()
    }

    public var totalWeight: Double { variants.reduce(0) { $0 + $1.weight } }

    /// Variants, the multi-model settings and data capture, from the configuration an endpoint
    /// runs with: the same code for the stack's side of a plan and for what observe reports.
    public static func runningAttributes(of c: EndpointConfiguration) -> Attributes {
        var a: Attributes = [:]
        if let m = c.multiModel {
            a["instances"] = .number(Double(m.instances))
            if let server = m.server {
                a["multi_model.server"] = .string(server)
                a["multi_model.server_sha256"] = .string(m.serverSHA256 ?? "")
            } else {
                a["multi_model.runtime"] = .string(m.runtime.rawValue)
            }
            a["multi_model.cache_models"] = .number(Double(m.cacheModels))
            if let mb = m.cacheMemoryMB { a["multi_model.cache_memory_mb"] = .number(Double(mb)) }
        } else {
            for v in c.variants {
                let p = "variants.\(v.name)."
                a[p + "model"] = .string(v.model)
                a[p + "model_sha256"] = .string(v.modelSHA256)
                if let shadow = v.shadowSamplePercent {
                    a[p + "shadow_sample_percent"] = .number(shadow)
                } else if let r = v.rollout {
                    // The configured rollout, not where it stands: progress is not drift.
                    a[p + "rollout.steps"] = .string(r.steps.map(formatNumber).joined(separator: ","))
                    a[p + "rollout.bake_seconds"] = .number(r.bakeSeconds)
                    a[p + "rollout.min_requests"] = .number(Double(r.minRequests))
                    if let e = r.maxErrorRate { a[p + "rollout.max_error_rate"] = .number(e) }
                    if let l = r.maxP99LatencyMs { a[p + "rollout.max_p99_latency_ms"] = .number(l) }
                    a[p + "rollout.max_wait_seconds"] = .number(r.maxWaitSeconds)
                    a[p + "rollout.on_too_little_traffic"] = .string(r.onTooLittleTraffic.rawValue)
                } else {
                    a[p + "weight"] = .number(v.weight)
                }
                a[p + "instances"] = .number(Double(v.instances))
            }
        }
        if let d = c.dataCapture {
            a["data_capture.sample_percent"] = .number(d.samplePercent)
            a["data_capture.capture"] = .string([d.captureInput ? "input" : nil, d.captureOutput ? "output" : nil].compactMap { $0 }.joined(separator: ","))
            a["data_capture.csv_content_types"] = .string(d.csvContentTypes.joined(separator: ","))
            a["data_capture.json_content_types"] = .string(d.jsonContentTypes.joined(separator: ","))
        }
        return a
    }

    /// Every endpoint change is made in place; what it costs is in `note`.
    public static func replacementReason(changed paths: [String]) -> String? { nil }

    /// Why a changed attribute costs what it costs, shown beside it in the plan.
    /// Traffic shares that move (weights as shares of their sum), variants whose instances are
    /// replaced by a new model, and instances drained.
    public static func reviewRisks(before: Attributes?, after: Attributes?) -> [String] {
        guard let before, let after else { return [] }
        func number(_ v: AttributeValue?) -> Double? { if case .number(let n)? = v { return n } else { return nil } }
        func variants(_ a: Attributes, _ suffix: String) -> [String: Double] {
            var out: [String: Double] = [:]
            for (k, v) in a where k.hasPrefix("variants.") && k.hasSuffix(suffix) {
                let name = String(k.dropFirst("variants.".count).dropLast(suffix.count))
                if !name.contains("."), let n = number(v) { out[name] = n }
            }
            return out
        }
        var risks: [String] = []
        let w0 = variants(before, ".weight"), w1 = variants(after, ".weight")
        let s0 = w0.values.reduce(0, +), s1 = w1.values.reduce(0, +)
        func share(_ w: Double?, _ sum: Double) -> Double { sum > 0 ? (w ?? 0) / sum * 100 : 0 }
        var moves: [String] = []
        for name in Set(w0.keys).union(w1.keys).sorted() {
            let a = share(w0[name], s0), b = share(w1[name], s1)
            if abs(a - b) >= 0.05 { moves.append("\(name) \(formatShare(a)) → \(formatShare(b))") }
        }
        if !moves.isEmpty { risks.append("traffic moves: " + moves.joined(separator: ", ")) }
        for name in Set(variants(before, ".weight").keys).intersection(variants(after, ".weight").keys).sorted() {
            let m = "variants.\(name).model_sha256"
            if before[m] != nil, after[m] != nil, before[m] != after[m] || before["variants.\(name).model"] != after["variants.\(name).model"] {
                risks.append("instances replaced: variant \(name) gets a new model (blue/green)")
            }
        }
        if before.keys.contains(where: { $0.hasPrefix("multi_model.") }),
           before.filter({ $0.key.hasPrefix("multi_model.") }) != after.filter({ $0.key.hasPrefix("multi_model.") }) {
            risks.append("instances replaced: every instance, for the new multi-model settings (blue/green)")
        }
        let i0 = variants(before, ".instances"), i1 = variants(after, ".instances")
        for name in Set(i0.keys).intersection(i1.keys).sorted() where i1[name]! < i0[name]! {
            risks.append("instances drained: variant \(name) goes from \(formatNumber(i0[name]!)) to \(formatNumber(i1[name]!))")
        }
        return risks
    }

    static func formatShare(_ x: Double) -> String {
        x == x.rounded() ? "\(Int(x))%" : String(format: "%.1f%%", x)
    }

    public static func note(forChangedAttribute path: String) -> String? {
        let blueGreen = "blue/green: new instances start, traffic switches once they are healthy, old ones stop"
        if path.hasSuffix(".model_sha256") || path.hasSuffix(".model") { return blueGreen }
        if path.hasSuffix(".weight") || path.hasSuffix(".shadow_sample_percent") { return "in place, no restart" }
        if path.hasSuffix(".instances") || path == "instances" { return "adds or drains instances" }
        if path.hasPrefix("data_capture.") { return "in place, no restart" }
        if path.contains(".rollout.") { return "restarts the rollout from its first step" }
        if path.hasPrefix("multi_model.") { return blueGreen }
        return nil
    }
}

extension Endpoint: ReadableDefinition {
    func configuration(in index: ResourceIndex, local: LocalSettings) -> EndpointConfiguration {
        func hash(_ model: String) -> String { index.value(Model.self, named: model)?.contentSHA256 ?? "" }
        let variants = self.variants.map { v in
            VariantConfiguration(name: v.name, model: v.model, modelSHA256: hash(v.model), weight: v.weight, instances: v.instances,
                                 shadowSamplePercent: v.shadowSamplePercent, rollout: v.rollout?.configuration)
        }
        let capture = dataCapture.map {
            CaptureConfiguration(samplePercent: $0.samplePercent, captureInput: $0.modes.contains(.input), captureOutput: $0.modes.contains(.output),
                                 csvContentTypes: $0.csvContentTypes, jsonContentTypes: $0.jsonContentTypes)
        }
        let multi = multiModel.map {
            MultiModelConfiguration(directory: $0.artifactsPath, runtime: $0.runtime, cacheModels: $0.cacheModels,
                                    cacheMemoryMB: $0.cacheMemoryMB, instances: $0.instances, server: $0.server,
                                    serverSHA256: $0.server.map(hash))
        }
        return EndpointConfiguration(name: name, variants: variants, healthTimeout: local.healthTimeoutSeconds, dataCapture: capture, multiModel: multi)
    }

    var declaredAttributes: Attributes {
        guard let m = multiModel else { return [:] }
        return ["multi_model.artifacts": .string(m.artifacts)]
    }

    func check(in index: ResourceIndex, into diagnostics: inout Diagnostics) {
        if let m = multiModel, let server = m.server, let model = index.value(Model.self, named: server), model.command == nil {
            diagnostics.append(.multiModelServerWithoutCommand(server, endpoint: name, at: m.serverLocation))
        }
    }
}

/// A production variant: a model served by `instances` processes, receiving `weight / sum of weights`
/// of the endpoint's traffic unless a caller names it.
public struct Variant: Sendable, Equatable, Codable {
    public var name: String
    public var model: String
    public var weight: Double
    public var instances: Int
    /// Set for a shadow variant: the share of requests (percent) it receives a copy of. Its answers
    /// never reach callers; it takes no weight.
    public var shadowSamplePercent: Double?
    /// Set for a variant rolled out progressively; its share then follows the rollout's steps.
    public var rollout: Rollout?
    public var location: SourceLocation?
    public var modelLocation: SourceLocation?
}

/// What an endpoint captures, as SageMaker's DataCaptureConfig: a sampled share of invocations,
/// their input, output or both, written as JSONL records into the environment folder. Content
/// types listed as CSV or JSON are captured as text; anything else as base64.
public struct DataCapture: Sendable, Equatable, Codable {
    public enum Mode: String, Sendable, Codable, CaseIterable { case input, output }

    public var samplePercent: Double
    public var modes: [Mode]
    public var csvContentTypes: [String]
    public var jsonContentTypes: [String]
}

/// A multi-model endpoint: every artifact under a folder, picked per request by the caller's
/// `TargetModel` (a path relative to the folder), loaded on first use and evicted least recently
/// used beyond `cacheModels` per instance. As with SageMaker's S3 prefix, the folder is read live:
/// adding a model file needs no apply.
public struct MultiModel: Sendable, Equatable, Codable {
    /// The folder as written in the stack.
    public var artifacts: String
    public var artifactsPath: String
    public var runtime: Model.Runtime
    /// A bring-your-own multi-model server: a model with a `command` that speaks the multi-model
    /// container API; the environment loads models into it as callers name them.
    public var server: String?
    public var serverLocation: SourceLocation?
    public var cacheModels: Int
    /// Evict also when the loaded models' artifacts add up to more than this many megabytes.
    public var cacheMemoryMB: Int?
    public var instances: Int = 1
}

/// A progressive rollout of a variant: its share of traffic moves through `steps` (percent), held
/// for `bakeSeconds` each; the other production variants share the rest by their weights. When a
/// step's error rate or p99 model latency crosses a limit (judged once `minRequests` requests have
/// been seen in the step), the environment rolls back by itself: the variant gets no traffic and
/// the others their weights. A step advances only once its bake time is over and it has seen
/// `minRequests`; one that sees fewer waits up to `maxWaitSeconds`, then rolls back, halts or stays
/// as `onTooLittleTraffic` says. Passing the last step completes the rollout.
public struct Rollout: Sendable, Equatable, Codable {
    public var steps: [Double]
    public var bakeSeconds: Double
    /// Errors (5xx and model errors) over requests in a step.
    public var maxErrorRate: Double?
    public var maxP99LatencyMs: Double?
    /// A step is judged, and advances, only once it has seen this many requests.
    public var minRequests: Int
    /// How long a step waits for `minRequests` after its bake time, then does `onTooLittleTraffic`.
    public var maxWaitSeconds: Double = 600
    public var onTooLittleTraffic: RolloutConfiguration.TooLittleTraffic = .rollBack

    public init(steps: [Double], bakeSeconds: Double, maxErrorRate: Double?, maxP99LatencyMs: Double?, minRequests: Int) {
        self.steps = steps
        self.bakeSeconds = bakeSeconds
        self.maxErrorRate = maxErrorRate
        self.maxP99LatencyMs = maxP99LatencyMs
        self.minRequests = minRequests
    }

    var configuration: RolloutConfiguration {
        RolloutConfiguration(steps: steps, bakeSeconds: bakeSeconds, maxErrorRate: maxErrorRate, maxP99LatencyMs: maxP99LatencyMs, minRequests: minRequests,
                             maxWaitSeconds: maxWaitSeconds, onTooLittleTraffic: onTooLittleTraffic)
    }
}

extension ResourceSpec {
    public var endpoint: Endpoint? { value(as: Endpoint.self) }
}
