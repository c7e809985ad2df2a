import Events
import Foundation

/// What a run (or a baseline) knows about one feature: the counts and moments of
/// `statistics.json`, the sorted numbers (for KS and Wasserstein) and the category counts.
public struct FeatureProfile: Sendable {
    public var name: String
    public var type: InferredType
    public var present: Int
    public var missing: Int
    public var wrongType: Int
    /// Ascending (numeric features).
    public var sorted: [Double]
    public var categories: [String: Int]
    public var sum = 0.0
    public var mean = 0.0
    /// Population standard deviation, as Deequ computes it.
    public var std = 0.0
    public var min = 0.0
    public var max = 0.0

    public init(_ column: Column) {
        name = column.name
        type = column.type
        present = column.present
        missing = column.missing
        wrongType = column.wrongType
        categories = column.categories
        sorted = column.numbers.sorted()
        if !sorted.isEmpty {
            // Two passes: the mean first, then squared deviations (stable for large offsets).
            var s = 0.0
            for x in sorted { s += x }
            sum = s
            mean = s / Double(sorted.count)
            var sq = 0.0
            for x in sorted { sq += (x - mean) * (x - mean) }
            std = (sq / Double(sorted.count)).squareRoot()
            min = sorted[0]
            max = sorted[sorted.count - 1]
        }
    }

    /// The share of rows with a value.
    public var completeness: Double {
        let total = present + missing
        return total == 0 ? 0 : Double(present) / Double(total)
    }

    /// Distinct values (numeric features: among the sorted numbers).
    public var distinctCount: Int {
        if !type.isNumeric { return categories.count }
        var n = 0
        var last: Double?
        for x in sorted where x != last {
            n += 1
            last = x
        }
        return n
    }

    /// Ten equal-width buckets from min to max, as the analyzer's KLL distribution shows them
    /// (counts sum to the numbers present).
    public var buckets: [(lower: Double, upper: Double, count: Double)] {
        guard !sorted.isEmpty else { return [] }
        let edges = Profiles.bucketEdges(min: min, max: max)
        let counts = Distances.histogram(sorted, edges: edges)
        return (0..<10).map { (edges[$0], edges[$0 + 1], counts[$0]) }
    }
}

public enum Profiles {
    /// The analyzer's ten buckets between min and max (one zero-width bucket set when all are equal).
    public static func bucketEdges(min: Double, max: Double) -> [Double] {
        if min == max { return [Double](repeating: min, count: 10) + [max] }
        let step = (max - min) / 10
        var edges = (0...10).map { min + Double($0) * step }
        edges[10] = max
        return edges
    }

    /// Up to 100 distinct values get categorical buckets, as the analyzer writes them.
    static let maxCategoricalBuckets = 100
    /// Quantile sketch size: the analyzer's KLL parameters (c 0.64, k 2048). The sketch written
    /// here holds up to 2048 evenly spaced order statistics of the exact sorted values.
    static let sketchSize = 2048

    /// `statistics.json`: the dataset's item count and every feature's statistics, as Model
    /// Monitor's analyzer writes them.
    public static func statistics(_ features: [FeatureProfile], itemCount: Int) -> JSONValue {
        let items: [JSONValue] = features.map { f in
            var members: [JSONValue.Member] = [.init("name", .string(f.name)), .init("inferred_type", .string(f.type.rawValue))]
            let common = JSONValue.object([.init("num_present", JacksonJSON.integer(f.present)), .init("num_missing", JacksonJSON.integer(f.missing))])
            if f.type.isNumeric {
                var stats: [JSONValue.Member] = [.init("common", common)]
                let empty = f.sorted.isEmpty
                stats.append(.init("mean", JacksonJSON.double(empty ? .nan : f.mean)))
                stats.append(.init("sum", JacksonJSON.double(f.sum)))
                stats.append(.init("std_dev", JacksonJSON.double(empty ? .nan : f.std)))
                stats.append(.init("min", JacksonJSON.double(empty ? .nan : f.min)))
                stats.append(.init("max", JacksonJSON.double(empty ? .nan : f.max)))
                if !empty {
                    let buckets: [JSONValue] = f.buckets.map {
                        .object([.init("lower_bound", JacksonJSON.double($0.lower)), .init("upper_bound", JacksonJSON.double($0.upper)),
                                 .init("count", JacksonJSON.double($0.count))])
                    }
                    let n = f.sorted.count
                    let k = Swift.min(n, sketchSize)
                    let sample: [JSONValue] = (0..<k).map { i in JacksonJSON.double(f.sorted[k == 1 ? 0 : i * (n - 1) / (k - 1)]) }
                    let sketch = JSONValue.object([
                        .init("parameters", .object([.init("c", JacksonJSON.double(0.64)), .init("k", JacksonJSON.double(2048))])),
                        .init("data", .array([.array(sample)])),
                    ])
                    stats.append(.init("distribution", .object([.init("kll", .object([.init("buckets", .array(buckets)), .init("sketch", sketch)]))])))
                }
                members.append(.init("numerical_statistics", .object(stats)))
            } else {
                var stats: [JSONValue.Member] = [.init("common", common), .init("distinct_count", JacksonJSON.double(Double(f.categories.count)))]
                if f.categories.count <= maxCategoricalBuckets && !f.categories.isEmpty {
                    let buckets: [JSONValue] = f.categories.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map {
                        .object([.init("value", .string($0.key)), .init("count", JacksonJSON.integer($0.value))])
                    }
                    stats.append(.init("distribution", .object([.init("categorical", .object([.init("buckets", .array(buckets))]))])))
                }
                members.append(.init("string_statistics", .object(stats)))
            }
            return .object(members)
        }
        return .object([.init("version", JacksonJSON.double(0)), .init("dataset", .object([.init("item_count", JacksonJSON.integer(itemCount))])),
                        .init("features", .array(items))])
    }

    /// `constraints.json` suggested from a baseline, as the analyzer suggests it: completeness,
    /// non-negativity of numeric features, the domain of low-cardinality strings, and the
    /// monitoring config with the distribution comparison's threshold.
    public static func constraints(_ features: [FeatureProfile], comparisonThreshold: Double) -> JSONValue {
        let items: [JSONValue] = features.map { f in
            var m: [JSONValue.Member] = [.init("name", .string(f.name)), .init("inferred_type", .string(f.type.rawValue)),
                                         .init("completeness", JacksonJSON.double(f.completeness))]
            if f.type.isNumeric {
                m.append(.init("num_constraints", .object([.init("is_non_negative", .bool(f.sorted.first.map { $0 >= 0 } ?? true))])))
            } else if f.categories.count <= maxCategoricalBuckets, !f.categories.isEmpty {
                m.append(.init("string_constraints", .object([.init("domains", .array(f.categories.keys.sorted().map { .string($0) }))])))
            }
            return .object(m)
        }
        let distribution = JSONValue.object([
            .init("perform_comparison", .string("Enabled")), .init("comparison_threshold", JacksonJSON.double(comparisonThreshold)),
            .init("comparison_method", .string("Robust")), .init("categorical_comparison_threshold", JacksonJSON.double(comparisonThreshold)),
            .init("categorical_drift_method", .string("LInfinity")),
        ])
        return .object([
            .init("version", JacksonJSON.double(0)), .init("features", .array(items)),
            .init("monitoring_config", .object([
                .init("evaluate_constraints", .string("Enabled")), .init("emit_metrics", .string("Enabled")),
                .init("datatype_check_threshold", JacksonJSON.double(1)), .init("domain_content_threshold", JacksonJSON.double(1)),
                .init("distribution_constraints", distribution),
            ])),
        ])
    }
}
