import Yams

/// A real-time endpoint: named production variants that split traffic by weight
/// (SageMaker's endpoint and endpoint configuration in one).
public struct Endpoint: Sendable, Equatable, Codable {
    public var name: String
    /// In the order the stack lists them.
    public var variants: [Variant]
    /// Capture of requests and answers into the environment, in SageMaker's JSONL format.
    public var dataCapture: DataCapture?
    /// A multi-model endpoint serves every artifact under a folder instead of named variants.
    public var multiModel: MultiModel?
    public var description: String?
    public var location: SourceLocation?

    public var address: ResourceAddress { ResourceAddress(.endpoint, name) }

    public var dependencies: [ResourceAddress] {
        var models = Set(variants.map { ResourceAddress(.model, $0.model) })
        if let server = multiModel?.server { models.insert(ResourceAddress(.model, server)) }
        return Array(models).sorted()
    }

    public var totalWeight: Double { variants.reduce(0) { $0 + $1.weight } }

    public func attributes(modelHashes: [String: String]) -> Attributes {
        var a: Attributes = [:]
        for v in variants {
            let p = "variants.\(v.name)."
            a[p + "model"] = .string(v.model)
            a[p + "model_sha256"] = .string(modelHashes[v.model] ?? "")
            if let shadow = v.shadowSamplePercent {
                a[p + "shadow_sample_percent"] = .number(shadow)
            } else if let r = v.rollout {
                a.merge(r.attributes(prefix: p + "rollout.")) { $1 }
            } else {
                a[p + "weight"] = .number(v.weight)
            }
            a[p + "instances"] = .number(Double(v.instances))
        }
        if let m = multiModel {
            a["multi_model.artifacts"] = .string(m.artifacts)
            if let server = m.server {
                a["multi_model.server"] = .string(server)
                a["multi_model.server_sha256"] = .string(modelHashes[server] ?? "")
            } else {
                a["multi_model.runtime"] = .string(m.runtime.rawValue)
            }
            a["multi_model.cache_models"] = .number(Double(m.cacheModels))
            if let mb = m.cacheMemoryMB { a["multi_model.cache_memory_mb"] = .number(Double(mb)) }
            a["instances"] = .number(Double(m.instances))
        }
        if let c = dataCapture {
            a["data_capture.sample_percent"] = .number(c.samplePercent)
            a["data_capture.capture"] = .string(c.modes.map(\.rawValue).joined(separator: ","))
            a["data_capture.csv_content_types"] = .string(c.csvContentTypes.joined(separator: ","))
            a["data_capture.json_content_types"] = .string(c.jsonContentTypes.joined(separator: ","))
        }
        return a
    }

    /// Why a changed attribute costs what it costs, shown beside it in the plan.
    static func note(for path: String) -> String? {
        if path.hasSuffix(".model_sha256") || path.hasSuffix(".model") {
            return "blue/green: new instances start, traffic switches once they are healthy, old ones stop"
        }
        if path.hasSuffix(".weight") || path.hasSuffix(".shadow_sample_percent") { return "in place, no restart" }
        if path.hasSuffix(".instances") { return "adds or drains instances" }
        if path.hasPrefix("data_capture.") { return "in place, no restart" }
        if path.contains(".rollout.") { return "restarts the rollout from its first step" }
        if path.hasPrefix("multi_model.") { return "blue/green: new instances start, traffic switches once they are healthy, old ones stop" }
        if path == "instances" { return "adds or drains instances" }
        return nil
    }

    static let laterKeys: [String] = []
    static let laterVariantKeys: [String] = []

    static func read(name: String, node: Node, stackDirectory: String, files: any SpecFileSystem,
                     reader: inout NodeReader, resolve: ([String]) -> Resolution) -> Endpoint? {
        let context = "endpoint '\(name)'"
        guard let entries = reader.mapping(node, what: context) else { return nil }
        let keys = reader.checkKeys(entries, allowed: ["variants", "multi_model", "instances", "data_capture", "description"], later: laterKeys, context: context)
        let description = keys["description"].flatMap { reader.literalString($0.value, what: "'description' of \(context)") }
        if let m = keys["multi_model"] {
            if let v = keys["variants"] {
                reader.error(Diagnostic(at: v.keyLocation, "\(context) has both 'multi_model' and 'variants'",
                                        hint: "a multi-model endpoint serves every artifact of its folder; drop 'variants', or drop 'multi_model'"))
                return nil
            }
            var instances = 1
            if let i = keys["instances"] {
                guard let n = reader.integer(i.value, what: "'instances' of \(context)", resolve: resolve) else { return nil }
                guard (1...64).contains(n) else {
                    reader.error(.outOfRange("'instances' of \(context)", value: Double(n), range: "between 1 and 64", at: reader.location(i.value)))
                    return nil
                }
                instances = n
            }
            guard var multi = MultiModel.read(m.value, context: "'multi_model' of \(context)", stackDirectory: stackDirectory,
                                              reader: &reader, files: files, resolve: resolve) else { return nil }
            multi.instances = instances
            var capture: DataCapture?
            if let c = keys["data_capture"] {
                guard let parsed = DataCapture.read(c.value, context: "'data_capture' of \(context)", reader: &reader, resolve: resolve) else { return nil }
                capture = parsed
            }
            return Endpoint(name: name, variants: [], dataCapture: capture, multiModel: multi, description: description, location: reader.location(node))
        }
        if let i = keys["instances"] {
            reader.error(Diagnostic(at: i.keyLocation, "'instances' on \(context) belongs to a multi-model endpoint",
                                    hint: "set 'instances' on each variant instead"))
        }
        guard let variantsEntry = keys["variants"] else {
            reader.error(.missingKey("variants", in: context, at: reader.location(node),
                                     hint: "add 'variants: {main: {model: MODEL, weight: 1, instances: 1}}'"))
            return nil
        }
        guard let variantEntries = reader.mapping(variantsEntry.value, what: "'variants' of \(context)") else { return nil }
        if variantEntries.isEmpty {
            reader.error(Diagnostic(at: reader.location(variantsEntry.value), "\(context) has no variants",
                                    hint: "add at least one variant with a model"))
            return nil
        }
        var variants: [Variant] = []
        var failed = false
        for entry in variantEntries {
            if !isValidName(entry.key) { reader.error(.invalidName(entry.key, what: "variant", at: entry.keyLocation)) }
            if let v = Variant.read(name: entry.key, endpoint: name, node: entry.value, reader: &reader, resolve: resolve) {
                variants.append(v)
            } else {
                failed = true
            }
        }
        let production = variants.filter { $0.shadowSamplePercent == nil }
        let rollouts = variants.filter { $0.rollout != nil }
        if rollouts.count > 1 {
            reader.error(Diagnostic(at: rollouts[1].location, "\(context) rolls out more than one variant ('\(rollouts.map(\.name).joined(separator: "', '"))')",
                                    hint: "roll out one variant at a time"))
            failed = true
        }
        if !failed, rollouts.count == 1, production.count < 2 {
            reader.error(Diagnostic(at: rollouts[0].location, "variant '\(rollouts[0].name)' of \(context) rolls out, but there is no other production variant to take traffic from",
                                    hint: "keep the current variant beside the one rolling out"))
            failed = true
        }
        if !failed, production.isEmpty {
            reader.error(Diagnostic(at: reader.location(variantsEntry.value), "every variant of endpoint '\(name)' is a shadow, so no variant can answer callers",
                                    hint: "give the endpoint at least one production variant (one without 'shadow')"))
        } else if !failed, production.filter({ $0.rollout == nil }).allSatisfy({ $0.weight == 0 }) {
            reader.error(.weightsAllZero(endpoint: name, at: reader.location(variantsEntry.value)))
        }
        var capture: DataCapture?
        if let c = keys["data_capture"] {
            capture = DataCapture.read(c.value, context: "'data_capture' of \(context)", reader: &reader, resolve: resolve)
            if capture == nil { failed = true }
        }
        guard !failed else { return nil }
        return Endpoint(name: name, variants: variants, dataCapture: capture, description: description, location: reader.location(node))
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

    static func read(name: String, endpoint: String, node: Node, reader: inout NodeReader, resolve: ([String]) -> Resolution) -> Variant? {
        let context = "variant '\(name)' of endpoint '\(endpoint)'"
        guard let entries = reader.mapping(node, what: context) else { return nil }
        let keys = reader.checkKeys(entries, allowed: ["model", "weight", "instances", "shadow", "rollout"], later: Endpoint.laterVariantKeys, context: context)
        var ok = true
        var model = ""
        if let m = keys["model"] {
            if let text = reader.literalString(m.value, what: "'model' of \(context)") { model = text } else { ok = false }
        } else {
            reader.error(.missingKey("model", in: context, at: reader.location(node), hint: "add 'model: NAME' naming one of the stack's models"))
            ok = false
        }
        var weight = 1.0
        if let w = keys["weight"] {
            if let n = reader.number(w.value, what: "'weight' of \(context)", resolve: resolve) {
                if n < 0 { reader.error(.negative("'weight' of \(context)", value: n, at: reader.location(w.value))); ok = false }
                weight = n
            } else { ok = false }
        }
        var instances = 1
        if let i = keys["instances"] {
            if let n = reader.integer(i.value, what: "'instances' of \(context)", resolve: resolve) {
                if !(1...64).contains(n) {
                    reader.error(.outOfRange("'instances' of \(context)", value: Double(n), range: "between 1 and 64", at: reader.location(i.value)))
                    ok = false
                }
                instances = n
            } else { ok = false }
        }
        var shadow: Double?
        if let s = keys["shadow"] {
            if let w = keys["weight"] {
                reader.error(Diagnostic(at: w.keyLocation, "shadow variant '\(name)' of endpoint '\(endpoint)' takes no 'weight'",
                                        hint: "a shadow receives a copy of 'shadow.sample_percent' of the requests; remove 'weight'"))
                ok = false
            }
            if case .scalar = s.value, s.value.bool == true {
                shadow = 100
            } else if let entries = reader.mapping(s.value, what: "'shadow' of \(context)") {
                let sk = reader.checkKeys(entries, allowed: ["sample_percent"], context: "'shadow' of \(context)")
                shadow = 100
                if let p = sk["sample_percent"] {
                    if let n = reader.number(p.value, what: "'shadow.sample_percent' of \(context)", resolve: resolve), (0...100).contains(n) {
                        shadow = n
                    } else {
                        if let n = p.value.float, !(0...100).contains(n) {
                            reader.error(.outOfRange("'shadow.sample_percent' of \(context)", value: n, range: "between 0 and 100", at: reader.location(p.value)))
                        }
                        ok = false
                    }
                }
            } else { ok = false }
        }
        var rollout: Rollout?
        if let r = keys["rollout"] {
            if shadow != nil {
                reader.error(Diagnostic(at: r.keyLocation, "shadow variant '\(name)' of endpoint '\(endpoint)' cannot roll out", hint: "remove 'rollout' or 'shadow'"))
                ok = false
            } else if let w = keys["weight"] {
                reader.error(Diagnostic(at: w.keyLocation, "variant '\(name)' of endpoint '\(endpoint)' rolls out, so its share follows 'rollout.steps', not 'weight'",
                                        hint: "remove 'weight'"))
                ok = false
            } else if let parsed = Rollout.read(r.value, context: "'rollout' of \(context)", reader: &reader, resolve: resolve) {
                rollout = parsed
            } else {
                ok = false
            }
        }
        guard ok else { return nil }
        return Variant(name: name, model: model, weight: shadow == nil && rollout == nil ? weight : 0, instances: instances, shadowSamplePercent: shadow,
                       rollout: rollout,
                       location: reader.location(node), modelLocation: keys["model"].flatMap { reader.location($0.value) })
    }
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

    static func read(_ node: Node, context: String, reader: inout NodeReader, resolve: ([String]) -> Resolution) -> DataCapture? {
        guard let entries = reader.mapping(node, what: context) else { return nil }
        let keys = reader.checkKeys(entries, allowed: ["sample_percent", "capture", "csv_content_types", "json_content_types"], context: context)
        var capture = DataCapture(samplePercent: 100, modes: [.input, .output], csvContentTypes: ["text/csv"], jsonContentTypes: ["application/json"])
        var ok = true
        if let p = keys["sample_percent"] {
            if let n = reader.number(p.value, what: "'sample_percent' of \(context)", resolve: resolve), (0...100).contains(n) {
                capture.samplePercent = n
            } else {
                if case .scalar = p.value, let n = p.value.float, !(0...100).contains(n) {
                    reader.error(.outOfRange("'sample_percent' of \(context)", value: n, range: "between 0 and 100", at: reader.location(p.value)))
                }
                ok = false
            }
        }
        func list(_ key: String) -> [String]? {
            guard let e = keys[key] else { return nil }
            guard case .sequence(let seq) = e.value, !seq.isEmpty else {
                reader.error(.wrongType("'\(key)' of \(context)", expected: "a non-empty list", found: NodeReader.describe(e.value), at: reader.location(e.value)))
                ok = false
                return nil
            }
            return seq.compactMap { reader.literalString($0, what: "an item of '\(key)' of \(context)")?.lowercased() }
        }
        if let modes = list("capture") {
            var parsed: [Mode] = []
            for m in modes {
                if let mode = Mode(rawValue: m) { if !parsed.contains(mode) { parsed.append(mode) } } else {
                    reader.error(Diagnostic(at: reader.location(keys["capture"]!.value), "unknown capture mode '\(m)' in \(context)", hint: "use input, output or both"))
                    ok = false
                }
            }
            capture.modes = Mode.allCases.filter(parsed.contains)
        }
        if let csv = list("csv_content_types") { capture.csvContentTypes = csv }
        if let json = list("json_content_types") { capture.jsonContentTypes = json }
        return ok ? capture : nil
    }
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

    static func read(_ node: Node, context: String, stackDirectory: String, reader: inout NodeReader,
                     files: any SpecFileSystem, resolve: ([String]) -> Resolution) -> MultiModel? {
        guard let entries = reader.mapping(node, what: context) else { return nil }
        let keys = reader.checkKeys(entries, allowed: ["artifacts", "runtime", "server", "cache"], context: context)
        guard let a = keys["artifacts"], let folder = reader.literalString(a.value, what: "'artifacts' of \(context)") else {
            if keys["artifacts"] == nil {
                reader.error(.missingKey("artifacts", in: context, at: reader.location(node), hint: "add 'artifacts: path/to/models/' (a folder)"))
            }
            return nil
        }
        let resolved = PathMath.resolve(folder, against: stackDirectory)
        guard files.isDirectory(resolved) else {
            reader.error(.missingFile(folder, resolved: resolved, what: "artifact folder of \(context)", at: reader.location(a.value)))
            return nil
        }
        var runtime = Model.Runtime.linear
        var server: String?
        if let s = keys["server"] {
            if let r = keys["runtime"] {
                reader.error(Diagnostic(at: r.keyLocation, "\(context) has both 'runtime' and 'server'",
                                        hint: "use 'runtime' for the built-in multi-model server, or 'server' to name your own"))
                return nil
            }
            guard let name = reader.literalString(s.value, what: "'server' of \(context)") else { return nil }
            server = name
        }
        if let r = keys["runtime"] {
            guard let text = reader.literalString(r.value, what: "'runtime' of \(context)") else { return nil }
            guard let parsed = Model.Runtime(rawValue: text) else {
                reader.error(Diagnostic(at: reader.location(r.value), "unknown runtime '\(text)' for \(context)",
                                        hint: "use one of: \(Model.Runtime.allCases.map(\.rawValue).joined(separator: ", "))"))
                return nil
            }
            runtime = parsed
        }
        var cacheModels = 100
        var memory: Int?
        if let c = keys["cache"], let ce = reader.mapping(c.value, what: "'cache' of \(context)") {
            let ck = reader.checkKeys(ce, allowed: ["models", "memory_mb"], context: "'cache' of \(context)")
            if let m = ck["memory_mb"] {
                guard let n = reader.integer(m.value, what: "'cache.memory_mb' of \(context)", resolve: resolve), n >= 1 else { return nil }
                memory = n
            }
            if let m = ck["models"] {
                guard let n = reader.integer(m.value, what: "'cache.models' of \(context)", resolve: resolve) else { return nil }
                guard n >= 1 else {
                    reader.error(.outOfRange("'cache.models' of \(context)", value: Double(n), range: "at least 1", at: reader.location(m.value)))
                    return nil
                }
                cacheModels = n
            }
        }
        return MultiModel(artifacts: folder, artifactsPath: resolved, runtime: runtime, server: server,
                          serverLocation: keys["server"].flatMap { reader.location($0.value) }, cacheModels: cacheModels, cacheMemoryMB: memory)
    }
}

/// A progressive rollout of a variant: its share of traffic moves through `steps` (percent), held
/// for `bakeSeconds` each; the other production variants share the rest by their weights. When a
/// step's error rate or p99 model latency crosses a limit (judged once `minRequests` requests have
/// been seen in the step), the environment rolls back by itself: the variant gets no traffic and
/// the others their weights. Passing the last step completes the rollout.
public struct Rollout: Sendable, Equatable, Codable {
    public var steps: [Double]
    public var bakeSeconds: Double
    /// Errors (5xx and model errors) over requests in a step.
    public var maxErrorRate: Double?
    public var maxP99LatencyMs: Double?
    public var minRequests: Int

    public init(steps: [Double], bakeSeconds: Double, maxErrorRate: Double?, maxP99LatencyMs: Double?, minRequests: Int) {
        self.steps = steps
        self.bakeSeconds = bakeSeconds
        self.maxErrorRate = maxErrorRate
        self.maxP99LatencyMs = maxP99LatencyMs
        self.minRequests = minRequests
    }

    /// The rollout's settings as plan attributes under `prefix` (what the plan shows and what a
    /// provider reports when it observes them).
    public func attributes(prefix: String) -> Attributes {
        var a: Attributes = [prefix + "steps": .string(steps.map(formatNumber).joined(separator: ",")),
                             prefix + "bake_seconds": .number(bakeSeconds), prefix + "min_requests": .number(Double(minRequests))]
        if let e = maxErrorRate { a[prefix + "max_error_rate"] = .number(e) }
        if let l = maxP99LatencyMs { a[prefix + "max_p99_latency_ms"] = .number(l) }
        return a
    }

    static func read(_ node: Node, context: String, reader: inout NodeReader, resolve: ([String]) -> Resolution) -> Rollout? {
        guard let entries = reader.mapping(node, what: context) else { return nil }
        let keys = reader.checkKeys(entries, allowed: ["steps", "bake", "max_error_rate", "max_p99_latency", "min_requests"], context: context)
        var ok = true
        var steps: [Double] = []
        if let s = keys["steps"] {
            if case .sequence(let seq) = s.value, !seq.isEmpty {
                for item in seq {
                    if let n = reader.number(item, what: "a step of \(context)", resolve: resolve) { steps.append(n) } else { ok = false }
                }
                if ok, !(steps.allSatisfy { $0 > 0 && $0 <= 100 } && zip(steps, steps.dropFirst()).allSatisfy { $0 < $1 }) {
                    reader.error(Diagnostic(at: reader.location(s.value), "'steps' of \(context) must rise, each above 0 and at most 100",
                                            hint: "for example steps: [10, 25, 50, 100]"))
                    ok = false
                }
            } else {
                reader.error(.wrongType("'steps' of \(context)", expected: "a non-empty list of percentages", found: NodeReader.describe(s.value), at: reader.location(s.value)))
                ok = false
            }
        } else {
            reader.error(.missingKey("steps", in: context, at: reader.location(node), hint: "add 'steps: [10, 50, 100]' (percent of traffic)"))
            ok = false
        }
        var bake = 60.0
        if let b = keys["bake"] {
            if let d = reader.duration(b.value, what: "'bake' of \(context)", resolve: resolve), d >= 0 { bake = d } else { ok = false }
        }
        var maxError: Double?
        if let e = keys["max_error_rate"] {
            if let n = reader.number(e.value, what: "'max_error_rate' of \(context)", resolve: resolve), (0...1).contains(n) { maxError = n } else {
                if let n = e.value.float { reader.error(.outOfRange("'max_error_rate' of \(context)", value: n, range: "between 0 and 1", at: reader.location(e.value))) }
                ok = false
            }
        }
        var maxLatency: Double?
        if let l = keys["max_p99_latency"] {
            if let d = reader.duration(l.value, what: "'max_p99_latency' of \(context)", resolve: resolve), d > 0 { maxLatency = d * 1000 } else { ok = false }
        }
        var minRequests = 20
        if let m = keys["min_requests"] {
            if let n = reader.integer(m.value, what: "'min_requests' of \(context)", resolve: resolve), n >= 1 { minRequests = n } else { ok = false }
        }
        return ok ? Rollout(steps: steps, bakeSeconds: bake, maxErrorRate: maxError, maxP99LatencyMs: maxLatency, minRequests: minRequests) : nil
    }
}
