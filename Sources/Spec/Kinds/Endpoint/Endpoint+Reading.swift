import EnvironmentAPI

extension Endpoint {
    /// The most instances one variant (or a multi-model endpoint) may run on this machine.
    static let maxInstances = 64

    static func read(_ entry: ResourceEntry, reader: inout NodeReader, in context: ReadContext) -> Endpoint? {
        let what = "endpoint '\(entry.name)'"
        guard let keys = reader.keys(entry.node, allowed: ["variants", "multi_model", "instances", "data_capture", "description"], context: what) else { return nil }
        var endpoint = Endpoint(name: entry.name, variants: [], location: reader.location(entry.node))
        var failed = false
        if let d = keys["description"] {
            if let text = reader.literalString(d.value, what: "'description' of \(what)") { endpoint.description = text } else { failed = true }
        }
        if let c = keys["data_capture"] {
            if let capture = DataCapture.read(c.value, context: "'data_capture' of \(what)", reader: &reader) { endpoint.dataCapture = capture } else { failed = true }
        }
        if let m = keys["multi_model"] {
            if let v = keys["variants"] {
                reader.error(.multiModelWithVariants(what, at: v.keyLocation))
                failed = true
            }
            var instances = 1
            if let i = keys["instances"] {
                if let n = reader.integer(i.value, what: "'instances' of \(what)", range: 1...maxInstances) { instances = n } else { failed = true }
            }
            if var multi = MultiModel.read(m.value, context: "'multi_model' of \(what)", reader: &reader, in: context) {
                multi.instances = instances
                endpoint.multiModel = multi
            } else { failed = true }
            return failed ? nil : endpoint
        }
        if let i = keys["instances"] {
            reader.error(.instancesOnEndpoint(what, at: i.keyLocation))
            failed = true
        }
        guard let variantsEntry = reader.require(keys, "variants", hint: "add 'variants: {main: {model: MODEL, weight: 1, instances: 1}}'") else { return nil }
        guard let variantEntries = reader.mapping(variantsEntry.value, what: "'variants' of \(what)") else { return nil }
        guard !variantEntries.isEmpty else {
            reader.error(.noVariants(what, at: reader.location(variantsEntry.value)))
            return nil
        }
        var variantsFailed = false
        for v in variantEntries {
            if !isValidName(v.key) {
                reader.error(.invalidName(v.key, what: "variant", at: v.keyLocation))
                variantsFailed = true
            }
            if let variant = Variant.read(name: v.key, endpoint: entry.name, node: v.value, reader: &reader, in: context) {
                endpoint.variants.append(variant)
            } else { variantsFailed = true }
        }
        // Checks across variants only make sense once each variant reads.
        if !variantsFailed {
            let production = endpoint.variants.filter { $0.shadowSamplePercent == nil }
            let rollouts = endpoint.variants.filter { $0.rollout != nil }
            if rollouts.count > 1 {
                reader.error(.severalRollouts(what, names: rollouts.map(\.name), at: rollouts[1].location))
                variantsFailed = true
            } else if rollouts.count == 1, production.count < 2 {
                reader.error(.rolloutAlone(rollouts[0].name, endpoint: what, at: rollouts[0].location))
                variantsFailed = true
            } else if production.isEmpty {
                reader.error(.onlyShadows(endpoint: entry.name, at: reader.location(variantsEntry.value)))
                variantsFailed = true
            } else if production.filter({ $0.rollout == nil }).allSatisfy({ $0.weight == 0 }) {
                reader.error(.weightsAllZero(endpoint: entry.name, at: reader.location(variantsEntry.value)))
                variantsFailed = true
            }
        }
        return failed || variantsFailed ? nil : endpoint
    }
}

extension Variant {
    /// The largest weight a variant may have; shares are weight / sum of weights.
    static let maxWeight = 1_000_000.0

    static func read(name: String, endpoint: String, node: Node, reader: inout NodeReader, in context: ReadContext) -> Variant? {
        let what = "variant '\(name)' of endpoint '\(endpoint)'"
        guard let keys = reader.keys(node, allowed: ["model", "weight", "instances", "shadow", "rollout"], context: what) else { return nil }
        var variant = Variant(name: name, model: "", weight: 1, instances: 1, location: reader.location(node))
        var failed = false
        if let m = reader.require(keys, "model", hint: "add 'model: NAME' naming one of the stack's models") {
            variant.modelLocation = reader.location(m.value)
            if let text = reader.literalString(m.value, what: "'model' of \(what)") {
                variant.model = text
                let declared = context.checkDeclared(ResourceAddress(.model, text), reader: &reader) {
                    .unknownModel(text, variant: name, endpoint: endpoint, suggestion: $0, at: variant.modelLocation)
                }
                if !declared { failed = true }
            } else { failed = true }
        } else { failed = true }
        if let w = keys["weight"] {
            if let n = reader.number(w.value, what: "'weight' of \(what)", range: .closed(0, maxWeight)) { variant.weight = n } else { failed = true }
        }
        if let i = keys["instances"] {
            if let n = reader.integer(i.value, what: "'instances' of \(what)", range: 1...Endpoint.maxInstances) { variant.instances = n } else { failed = true }
        }
        if let s = keys["shadow"] {
            if let w = keys["weight"] {
                reader.error(.shadowWithWeight(name, endpoint: endpoint, at: w.keyLocation))
                failed = true
            }
            if case .scalar = s.value, s.value.bool == true {
                variant.shadowSamplePercent = 100
            } else if case .mapping = s.value, let sk = reader.keys(s.value, allowed: ["sample_percent"], context: "'shadow' of \(what)") {
                variant.shadowSamplePercent = 100
                if let p = sk["sample_percent"] {
                    if let n = reader.number(p.value, what: "'shadow.sample_percent' of \(what)", range: .closed(0, 100)) {
                        variant.shadowSamplePercent = n
                    } else { failed = true }
                }
            } else {
                if case .mapping = s.value {} else {
                    reader.error(.wrongType("'shadow' of \(what)", expected: "true or a mapping such as {sample_percent: 10}",
                                            found: NodeReader.describe(s.value), at: reader.location(s.value)))
                }
                failed = true
            }
        }
        if let r = keys["rollout"] {
            if keys.has("shadow") {
                reader.error(.shadowRollout(name, endpoint: endpoint, at: r.keyLocation))
                failed = true
            } else if let w = keys["weight"] {
                reader.error(.rolloutWithWeight(name, endpoint: endpoint, at: w.keyLocation))
                failed = true
            }
            if let rollout = Rollout.read(r.value, context: "'rollout' of \(what)", reader: &reader) { variant.rollout = rollout } else { failed = true }
        }
        if variant.shadowSamplePercent != nil || variant.rollout != nil { variant.weight = 0 }
        return failed ? nil : variant
    }
}

extension DataCapture {
    static func read(_ node: Node, context: String, reader: inout NodeReader) -> DataCapture? {
        guard let keys = reader.keys(node, allowed: ["sample_percent", "capture", "csv_content_types", "json_content_types"], context: context) else { return nil }
        var capture = DataCapture(samplePercent: 100, modes: [.input, .output], csvContentTypes: ["text/csv"], jsonContentTypes: ["application/json"])
        var failed = false
        if let p = keys["sample_percent"] {
            if let n = reader.number(p.value, what: "'sample_percent' of \(context)", range: .closed(0, 100)) { capture.samplePercent = n } else { failed = true }
        }
        func list(_ key: String) -> [String]? {
            guard let e = keys[key] else { return nil }
            guard case .sequence(let seq) = e.value, !seq.isEmpty else {
                reader.error(.wrongType("'\(key)' of \(context)", expected: "a non-empty list", found: NodeReader.describe(e.value), at: reader.location(e.value)))
                failed = true
                return nil
            }
            var out: [String] = []
            for item in seq {
                if let s = reader.literalString(item, what: "an item of '\(key)' of \(context)") { out.append(s.lowercased()) } else { failed = true }
            }
            return out
        }
        if let modes = list("capture") {
            var parsed: [Mode] = []
            for m in modes {
                if let mode = Mode(rawValue: m) {
                    if !parsed.contains(mode) { parsed.append(mode) }
                } else {
                    reader.error(.unknownCaptureMode(m, context: context, at: keys["capture"].flatMap { reader.location($0.value) }))
                    failed = true
                }
            }
            capture.modes = Mode.allCases.filter(parsed.contains)
        }
        if let csv = list("csv_content_types") { capture.csvContentTypes = csv }
        if let json = list("json_content_types") { capture.jsonContentTypes = json }
        return failed ? nil : capture
    }
}

extension MultiModel {
    static func read(_ node: Node, context: String, reader: inout NodeReader, in ctx: ReadContext) -> MultiModel? {
        guard let keys = reader.keys(node, allowed: ["artifacts", "runtime", "server", "cache"], context: context) else { return nil }
        var failed = false
        var multi = MultiModel(artifacts: "", artifactsPath: "", runtime: .linear, cacheModels: 100)
        if let a = reader.require(keys, "artifacts", hint: "add 'artifacts: path/to/models/' (a folder)") {
            if let folder = reader.literalString(a.value, what: "'artifacts' of \(context)") {
                let resolved = PathMath.resolve(folder, against: ctx.stackDirectory)
                if ctx.files.isDirectory(resolved) {
                    (multi.artifacts, multi.artifactsPath) = (folder, resolved)
                } else {
                    reader.error(.missingFile(folder, resolved: resolved, what: "artifact folder of \(context)", at: reader.location(a.value)))
                    failed = true
                }
            } else { failed = true }
        } else { failed = true }
        if let s = keys["server"] {
            if let r = keys["runtime"] {
                reader.error(.runtimeAndServer(context, at: r.keyLocation))
                failed = true
            }
            multi.serverLocation = reader.location(s.value)
            if let name = reader.literalString(s.value, what: "'server' of \(context)") {
                multi.server = name
                let declared = ctx.checkDeclared(ResourceAddress(.model, name), reader: &reader) {
                    .unknownMultiModelServer(name, context: context, suggestion: $0, at: multi.serverLocation)
                }
                if !declared { failed = true }
            } else { failed = true }
        }
        if let r = keys["runtime"] {
            if let text = reader.literalString(r.value, what: "'runtime' of \(context)") {
                if let runtime = Model.Runtime(rawValue: text) { multi.runtime = runtime } else {
                    reader.error(.unknownRuntime(text, of: context, suggestion: suggestion(for: text, among: Model.Runtime.allCases.map(\.rawValue)),
                                                 at: reader.location(r.value)))
                    failed = true
                }
            } else { failed = true }
        }
        if let c = keys["cache"] {
            if let ck = reader.keys(c.value, allowed: ["models", "memory_mb"], context: "'cache' of \(context)") {
                if let m = ck["memory_mb"] {
                    if let n = reader.integer(m.value, what: "'cache.memory_mb' of \(context)", range: 1...1_048_576) { multi.cacheMemoryMB = n } else { failed = true }
                }
                if let m = ck["models"] {
                    if let n = reader.integer(m.value, what: "'cache.models' of \(context)", range: 1...100_000) { multi.cacheModels = n } else { failed = true }
                }
            } else { failed = true }
        }
        return failed ? nil : multi
    }
}

extension Rollout {
    static func read(_ node: Node, context: String, reader: inout NodeReader) -> Rollout? {
        guard let keys = reader.keys(node, allowed: ["steps", "bake", "max_error_rate", "max_p99_latency", "min_requests", "max_wait", "on_too_little_traffic"],
                                     context: context) else { return nil }
        var rollout = Rollout(steps: [], bakeSeconds: 60, maxErrorRate: nil, maxP99LatencyMs: nil, minRequests: 20)
        var failed = false
        if let s = reader.require(keys, "steps", hint: "add 'steps: [10, 50, 100]' (percent of traffic)") {
            if case .sequence(let seq) = s.value, !seq.isEmpty {
                var stepsFailed = false
                for item in seq {
                    if let n = reader.number(item, what: "a step of \(context)", range: .positive(atMost: 100)) { rollout.steps.append(n) } else { stepsFailed = true }
                }
                if !stepsFailed, !zip(rollout.steps, rollout.steps.dropFirst()).allSatisfy({ $0 < $1 }) {
                    reader.error(.stepsMustRise(context, at: reader.location(s.value)))
                    stepsFailed = true
                }
                if stepsFailed { failed = true }
            } else {
                reader.error(.wrongType("'steps' of \(context)", expected: "a non-empty list of percentages", found: NodeReader.describe(s.value), at: reader.location(s.value)))
                failed = true
            }
        } else { failed = true }
        if let b = keys["bake"] {
            if let d = reader.duration(b.value, what: "'bake' of \(context)", range: .seconds(0, 86_400)) { rollout.bakeSeconds = d } else { failed = true }
        }
        if let e = keys["max_error_rate"] {
            if let n = reader.number(e.value, what: "'max_error_rate' of \(context)", range: .closed(0, 1)) { rollout.maxErrorRate = n } else { failed = true }
        }
        if let l = keys["max_p99_latency"] {
            if let d = reader.duration(l.value, what: "'max_p99_latency' of \(context)", range: .positiveSeconds(atMost: 600)) { rollout.maxP99LatencyMs = d * 1000 } else { failed = true }
        }
        if let m = keys["min_requests"] {
            if let n = reader.integer(m.value, what: "'min_requests' of \(context)", range: 1...1_000_000) { rollout.minRequests = n } else { failed = true }
        }
        if let w = keys["max_wait"] {
            if let d = reader.duration(w.value, what: "'max_wait' of \(context)", range: .seconds(0, 86_400)) { rollout.maxWaitSeconds = d } else { failed = true }
        }
        if let o = keys["on_too_little_traffic"] {
            if let text = reader.literalString(o.value, what: "'on_too_little_traffic' of \(context)") {
                if let policy = RolloutConfiguration.TooLittleTraffic(rawValue: text) { rollout.onTooLittleTraffic = policy } else {
                    reader.error(.unknownTrafficPolicy(text, of: context,
                                                       suggestion: suggestion(for: text, among: RolloutConfiguration.TooLittleTraffic.allCases.map(\.rawValue)),
                                                       at: reader.location(o.value)))
                    failed = true
                }
            } else { failed = true }
        }
        return failed ? nil : rollout
    }
}
