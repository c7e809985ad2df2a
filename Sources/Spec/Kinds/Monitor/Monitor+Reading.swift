import EnvironmentAPI
import Events
import Foundation
import Monitoring

extension Monitor {
    static let methods = DriftMethod.allCases.map(\.rawValue)
    static let types = ["Integral", "Fractional", "String"]

    static func read(_ entry: ResourceEntry, reader: inout NodeReader, in context: ReadContext) -> Monitor? {
        let what = "monitor '\(entry.name)'"
        guard let keys = reader.keys(entry.node, allowed: ["endpoint", "variant", "type", "schedule", "window", "baseline", "features", "drift",
                                                           "minimum_samples", "state", "problem_type", "ground_truth",
                                                           "probability_threshold"], context: what) else { return nil }
        var failed = false
        var endpoint = ""
        var endpointLocation: SourceLocation?
        if let e = reader.require(keys, "endpoint", hint: "name the endpoint whose captured inputs it reads: 'endpoint: fraud'") {
            if let name = reader.literalString(e.value, what: "'endpoint' of \(what)") {
                endpoint = name
                let loc = reader.location(e.value)
                endpointLocation = loc
                if !context.checkDeclared(ResourceAddress(.endpoint, name), reader: &reader, message: {
                    .unknownReference("endpoints.\(name)", suggestion: $0.map { "endpoints.\($0)" }, at: loc)
                }) { failed = true }
            } else { failed = true }
        } else { failed = true }
        var schedule = ""
        if let s = reader.require(keys, "schedule", hint: "add 'schedule: rate(1 hour)' (or a cron expression) on the environment's clock") {
            if let text = reader.literalString(s.value, what: "'schedule' of \(what)") {
                do {
                    let parsed = try ScheduleExpression.parse(text)
                    if case .at = parsed {
                        reader.error(.badSchedule(text, problem: "a monitor runs repeatedly: use rate(...) or cron(...)", of: what, at: reader.location(s.value)))
                        failed = true
                    }
                    schedule = text
                } catch {
                    reader.error(.badSchedule(text, problem: error.problem, of: what, at: EventRule.offsetLocation(s.value, error.offset, reader: reader)))
                    failed = true
                }
            } else { failed = true }
        } else { failed = true }
        var m = Monitor(name: entry.name, endpoint: endpoint, schedule: schedule, location: reader.location(entry.node))
        m.endpointLocation = endpointLocation
        if let v = keys["variant"] {
            if let text = reader.literalString(v.value, what: "'variant' of \(what)") {
                m.variant = text
                m.variantLocation = reader.location(v.value)
            } else { failed = true }
        }
        if let t = keys["type"] {
            if let text = reader.literalString(t.value, what: "'type' of \(what)") {
                switch text {
                case "data_quality", "model_quality": m.checkType = text
                case "model_bias", "model_explainability":
                    reader.error(.monitorCheckTypeNotBuilt(text, of: what, at: reader.location(t.value)))
                    failed = true
                default:
                    reader.error(.unknownCheckType(text, of: what, at: reader.location(t.value)))
                    failed = true
                }
            } else { failed = true }
        }
        let quality = m.checkType == "model_quality"
        for key in ["problem_type", "ground_truth", "probability_threshold"] where !quality {
            if let k = keys[key] {
                reader.error(.onlyForQuality(key, of: what, at: k.keyLocation))
                failed = true
            }
        }
        if quality {
            if let p = reader.require(keys, "problem_type", hint: "add 'problem_type: binary_classification' (or multiclass_classification, regression)") {
                if let text = reader.literalString(p.value, what: "'problem_type' of \(what)") {
                    if ProblemType(rawValue: text) != nil { m.problemType = text } else {
                        reader.error(.unknownProblemType(text, of: what, at: reader.location(p.value)))
                        failed = true
                    }
                } else { failed = true }
            } else { failed = true }
            if let g = reader.require(keys, "ground_truth", hint: "add 'ground_truth: FOLDER' of JSON lines in SageMaker's merge format, keyed by the captured inferenceId") {
                if let text = reader.literalString(g.value, what: "'ground_truth' of \(what)") {
                    m.groundTruthWritten = text
                    m.groundTruth = PathMath.resolve(text, against: context.stackDirectory)
                } else { failed = true }
            } else { failed = true }
            if let t = keys["probability_threshold"] {
                if let v = reader.number(t.value, what: "'probability_threshold' of \(what)", range: .closed(0, 1)) { m.probabilityThreshold = v } else { failed = true }
            }
            for key in ["features", "drift"] {
                if let k = keys[key] {
                    reader.error(.onlyForDataQuality(key, of: what, at: k.keyLocation))
                    failed = true
                }
            }
        }
        if let w = keys["window"] {
            if case .scalar(let s) = w.value, s.string == "since_last_run" {
                m.window = nil
            } else if let seconds = reader.duration(w.value, what: "'window' of \(what)", range: .seconds(60, 31 * 86_400)) {
                m.window = seconds
            } else { failed = true }
        }
        if let n = keys["minimum_samples"] {
            if let v = reader.integer(n.value, what: "'minimum_samples' of \(what)", range: 1...100_000_000) { m.minimumSamples = v } else { failed = true }
        }
        if let s = keys["state"] {
            if let text = reader.literalString(s.value, what: "'state' of \(what)") {
                switch text.lowercased() {
                case "enabled": m.enabled = true
                case "disabled": m.enabled = false
                default:
                    reader.error(.unknownRuleState(text, of: what, at: reader.location(s.value)))
                    failed = true
                }
            } else { failed = true }
        }
        if let b = reader.require(keys, "baseline", hint: quality
            ? "add 'baseline: {csv: labelled.csv, label: is_fraud, prediction: score}', or {constraints: constraints.json}"
            : "add 'baseline: training.csv' (a CSV with a header), or {statistics: statistics.json, constraints: constraints.json}") {
            if !readBaseline(b, into: &m, of: what, quality: quality, reader: &reader, context: context) { failed = true }
        } else { failed = true }
        if let d = keys["drift"] {
            if let rule = readRule(d.value, of: "'drift' of \(what)", allowType: false, reader: &reader) {
                m.method = rule.method
                m.threshold = rule.threshold
            } else { failed = true }
        }
        if let f = keys["features"], let entries = reader.mapping(f.value, what: "'features' of \(what)") {
            for e in entries {
                let fwhat = "feature '\(e.key)' of \(what)"
                guard var rule = readRule(e.value, of: fwhat, allowType: true, reader: &reader) else { failed = true; continue }
                rule.name = e.key
                rule.location = e.keyLocation
                if !m.baselineColumns.isEmpty, !m.baselineColumns.contains(e.key) {
                    reader.error(.monitorFeatureNotInBaseline(e.key, of: what, suggestion: suggestion(for: e.key, among: m.baselineColumns), at: e.keyLocation))
                    failed = true
                    continue
                }
                m.features.append(rule)
            }
        } else if keys["features"] != nil { failed = true }
        // Methods that need the baseline's rows cannot work from a statistics file.
        if m.baselineCSV == nil && m.baselineStatistics != nil {
            for (method, loc) in [(m.method, keys["drift"]?.keyLocation)] + m.features.map({ ($0.method, $0.location) }) {
                if let method, let dm = DriftMethod(rawValue: method), dm.needsSamples {
                    reader.error(.methodNeedsBaselineRows(method, of: what, at: loc))
                    failed = true
                }
            }
        }
        return failed ? nil : m
    }

    /// `baseline: FILE.csv`, `{csv: FILE}` or `{statistics: FILE, constraints: FILE}`.
    static func readBaseline(_ b: Entry, into m: inout Monitor, of what: String, quality: Bool, reader: inout NodeReader, context: ReadContext) -> Bool {
        func file(_ node: Node, _ label: String) -> (String, String)? {
            guard let path = reader.literalString(node, what: "'baseline\(label)' of \(what)") else { return nil }
            let resolved = PathMath.resolve(path, against: context.stackDirectory)
            guard let hash = context.files.sha256(ofFileAt: resolved) else {
                reader.error(.missingFile(path, resolved: resolved, what: "baseline of \(what)", at: reader.location(node)))
                return nil
            }
            m.baselineFiles.append(path)
            return (resolved, hash)
        }
        var csvNode: Node?
        var statsNode: Node?, consNode: Node?
        if case .mapping = b.value {
            guard let keys = reader.keys(b.value, allowed: quality ? ["csv", "constraints", "label", "prediction"] : ["csv", "statistics", "constraints"],
                                         context: "'baseline' of \(what)") else { return false }
            csvNode = keys["csv"]?.value
            statsNode = keys["statistics"]?.value
            consNode = keys["constraints"]?.value
            for (key, target) in [("label", \Monitor.label), ("prediction", \Monitor.prediction)] {
                if let k = keys[key] {
                    guard let text = reader.literalString(k.value, what: "'baseline.\(key)' of \(what)") else { return false }
                    m[keyPath: target] = text
                }
            }
            if csvNode != nil && (statsNode != nil || consNode != nil) {
                reader.error(.baselineBothForms(what, at: reader.location(b.value)))
                return false
            }
            if csvNode == nil && (quality ? consNode == nil : (statsNode == nil || consNode == nil)) {
                reader.error(.baselineIncomplete(what, at: reader.location(b.value)))
                return false
            }
        } else { csvNode = b.value }
        if let node = csvNode {
            guard let (path, hash) = file(node, "") else { return false }
            switch context.files.baselineColumns(at: path) {
            case .success(let columns):
                m.baselineColumns = columns
                if quality, !columns.isEmpty {
                    for column in [m.label ?? "label", m.prediction ?? "prediction"] where !columns.contains(column) {
                        reader.error(.monitorFeatureNotInBaseline(column, of: what, suggestion: suggestion(for: column, among: columns), at: reader.location(b.value)))
                        return false
                    }
                }
            case .failure(let e):
                let loc = e.line > 0 ? SourceLocation(file: e.path, line: e.line, column: e.column) : reader.location(node)
                reader.error(.badBaselineCSV(e.message, hint: e.hint, at: loc))
                return false
            }
            m.baselineCSV = path
            m.baselineDigest = hash
            return true
        }
        if quality, let c = consNode {
            guard let (cp, ch) = file(c, ".constraints") else { return false }
            m.baselineConstraints = cp
            m.baselineDigest = ch
            return true
        }
        guard let s = statsNode, let c = consNode, let (sp, sh) = file(s, ".statistics"), let (cp, ch) = file(c, ".constraints") else { return false }
        m.baselineStatistics = sp
        m.baselineConstraints = cp
        m.baselineDigest = SHA256.hex(of: sh + ch)
        return true
    }

    /// `{type?, method?, threshold?}`.
    static func readRule(_ node: Node, of what: String, allowType: Bool, reader: inout NodeReader) -> Feature? {
        guard let keys = reader.keys(node, allowed: allowType ? ["type", "method", "threshold"] : ["method", "threshold"], context: what) else { return nil }
        var f = Feature(name: "")
        var failed = false
        if let t = keys["type"] {
            if let text = reader.literalString(t.value, what: "'type' of \(what)") {
                if types.contains(text) { f.type = text } else {
                    reader.error(.unknownFeatureType(text, of: what, at: reader.location(t.value)))
                    failed = true
                }
            } else { failed = true }
        }
        if let mth = keys["method"] {
            if let text = reader.literalString(mth.value, what: "'method' of \(what)") {
                if methods.contains(text) { f.method = text } else {
                    reader.error(.unknownDriftMethod(text, of: what, suggestion: suggestion(for: text, among: methods), at: reader.location(mth.value)))
                    failed = true
                }
            } else { failed = true }
        }
        if let t = keys["threshold"] {
            // p-value thresholds are at most 1; distances (PSI can exceed 1) up to 1000.
            if let v = reader.number(t.value, what: "'threshold' of \(what)", range: .positive(atMost: 1000)) {
                if let mth = f.method, let dm = DriftMethod(rawValue: mth), dm.isPValue, v > 1 {
                    reader.error(.outOfRange("'threshold' of \(what) (a p-value)", value: v, range: .positive(atMost: 1), at: reader.location(t.value)))
                    failed = true
                } else { f.threshold = v }
            } else { failed = true }
        }
        return failed ? nil : f
    }
}
