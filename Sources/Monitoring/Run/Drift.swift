import Foundation

/// How a feature's window is compared with its baseline.
public enum DriftMethod: String, Sendable, Codable, CaseIterable, Equatable {
    /// Two-sample Kolmogorov–Smirnov; drift when the p-value is at most the threshold (0.05).
    case ks
    /// Chi-square test of the two category tables; drift when the p-value is below the threshold (0.05).
    case chiSquare = "chi_square"
    /// Wasserstein distance over the baseline's standard deviation (at least 0.001); drift at 0.1 or more.
    case wasserstein
    /// Jensen–Shannon distance of the binned shares; drift at 0.1 or more.
    case jensenShannon = "jensen_shannon"
    /// Population stability index of the binned shares; drift at 0.1 or more.
    case psi
    /// Model Monitor's baseline drift distance: the largest gap between the cumulative bucket
    /// shares (categories: between the shares); drift above the threshold (0.1).
    case lInfinity = "l_infinity"
    /// Two-proportion Z-test of a two-valued feature (Evidently's `z`); drift when the p-value is
    /// below the threshold (0.05).
    case zTest = "z_test"

    public var defaultThreshold: Double {
        switch self {
        case .ks, .chiSquare, .zTest: return 0.05
        case .wasserstein, .jensenShannon, .psi, .lInfinity: return 0.1
        }
    }

    /// p-value tests drift when small; distances when large.
    public var isPValue: Bool { self == .ks || self == .chiSquare || self == .zTest }

    /// Whether the method needs the baseline's rows (a training CSV), not only its statistics file.
    public var needsSamples: Bool { self == .ks || self == .wasserstein || self == .chiSquare || self == .zTest }

    public func drifted(_ statistic: Double, threshold: Double) -> Bool {
        switch self {
        case .ks: return statistic <= threshold
        case .chiSquare, .zTest: return statistic < threshold
        case .lInfinity: return statistic > threshold
        case .wasserstein, .jensenShannon, .psi: return statistic >= threshold
        }
    }
}

/// One feature's comparison: the method, its statistic and threshold, the verdict, and the two
/// histograms the report draws.
public struct DriftResult: Sendable, Codable, Equatable {
    public var feature: String
    public var method: DriftMethod
    public var statistic: Double
    public var threshold: Double
    public var drifted: Bool
    /// Bin labels and the shares of baseline and window in each, for the picture.
    public var bins: [String]
    public var baselineShares: [Double]
    public var windowShares: [Double]
}

/// The baseline side of a feature: its rows' profile (from a training CSV) and/or the buckets of
/// a given statistics file.
public struct BaselineFeature: Sendable {
    public var name: String
    public var type: InferredType
    /// The completeness the constraints require.
    public var completeness: Double
    /// Allowed values of a string feature (nil: any).
    public var domain: Set<String>?
    public var profile: FeatureProfile?
    /// The statistics file's numeric buckets (lower, upper, count).
    public var buckets: [(lower: Double, upper: Double, count: Double)] = []
    public var categories: [String: Int] = [:]

    public init(name: String, type: InferredType, completeness: Double, domain: Set<String>?, profile: FeatureProfile?) {
        self.name = name
        self.type = type
        self.completeness = completeness
        self.domain = domain
        self.profile = profile
        if let p = profile {
            buckets = p.buckets
            categories = p.categories
        }
    }

    /// Rows behind the baseline's samples (0 without a CSV).
    public var sampleRows: Int { profile.map { $0.present } ?? 0 }
}

public enum Drift {
    /// The method used when the stack names none: Evidently's default rule. A baseline of at most
    /// 1,000 rows: numeric features with more than 5 distinct values (baseline and window
    /// together) by KS, others by chi-square (by the Z-test with at most 2 values); larger
    /// baselines: numeric by normalised Wasserstein, others by Jensen–Shannon. A baseline given as
    /// files only: Model Monitor's L-infinity.
    public static func defaultMethod(_ baseline: BaselineFeature, window: FeatureProfile) -> DriftMethod {
        guard let ref = baseline.profile else { return .lInfinity }
        let distinct = distinctUnion(ref, window)
        if ref.present <= 1000 {
            return baseline.type.isNumeric && distinct > 5 ? .ks : distinct > 2 ? .chiSquare : .zTest
        }
        return baseline.type.isNumeric && distinct > 5 ? .wasserstein : .jensenShannon
    }

    static func distinctUnion(_ a: FeatureProfile, _ b: FeatureProfile) -> Int {
        if !a.type.isNumeric { return Set(a.categories.keys).union(b.categories.keys).count }
        var i = 0, j = 0, n = 0
        var last: Double?
        let x = a.sorted, y = b.sorted
        while i < x.count || j < y.count {
            let v: Double
            if j >= y.count || (i < x.count && x[i] <= y[j]) { v = x[i]; i += 1 } else { v = y[j]; j += 1 }
            if v != last { n += 1; last = v }
        }
        return n
    }

    /// Compares one feature; nil when either side has no values to compare.
    public static func compare(_ baseline: BaselineFeature, window: FeatureProfile, method: DriftMethod, threshold: Double) -> DriftResult? {
        let numeric = baseline.type.isNumeric
        if numeric ? window.sorted.isEmpty : window.categories.isEmpty { return nil }
        var statistic = Double.nan
        var bins: [String] = []
        var ref: [Double] = [], cur: [Double] = []
        switch method {
        case .ks, .wasserstein:
            guard let r = baseline.profile, numeric, !r.sorted.isEmpty else { return nil }
            if method == .ks {
                statistic = KolmogorovSmirnov.test(sorted: r.sorted, window.sorted).pValue
            } else {
                statistic = Distances.wasserstein(sorted: r.sorted, window.sorted) / max(r.std, 0.001)
            }
            (bins, ref, cur) = pictureBins(r.sorted, window.sorted)
        case .chiSquare, .zTest:
            guard let r = baseline.profile else { return nil }
            (bins, ref, cur) = numeric ? valueCounts(r.sorted, window.sorted) : categoryCounts(r.categories, window.categories)
            statistic = method == .chiSquare ? ChiSquare.contingency(ref, cur).pValue : ZTest.proportions(ref, cur)
        case .jensenShannon, .psi:
            if let r = baseline.profile {
                (bins, ref, cur) = numeric && r.distinctCount > 20 ? sturgesBins(r.sorted, window.sorted)
                    : numeric ? valueCounts(r.sorted, window.sorted) : categoryCounts(r.categories, window.categories)
            } else {
                (bins, ref, cur) = numeric ? bucketBins(baseline.buckets, window.sorted) : categoryCounts(baseline.categories, window.categories)
            }
            let rs = shares(ref), cs = shares(cur)
            statistic = method == .jensenShannon ? Distances.jensenShannon(rs, cs)
                : Distances.psi(reference: fillZeroes(rs), current: fillZeroes(cs), epsilon: 0)
        case .lInfinity:
            if numeric {
                guard !baseline.buckets.isEmpty else { return nil }
                (bins, ref, cur) = bucketBins(baseline.buckets, window.sorted)
            } else {
                (bins, ref, cur) = categoryCounts(baseline.categories, window.categories)
            }
            statistic = Distances.lInfinity(ref, cur, cumulative: numeric)
        }
        guard statistic.isFinite else { return nil }
        return DriftResult(feature: baseline.name, method: method, statistic: statistic, threshold: threshold,
                           drifted: method.drifted(statistic, threshold: threshold), bins: bins, baselineShares: shares(ref), windowShares: shares(cur))
    }

    static func shares(_ counts: [Double]) -> [Double] {
        let total = counts.reduce(0, +)
        return total > 0 ? counts.map { $0 / total } : counts
    }

    /// Evidently's `feel_zeroes`: an empty bin takes a millionth of the smallest non-empty share
    /// when that is at most 0.0001, else 0.0001.
    static func fillZeroes(_ s: [Double]) -> [Double] {
        guard let smallest = s.filter({ $0 > 0 }).min() else { return s }
        let fill = smallest <= 0.0001 ? smallest / 1e6 : 0.0001
        return s.map { $0 == 0 ? fill : $0 }
    }

    static func label(_ x: Double) -> String { String(format: "%.4g", x) }

    /// numpy's "sturges" bins over both samples together (Evidently's binning for JS and PSI).
    static func sturgesBins(_ a: [Double], _ b: [Double]) -> ([String], [Double], [Double]) {
        let low = Swift.min(a[0], b[0]), high = Swift.max(a[a.count - 1], b[b.count - 1])
        let n = Double(a.count + b.count)
        var count = 1
        if high > low {
            let width = (high - low) / (log2(n) + 1)
            count = Swift.max(1, Int(((high - low) / width).rounded(.up)))
        }
        let edges = Distances.binEdges(low: low, high: high, bins: count)
        return (edges.dropLast().map(label), Distances.histogram(a, edges: edges), Distances.histogram(b, edges: edges))
    }

    /// Twenty equal-width bins over both samples, for the report's picture of KS and Wasserstein.
    static func pictureBins(_ a: [Double], _ b: [Double]) -> ([String], [Double], [Double]) {
        let low = Swift.min(a[0], b[0]), high = Swift.max(a[a.count - 1], b[b.count - 1])
        let edges = Distances.binEdges(low: low, high: high, bins: 20)
        return (edges.dropLast().map(label), Distances.histogram(a, edges: edges), Distances.histogram(b, edges: edges))
    }

    /// Each distinct value its own bin.
    static func valueCounts(_ a: [Double], _ b: [Double]) -> ([String], [Double], [Double]) {
        var ca: [Double: Int] = [:], cb: [Double: Int] = [:]
        for x in a { ca[x, default: 0] += 1 }
        for x in b { cb[x, default: 0] += 1 }
        let keys = Set(ca.keys).union(cb.keys).sorted()
        return (keys.map(label), keys.map { Double(ca[$0] ?? 0) }, keys.map { Double(cb[$0] ?? 0) })
    }

    static func categoryCounts(_ a: [String: Int], _ b: [String: Int]) -> ([String], [Double], [Double]) {
        let keys = Set(a.keys).union(b.keys).sorted()
        return (keys, keys.map { Double(a[$0] ?? 0) }, keys.map { Double(b[$0] ?? 0) })
    }

    /// The baseline's own buckets, with window values below the first (above the last) counted
    /// in the first (last), as the analyzer's robust comparison does.
    static func bucketBins(_ buckets: [(lower: Double, upper: Double, count: Double)], _ values: [Double]) -> ([String], [Double], [Double]) {
        var cur = [Double](repeating: 0, count: buckets.count)
        var k = 0
        for x in values {
            while k < buckets.count - 1 && x >= buckets[k].upper && !(buckets[k].upper == buckets[k].lower && x == buckets[k].upper) { k += 1 }
            cur[k] += 1
        }
        return (buckets.map { label($0.lower) }, buckets.map(\.count), cur)
    }
}

/// Evidently's two-proportion Z-test: each sample as the indicator "not the first value (in sorted
/// order)", z = (p1 − p2) / √(P(1 − P)(1/n1 + 1/n2)), p = 2·(1 − Φ(|z|)) computed as scipy does
/// (`2 * (1 - norm.cdf(abs(z)))`), so tiny p-values round the same way.
public enum ZTest {
    /// Counts per value (the same values, sorted, in both); 1 when both hold one and the same value.
    public static func proportions(_ reference: [Double], _ current: [Double]) -> Double {
        let n1 = reference.reduce(0, +), n2 = current.reduce(0, +)
        guard n1 > 0, n2 > 0 else { return .nan }
        let presentRef = reference.indices.filter { reference[$0] > 0 }, presentCur = current.indices.filter { current[$0] > 0 }
        if presentRef.count == 1, presentCur == presentRef { return 1 }
        guard let first = reference.indices.first(where: { reference[$0] + current[$0] > 0 }) else { return .nan }
        let p1 = (n1 - reference[first]) / n1, p2 = (n2 - current[first]) / n2
        let pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
        let z = (p1 - p2) / (pooled * (1 - pooled) * (1 / n1 + 1 / n2)).squareRoot()
        return 2 * (1 - normalCDF(abs(z)))
    }

    /// Φ(x) as scipy's `ndtr`: ½·erfc(−x/√2).
    static func normalCDF(_ x: Double) -> Double {
        let t = x * 0.5.squareRoot()
        if abs(t) < 0.5.squareRoot() { return 0.5 + 0.5 * erf(t) }
        let y = 0.5 * erfc(abs(t))
        return t > 0 ? 1 - y : y
    }
}
