import Events
import Foundation

/// A monitor's yardstick: per feature its type, its constraints and what the window is compared
/// with; and the monitoring config's thresholds.
public struct Baseline: Sendable {
    public var features: [BaselineFeature]
    public var itemCount: Int
    /// Whether the baseline came from rows (a training CSV), so KS, Wasserstein and chi-square apply.
    public var hasSamples: Bool
    public var datatypeThreshold = 1.0
    public var domainThreshold = 1.0
    public var comparisonThreshold = 0.1
    public var categoricalThreshold = 0.1

    public init(features: [BaselineFeature], itemCount: Int, hasSamples: Bool) {
        self.features = features
        self.itemCount = itemCount
        self.hasSamples = hasSamples
    }

    /// The columns a window is read into: the baseline's features, in order.
    public var template: [Column] { features.map { Column(name: $0.name, type: $0.type) } }

    /// From a training CSV: every feature's profile, its suggested constraints, and the files.
    public static func fromCSV(path: String, types: [String: InferredType] = [:]) throws(BaselineError) -> (Baseline, statistics: JSONValue, constraints: JSONValue) {
        let dataset = try BaselineCSV.read(path: path, types: types)
        guard dataset.rows > 0 else {
            throw BaselineError(path: path, line: 2, column: 1, message: "the baseline has a header but no rows", hint: "add the training examples under the header")
        }
        var profiles = [FeatureProfile?](repeating: nil, count: dataset.columns.count)
        profiles.withUnsafeMutableBufferPointer { out in
            Parallel.forEach(dataset.columns.count) { i in out[i] = FeatureProfile(dataset.columns[i]) }
        }
        let ps = profiles.map { $0! }
        let features = ps.map { p in
            BaselineFeature(name: p.name, type: p.type, completeness: p.completeness,
                            domain: !p.type.isNumeric && p.categories.count <= Profiles.maxCategoricalBuckets ? Set(p.categories.keys) : nil, profile: p)
        }
        let baseline = Baseline(features: features, itemCount: dataset.rows, hasSamples: true)
        return (baseline, Profiles.statistics(ps, itemCount: dataset.rows), Profiles.constraints(ps, comparisonThreshold: 0.1))
    }

    /// From a statistics file and a constraints file as Model Monitor writes them.
    public static func fromFiles(statistics: String, constraints: String) throws(BaselineError) -> Baseline {
        func load(_ path: String) throws(BaselineError) -> JSONValue {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw BaselineError(path: path, line: 0, column: 0, message: "cannot read the file", hint: "check that it exists")
            }
            do { return try JSONParser.parse(String(decoding: data, as: UTF8.self)) } catch {
                throw BaselineError(path: path, line: 0, column: 0, message: "not JSON: \(error.message) at byte \(error.offset)", hint: "")
            }
        }
        let stats = try load(statistics), cons = try load(constraints)
        guard case .array(let items)? = stats["features"] else {
            throw BaselineError(path: statistics, line: 0, column: 0, message: "no 'features' list", hint: "a statistics.json as Model Monitor writes it")
        }
        var byName: [String: JSONValue] = [:]
        if case .array(let cs)? = cons["features"] { for c in cs { if let n = c["name"]?.stringValue { byName[n] = c } } }
        func number(_ v: JSONValue?) -> Double? { if case .number(let d, _)? = v { return d } else { return nil } }
        var features: [BaselineFeature] = []
        for item in items {
            guard let name = item["name"]?.stringValue, let t = item["inferred_type"]?.stringValue, let type = InferredType(rawValue: t) else {
                throw BaselineError(path: statistics, line: 0, column: 0, message: "a feature without 'name' or a known 'inferred_type'", hint: "Integral, Fractional or String")
            }
            let c = byName[name]
            var domain: Set<String>?
            if case .array(let d)? = c?["string_constraints"]?["domains"] { domain = Set(d.compactMap(\.stringValue)) }
            var f = BaselineFeature(name: name, type: type, completeness: number(c?["completeness"]) ?? 1, domain: domain, profile: nil)
            if type.isNumeric, case .array(let bs)? = item["numerical_statistics"]?["distribution"]?["kll"]?["buckets"] {
                f.buckets = bs.compactMap { b in
                    guard let lo = number(b["lower_bound"]), let hi = number(b["upper_bound"]), let n = number(b["count"]) else { return nil }
                    return (lo, hi, n)
                }
            }
            if !type.isNumeric, case .array(let bs)? = item["string_statistics"]?["distribution"]?["categorical"]?["buckets"] {
                for b in bs { if let v = b["value"]?.stringValue, let n = number(b["count"]) { f.categories[v] = Int(n) } }
            }
            features.append(f)
        }
        var b = Baseline(features: features, itemCount: Int(number(stats["dataset"]?["item_count"]) ?? 0), hasSamples: false)
        let mc = cons["monitoring_config"]
        if let v = number(mc?["datatype_check_threshold"]) { b.datatypeThreshold = v }
        if let v = number(mc?["domain_content_threshold"]) { b.domainThreshold = v }
        if let v = number(mc?["distribution_constraints"]?["comparison_threshold"]) { b.comparisonThreshold = v }
        if let v = number(mc?["distribution_constraints"]?["categorical_comparison_threshold"]) { b.categoricalThreshold = v }
        return b
    }
}
