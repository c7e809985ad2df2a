import Events
import Foundation

/// One entry of `constraint_violations.json`.
public struct Violation: Sendable, Codable, Equatable {
    public var feature_name: String
    public var constraint_check_type: String
    public var description: String
    /// A model-quality violation names its metric instead of a feature.
    public var metric_name: String?

    public init(_ feature: String, _ check: String, _ description: String) {
        feature_name = feature
        constraint_check_type = check
        self.description = description
    }

    public init(metric: String, check: String, description: String) {
        feature_name = ""
        metric_name = metric
        constraint_check_type = check
        self.description = description
    }
}

/// A feature's own method and threshold (nil: the monitor's default, then the method's).
public struct FeatureRule: Sendable, Codable, Equatable {
    public var method: DriftMethod?
    public var threshold: Double?
    public init(method: DriftMethod? = nil, threshold: Double? = nil) {
        self.method = method
        self.threshold = threshold
    }
}

/// Everything a data-quality run concludes from a baseline and a window.
public struct Evaluation: Sendable {
    public var statistics: JSONValue
    public var violations: [Violation]
    public var drift: [DriftResult]
    public var rows: Int

    /// The checks of Model Monitor's analyzer (data type, completeness, baseline drift, missing
    /// and extra columns, categorical values) and each feature's drift.
    public static func evaluate(baseline: Baseline, window: Dataset, rules: [String: FeatureRule], defaultRule: FeatureRule) -> Evaluation {
        var profiles = [FeatureProfile?](repeating: nil, count: window.columns.count)
        profiles.withUnsafeMutableBufferPointer { out in
            Parallel.forEach(window.columns.count) { i in out[i] = FeatureProfile(window.columns[i]) }
        }
        let ps = profiles.map { $0! }
        var results = [DriftResult?](repeating: nil, count: ps.count)
        results.withUnsafeMutableBufferPointer { out in
            Parallel.forEach(ps.count) { i in
                let b = baseline.features[i]
                let rule = rules[b.name] ?? FeatureRule()
                let method = rule.method ?? defaultRule.method ?? Drift.defaultMethod(b, window: ps[i])
                let threshold = rule.threshold ?? (rule.method == nil ? defaultRule.threshold : nil)
                    ?? (method == .lInfinity ? (b.type.isNumeric ? baseline.comparisonThreshold : baseline.categoricalThreshold) : method.defaultThreshold)
                out[i] = Drift.compare(b, window: ps[i], method: method, threshold: threshold)
            }
        }
        var violations: [Violation] = []
        func percent(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
        for (i, p) in ps.enumerated() {
            let b = baseline.features[i]
            if b.type.isNumeric, p.present > 0 {
                let match = Double(p.present - p.wrongType) / Double(p.present)
                if match < baseline.datatypeThreshold {
                    violations.append(Violation(b.name, "data_type_check",
                        "Data type match requirement is not met. Expected data type: \(b.type.rawValue), Expected match: \(percent(baseline.datatypeThreshold)). Observed: Only \(percent(match)) of data is \(b.type.rawValue)."))
                }
            }
            if p.present + p.missing > 0, p.completeness < b.completeness - 1e-12 {
                violations.append(Violation(b.name, "completeness_check",
                    "Data completeness requirement is not met. Expected: \(percent(b.completeness)), Observed: Only \(percent(p.completeness)) of data is present."))
            }
            if let domain = b.domain, !b.type.isNumeric, p.present > 0 {
                let inDomain = p.categories.reduce(0) { $0 + (domain.contains($1.key) ? $1.value : 0) }
                let match = Double(inDomain) / Double(p.present)
                if match < baseline.domainThreshold {
                    let unknown = p.categories.keys.filter { !domain.contains($0) }.sorted().prefix(5).map { "'\($0)'" }.joined(separator: ", ")
                    violations.append(Violation(b.name, "categorical_values_check",
                        "Categorical values match requirement is not met. Expected match: \(percent(baseline.domainThreshold)). Observed: Only \(percent(match)) of data is in the baseline's domain (not in it: \(unknown))."))
                }
            }
            if let r = results[i], r.drifted {
                let text = r.method.isPValue
                    ? "Baseline drift: the \(r.method == .ks ? "Kolmogorov-Smirnov" : "chi-square") p-value \(fmt(r.statistic)) is below the threshold \(fmt(r.threshold))."
                    : "Baseline drift distance: \(fmt(r.statistic)) exceeds threshold: \(fmt(r.threshold)) (\(r.method.rawValue))."
                violations.append(Violation(b.name, "baseline_drift_check", text))
            }
        }
        let width = baseline.features.count
        if window.shortRows > 0 {
            violations.append(Violation("", "missing_column_check",
                "There are missing columns in current dataset: \(window.shortRows) of \(window.rows + window.shortRows + window.longRows) rows have fewer than the \(width) columns of the baseline constraints; those rows were left out."))
        }
        if window.longRows > 0 {
            violations.append(Violation("", "extra_column_check",
                "There are extra columns in current dataset: \(window.longRows) of \(window.rows + window.shortRows + window.longRows) rows have more than the \(width) columns of the baseline constraints; those rows were left out."))
        }
        return Evaluation(statistics: Profiles.statistics(ps, itemCount: window.rows), violations: violations, drift: results.compactMap { $0 }, rows: window.rows)
    }

    public static func fmt(_ x: Double) -> String { x == 0 ? "0" : abs(x) < 1e-4 ? String(format: "%.3e", x) : String(format: "%.4g", x) }

    public static func violationsJSON(_ violations: [Violation]) -> JSONValue {
        .object([.init("violations", .array(violations.map {
            .object([$0.metric_name.map { .init("metric_name", .string($0)) } ?? .init("feature_name", .string($0.feature_name)),
                     .init("constraint_check_type", .string($0.constraint_check_type)), .init("description", .string($0.description))])
        }))])
    }
}
