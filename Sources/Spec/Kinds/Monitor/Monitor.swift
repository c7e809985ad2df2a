import EnvironmentAPI
import Events

/// A monitor (SageMaker Model Monitor's data-quality schedule): on a schedule of the
/// environment's clock, the endpoint's captured inputs in a window are compared with a baseline
/// (a training CSV profiled at apply, or given statistics and constraints files), feature by
/// feature; each run writes SageMaker's files and a report, updates metrics and emits an event.
public struct Monitor: ResourceDefinition {
    public static let kind = ResourceKind.monitor
    public static let section = ["monitors"]
    public static let singular = "monitor"
    public static let referenceableAttributes = ["name", "arn"]

    public struct Feature: Sendable, Equatable, Codable {
        public var name: String
        public var type: String?
        public var method: String?
        public var threshold: Double?
        public var location: SourceLocation?
    }

    public var name: String
    public var endpoint: String
    public var variant: String?
    public var checkType = "data_quality"
    public var schedule: String
    /// Seconds; nil: since the last run.
    public var window: Double?
    /// As written in the stack, and resolved.
    public var baselineCSV: String?
    public var baselineStatistics: String?
    public var baselineConstraints: String?
    public var baselineFiles: [String] = []
    public var baselineDigest = ""
    /// The baseline CSV's header, when there is one (validate checked it).
    public var baselineColumns: [String] = []
    public var features: [Feature] = []
    public var method: String?
    public var threshold: Double?
    public var minimumSamples = 1
    public var enabled = true
    /// Model quality.
    public var problemType: String?
    public var groundTruth: String?
    public var groundTruthWritten: String?
    public var label: String?
    public var prediction: String?
    public var probabilityThreshold: Double?
    public var location: SourceLocation?
    var endpointLocation: SourceLocation?
    var variantLocation: SourceLocation?

    public var dependencies: [ResourceAddress] { [ResourceAddress(.endpoint, endpoint)] }

    public static func runningAttributes(of c: MonitorConfiguration) -> Attributes {
        var a: Attributes = [:]
        a["endpoint"] = .string(c.endpoint)
        if let v = c.variant { a["variant"] = .string(v) }
        a["type"] = .string(c.checkType)
        a["schedule"] = .string(c.schedule)
        a["window"] = c.window.map { .number($0) } ?? .string("since_last_run")
        a["baseline.sha256"] = .string(c.baselineDigest)
        for f in c.features {
            if let t = f.type { a["features.\(f.name).type"] = .string(t) }
            if let m = f.method { a["features.\(f.name).method"] = .string(m) }
            if let t = f.threshold { a["features.\(f.name).threshold"] = .number(t) }
        }
        if let m = c.method { a["drift.method"] = .string(m) }
        if let t = c.threshold { a["drift.threshold"] = .number(t) }
        a["minimum_samples"] = .number(Double(c.minimumSamples))
        if let p = c.problemType { a["problem_type"] = .string(p) }
        if let l = c.label { a["baseline.label"] = .string(l) }
        if let p = c.prediction { a["baseline.prediction"] = .string(p) }
        if let t = c.probabilityThreshold { a["probability_threshold"] = .number(t) }
        a["state"] = .string(c.enabled ? "enabled" : "disabled")
        return a
    }

    /// Another endpoint (or variant, or check type) is another monitoring schedule; its past
    /// runs stay in the environment's data folder and log.
    static let replacingPaths: Set<String> = ["endpoint", "variant", "type", "problem_type"]

    public static func replacementReason(changed paths: [String]) -> String? {
        let hit = paths.filter { replacingPaths.contains($0) }.sorted()
        guard !hit.isEmpty else { return nil }
        return "a monitor reads one endpoint's capture: changing \(hit.joined(separator: ", ")) makes a new monitor (past runs stay in data/monitors)"
    }

    public static func note(forChangedAttribute path: String) -> String? {
        switch path {
        case "baseline.sha256", "baseline": return "in place; the baseline is computed again at apply"
        case "schedule": return "in place; the next run is computed from the new schedule"
        default: return path.hasSuffix(".threshold") || path.hasSuffix(".method") ? "in place; the next run compares with it" : nil
        }
    }
}

extension Monitor: ReadableDefinition {
    func configuration(in index: ResourceIndex, local: LocalSettings) -> MonitorConfiguration {
        MonitorConfiguration(name: name, endpoint: endpoint, variant: variant, checkType: checkType, schedule: schedule, window: window,
                             baselineCSV: baselineCSV, baselineStatistics: baselineStatistics, baselineConstraints: baselineConstraints,
                             baselineDigest: baselineDigest,
                             features: features.map { .init(name: $0.name, type: $0.type, method: $0.method, threshold: $0.threshold) },
                             method: method, threshold: threshold, minimumSamples: minimumSamples, enabled: enabled, problemType: problemType,
                             groundTruth: groundTruth, label: label, prediction: prediction, probabilityThreshold: probabilityThreshold)
    }

    var declaredAttributes: Attributes {
        var a: Attributes = ["baseline": .string(baselineFiles.joined(separator: ", "))]
        if let g = groundTruthWritten { a["ground_truth"] = .string(g) }
        return a
    }

    func check(in index: ResourceIndex, into diagnostics: inout Diagnostics) {
        guard let e = index.value(Endpoint.self, named: endpoint) else { return }
        let needed: DataCapture.Mode = checkType == "model_quality" ? .output : .input
        guard let capture = e.dataCapture, capture.modes.contains(needed) else {
            diagnostics.append(.monitorWithoutCapture(name, endpoint: endpoint, mode: needed.rawValue, at: endpointLocation))
            return
        }
        if let v = variant, !e.variants.contains(where: { $0.name == v }) {
            diagnostics.append(.monitorUnknownVariant(v, monitor: name, endpoint: endpoint,
                                                      suggestion: suggestion(for: v, among: e.variants.map(\.name)), at: variantLocation))
        }
    }
}

extension ResourceSpec {
    public var monitor: Monitor? { value(as: Monitor.self) }
}
