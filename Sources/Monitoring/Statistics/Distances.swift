import Foundation

/// Distances between two samples or two distributions, each as scipy computes it (the names
/// say which function): the monitor's drift statistics are unit-tested against scipy's values.
public enum Distances {
    /// `scipy.stats.wasserstein_distance(u, v)`: the area between the two empirical CDFs.
    /// Both sorted ascending, neither empty.
    public static func wasserstein(sorted u: [Double], _ v: [Double]) -> Double {
        let nu = Double(u.count), nv = Double(v.count)
        var i = 0, j = 0
        var total = 0.0
        var previous: Double?
        // Walk every value of both samples in order; between consecutive values the CDFs are flat.
        while i < u.count || j < v.count {
            let x: Double
            if j >= v.count || (i < u.count && u[i] <= v[j]) { x = u[i] } else { x = v[j] }
            if let p = previous {
                total += abs(Double(i) / nu - Double(j) / nv) * (x - p)
            }
            while i < u.count && u[i] <= x { i += 1 }
            while j < v.count && v[j] <= x { j += 1 }
            previous = x
        }
        return total
    }

    /// `scipy.spatial.distance.jensenshannon(p, q)` (natural logarithm): both normalised to sum 1 first.
    public static func jensenShannon(_ p: [Double], _ q: [Double]) -> Double {
        let sp = p.reduce(0, +), sq = q.reduce(0, +)
        guard sp > 0, sq > 0, p.count == q.count else { return .nan }
        var left = 0.0, right = 0.0
        for k in p.indices {
            let a = p[k] / sp, b = q[k] / sq
            let m = (a + b) / 2
            if a > 0 { left += a * log(a / m) }
            if b > 0 { right += b * log(b / m) }
        }
        return max((left + right) / 2, 0).squareRoot()
    }

    /// The population stability index Σ (ref − cur)·ln(ref / cur) over shares; a share of 0 is
    /// replaced by `epsilon` first (0.0001, Evidently's default).
    public static func psi(reference: [Double], current: [Double], epsilon: Double = 0.0001) -> Double {
        var total = 0.0
        for k in reference.indices {
            let r = reference[k] == 0 ? epsilon : reference[k]
            let c = current[k] == 0 ? epsilon : current[k]
            total += (r - c) * log(r / c)
        }
        return total
    }

    /// The largest difference between the two distributions' cumulative shares (SageMaker's
    /// `baseline_drift_check` distance, and its `LInfinity` for categories).
    public static func lInfinity(_ p: [Double], _ q: [Double], cumulative: Bool) -> Double {
        let sp = p.reduce(0, +), sq = q.reduce(0, +)
        guard sp > 0, sq > 0 else { return .nan }
        var a = 0.0, b = 0.0, best = 0.0
        for k in p.indices {
            if cumulative {
                a += p[k] / sp
                b += q[k] / sq
            } else {
                a = p[k] / sp
                b = q[k] / sq
            }
            best = max(best, abs(a - b))
        }
        return best
    }

    /// `numpy.histogram_bin_edges(values, bins)` for the range [low, high].
    public static func binEdges(low: Double, high: Double, bins: Int) -> [Double] {
        var first = low, last = high
        if first == last {
            first -= 0.5
            last += 0.5
        }
        let step = (last - first) / Double(bins)
        var edges = (0...bins).map { Double($0) * step + first }
        edges[bins] = last
        return edges
    }

    /// `numpy.histogram(values, edges)[0]`: half-open bins, the last one closed; values outside
    /// the edges are not counted.
    public static func histogram(_ values: [Double], edges: [Double]) -> [Double] {
        let bins = edges.count - 1
        var counts = [Double](repeating: 0, count: bins)
        guard bins > 0 else { return counts }
        let first = edges[0], last = edges[bins]
        let norm = Double(bins) / (last - first)
        for x in values {
            guard x >= first, x <= last else { continue }
            var k = Int((x - first) * norm)
            if k >= bins { k = bins - 1 }
            if k < 0 { k = 0 }
            if x < edges[k] { k -= 1 } else if k != bins - 1, x >= edges[k + 1] { k += 1 }
            if k >= 0, k < bins { counts[k] += 1 }
        }
        return counts
    }
}

/// Pearson's chi-square test of independence on a 2×k table, as
/// `scipy.stats.chi2_contingency([reference_counts, current_counts])` computes it (with Yates's
/// correction when the table has one degree of freedom), and the chi-square distribution's
/// survival function through the regularised incomplete gamma function.
public enum ChiSquare {
    public struct Result: Sendable, Equatable {
        public var statistic: Double
        public var pValue: Double
        public var degreesOfFreedom: Int
    }

    /// Categories absent from both rows are left out (their expected count would be zero).
    public static func contingency(_ reference: [Double], _ current: [Double]) -> Result {
        var ref: [Double] = [], cur: [Double] = []
        for k in reference.indices where reference[k] + current[k] > 0 {
            ref.append(reference[k])
            cur.append(current[k])
        }
        let dof = ref.count - 1
        let r1 = ref.reduce(0, +), r2 = cur.reduce(0, +)
        let total = r1 + r2
        guard dof > 0, r1 > 0, r2 > 0 else { return Result(statistic: 0, pValue: 1, degreesOfFreedom: max(dof, 0)) }
        var stat = 0.0
        for k in ref.indices {
            let col = ref[k] + cur[k]
            for (observed, rowSum) in [(ref[k], r1), (cur[k], r2)] {
                let expected = rowSum * col / total
                var o = observed
                if dof == 1 {
                    let diff = expected - o
                    o += min(0.5, abs(diff)) * (diff > 0 ? 1 : diff < 0 ? -1 : 0)
                }
                stat += (o - expected) * (o - expected) / expected
            }
        }
        return Result(statistic: stat, pValue: survival(stat, degreesOfFreedom: Double(dof)), degreesOfFreedom: dof)
    }

    /// `scipy.stats.chi2.sf(x, k)`.
    public static func survival(_ x: Double, degreesOfFreedom k: Double) -> Double {
        guard x > 0 else { return 1 }
        return Gamma.upperRegularized(k / 2, x / 2)
    }
}

/// The regularised incomplete gamma functions (series below a + 1, Lentz's continued fraction above).
enum Gamma {
    static func upperRegularized(_ a: Double, _ x: Double) -> Double {
        if x <= 0 { return 1 }
        if x < a + 1 { return 1 - lowerSeries(a, x) }
        return upperFraction(a, x)
    }

    static func lowerSeries(_ a: Double, _ x: Double) -> Double {
        var sum = 1 / a, term = 1 / a, ap = a
        for _ in 0..<10_000 {
            ap += 1
            term *= x / ap
            sum += term
            if abs(term) < abs(sum) * 1e-17 { break }
        }
        return sum * exp(-x + a * log(x) - logGamma(a))
    }

    static func upperFraction(_ a: Double, _ x: Double) -> Double {
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1..<10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return exp(-x + a * log(x) - logGamma(a)) * h
    }
}

/// ln Γ(x) for x > 0 (Glibc's `lgamma`, without the sign overload that makes the name ambiguous).
@inline(__always) func logGamma(_ x: Double) -> Double {
    let value: Double = lgamma(x)
    return value
}
