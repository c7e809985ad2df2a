import Foundation

/// The two-sample Kolmogorov–Smirnov test, two-sided, as `scipy.stats.ks_2samp(a, b)` computes it
/// with its default `method="auto"`: the exact distribution when both samples have at most
/// 10,000 values, otherwise Smirnov's asymptotic route through the one-sample distribution
/// (`kstwo.sf(d, round(n·m/(n+m)))`). The algorithms are scipy's (Hodges; Simard and L'Ecuyer),
/// ported step by step so the p-values agree to the last digits, not only in the verdict.
public enum KolmogorovSmirnov {
    public struct Result: Sendable, Equatable {
        public var statistic: Double
        public var pValue: Double
    }

    /// scipy's `MAX_AUTO_N`.
    static let maxExactN = 10_000

    /// Both samples sorted ascending, neither empty.
    public static func test(sorted a: [Double], _ b: [Double]) -> Result {
        let n1 = a.count, n2 = b.count
        precondition(n1 > 0 && n2 > 0, "ks_2samp needs two non-empty samples")
        // The largest distance between the two empirical CDFs, evaluated at every value of both.
        var i = 0, j = 0
        var maxPlus = 0.0, maxMinus = 0.0
        let d1 = Double(n1), d2 = Double(n2)
        while i < n1 || j < n2 {
            let v: Double
            if j >= n2 || (i < n1 && a[i] <= b[j]) { v = a[i] } else { v = b[j] }
            while i < n1 && a[i] <= v { i += 1 }
            while j < n2 && b[j] <= v { j += 1 }
            let diff = Double(i) / d1 - Double(j) / d2
            if diff > maxPlus { maxPlus = diff }
            if -diff > maxMinus { maxMinus = -diff }
        }
        var d = max(maxPlus, min(maxMinus, 1))
        let g = gcd(n1, n2)
        if max(n1, n2) <= maxExactN {
            let lcm = Double(n1 / g) * Double(n2)
            let h = Int((d * lcm).rounded(.toNearestOrEven))
            d = Double(h) / lcm
            if h == 0 { return Result(statistic: d, pValue: 1) }
            let p = n1 == n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h)
            if p.isFinite, p >= 0, p <= 1 { return Result(statistic: d, pValue: p) }
        }
        let m = Double(max(n1, n2)), n = Double(min(n1, n2))
        let en = (m * n / (m + n)).rounded(.toNearestOrEven)
        let p = Kolmogorov.sf(n: Int(en), x: d)
        return Result(statistic: d, pValue: min(max(p, 0), 1))
    }

    static func gcd(_ a: Int, _ b: Int) -> Int {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }

    /// The proportion of lattice paths that pass outside the lines x − y = ±h (equal sizes).
    static func probOutsideSquare(_ n: Int, _ h: Int) -> Double {
        var p = 0.0
        var k = n / h
        while k >= 0 {
            var p1 = 1.0
            for j in 0..<h { p1 = Double(n - k * h - j) * p1 / Double(n + k * h + j + 1) }
            p = p1 * (1 - p)
            k -= 1
        }
        return 2 * p
    }

    /// The proportion of lattice paths from (0,0) to (m,n) that do not stay strictly inside the
    /// two diagonals |nx/g − my/g| < h, one sliding column at a time.
    static func outerProbInside(_ m0: Int, _ n0: Int, _ g: Int, _ h: Int) -> Double {
        let (m, n) = m0 >= n0 ? (m0, n0) : (n0, m0)
        let mg = m / g, ng = n / g
        var minj = 0
        var maxj = min(Int((Double(h) / Double(mg)).rounded(.up)), n + 1)
        var curlen = maxj - minj
        let lenA = min(2 * maxj + 2, n + 1)
        var a = [Double](repeating: 1, count: lenA)
        for k in minj..<maxj where k < lenA { a[k] = 0 }
        for i in 1...m {
            let lastminj = minj, lastlen = curlen
            minj = max(Int((Double(ng * i - h) / Double(mg)).rounded(.down)) + 1, 0)
            minj = min(minj, n)
            maxj = min(Int((Double(ng * i + h) / Double(mg)).rounded(.up)), n + 1)
            if maxj <= minj { return 1 }
            var val = minj == 0 ? 0.0 : 1.0
            for jj in 0..<(maxj - minj) {
                let j = jj + minj
                val = (a[jj + minj - lastminj] * Double(i) + val * Double(j)) / Double(i + j)
                a[jj] = val
            }
            curlen = maxj - minj
            if lastlen > curlen {
                for k in (maxj - minj)..<(maxj - minj + lastlen - curlen) where k < lenA { a[k] = 1 }
            }
        }
        // Each cell holds the probability of having left the band on the way to it.
        return a[maxj - minj - 1]
    }
}

/// The distribution of the two-sided one-sample Kolmogorov–Smirnov statistic D_n (scipy's
/// `kstwo`), its survival function as `scipy.stats._ksstats._kolmogn(n, x, cdf=False)`.
enum Kolmogorov {
    static let e128 = 128
    static let ep128 = scalbn(1.0, 128)
    static let em128 = scalbn(1.0, -128)
    static let minLog = -708.0
    static let stirling: [Double] = [-2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3,
                                     8.4175084175084175084e-4, -5.952380952380952381e-4, 7.9365079365079365079e-4,
                                     -2.7777777777777777778e-3, 8.3333333333333333333e-2]

    static func clip(_ p: Double) -> Double { min(max(p, 0), 1) }

    static func sf(n: Int, x: Double) -> Double {
        guard n > 0 else { return .nan }
        if x >= 1 { return 0 }
        if x <= 0 { return 1 }
        let dn = Double(n)
        let t = dn * x
        if t <= 1 {
            if t <= 0.5 { return 1 }
            let prob: Double
            if n <= 140 {
                var p = 1.0
                for i in 1...n { p *= Double(i) * (1 / dn) * (2 * t - 1) }
                prob = p
            } else {
                prob = exp(logFactorialOverPower(dn) + dn * log(2 * t - 1))
            }
            return clip(1 - prob)
        }
        if t >= dn - 1 { return clip(2 * pow(1 - x, dn)) }
        if x >= 0.5 { return clip(2 * smirnov(n, x)) }
        let nx2 = t * x
        if n <= 140 {
            if nx2 <= 0.754693 { return clip(1 - durbin(n, x)) }
            if nx2 <= 4 { return clip(1 - pomeranz(n, x)) }
            return clip(2 * smirnov(n, x))
        }
        if nx2 >= 370 { return 0 }
        if nx2 >= 2.2 { return clip(2 * smirnov(n, x)) }
        let cdf = (n <= 100_000 && dn * pow(x, 1.5) <= 1.4) ? durbin(n, x) : pelzGood(n, x)
        return clip(1 - cdf)
    }

    static func logFactorialOverPower(_ n: Double) -> Double {
        let rn = 1 / n
        var poly = 0.0
        for c in stirling { poly = poly * (rn / n) + c }
        return log(n) / 2 - n + log(2 * Double.pi) / 2 + rn * poly
    }

    /// The one-sided statistic's survival function, P(D_n⁺ ≥ x), by the Birnbaum–Tingey sum
    /// evaluated in logarithms (scipy's `special.smirnov`).
    static func smirnov(_ n: Int, _ x: Double) -> Double {
        if x >= 1 { return 0 }
        if x <= 0 { return 1 }
        let dn = Double(n)
        let top = Int((dn * (1 - x)).rounded(.down))
        var sum = 0.0
        let lgn = logGamma(dn + 1)
        for j in 0...max(top, 0) {
            let dj = Double(j)
            let a = 1 - x - dj / dn
            let b = x + dj / dn
            guard a > 0 else { continue }
            let logTerm = lgn - logGamma(dj + 1) - logGamma(dn - dj + 1) + (dn - dj) * log(a) + (dj - 1) * log(b)
            sum += exp(logTerm)
        }
        return x * sum
    }

    /// Durbin's matrix algorithm as Marsaglia, Tsang and Wang compute it: P(D_n ≤ d).
    static func durbin(_ n: Int, _ d: Double) -> Double {
        if d >= 1 { return 1 }
        let nd = Double(n) * d
        if nd <= 0.5 { return 0 }
        let k = Int(nd.rounded(.up))
        let h = Double(k) - nd
        let m = 2 * k - 1
        var v = [Double](repeating: 0, count: m)
        var w = [Double](repeating: 0, count: m)
        var fac = 1.0
        for j in 1...m {
            v[j - 1] = 1 - pow(h, Double(j))
            w[j - 1] = fac
            fac /= Double(j)
            v[j - 1] *= fac
        }
        let tt = pow(max(2 * h - 1, 0), Double(m)) - 2 * pow(h, Double(m))
        v[m - 1] = (1 + tt) * fac
        var hm = [Double](repeating: 0, count: m * m)
        for i in 1..<m {
            for r in (i - 1)..<m { hm[r * m + i] = w[r - (i - 1)] }
        }
        for r in 0..<m { hm[r * m] = v[r] }
        for c in 0..<m { hm[(m - 1) * m + c] = v[m - 1 - c] }
        var power = [Double](repeating: 0, count: m * m)
        for i in 0..<m { power[i * m + i] = 1 }
        var nn = n
        var expnt = 0
        var hExpnt = 0
        while nn > 0 {
            if nn % 2 == 1 {
                power = multiply(power, hm, m)
                expnt += hExpnt
            }
            hm = multiply(hm, hm, m)
            hExpnt *= 2
            if abs(hm[(k - 1) * m + (k - 1)]) > ep128 {
                for i in hm.indices { hm[i] /= ep128 }
                hExpnt += e128
            }
            nn /= 2
        }
        var p = power[(k - 1) * m + (k - 1)]
        for i in 1...n {
            p = Double(i) * p / Double(n)
            if abs(p) < em128 {
                p *= ep128
                expnt -= e128
            }
        }
        if expnt != 0 { p = scalbn(p, expnt) }
        return clip(p)
    }

    static func multiply(_ a: [Double], _ b: [Double], _ m: Int) -> [Double] {
        var out = [Double](repeating: 0, count: m * m)
        for i in 0..<m {
            for k in 0..<m {
                let aik = a[i * m + k]
                if aik == 0 { continue }
                for j in 0..<m { out[i * m + j] += aik * b[k * m + j] }
            }
        }
        return out
    }

    static func pomeranzInterval(_ i: Int, _ n: Int, _ ll: Int, _ ceilf: Int, _ roundf: Int) -> (Int, Int) {
        var j1: Int, j2: Int
        if i == 0 {
            (j1, j2) = (-ll - ceilf - 1, ll + ceilf - 1)
        } else {
            let half = (i + 1) / 2, odd = (i + 1) % 2
            if odd == 0 {
                if half == n + 1 { (j1, j2) = (n - ll - ceilf - 1, n + ll + ceilf - 1) } else { (j1, j2) = (half - 1 - ll - roundf - 1, half + ll - 1 + ceilf - 1) }
            } else {
                (j1, j2) = (half - 1 - ll - 1, half + ll + roundf - 1)
            }
        }
        return (max(j1 + 2, 0), min(j2, n))
    }

    /// Pomeranz's recursion: P(D_n ≤ x).
    static func pomeranz(_ n: Int, _ x: Double) -> Double {
        let t = Double(n) * x
        let ll = Int(t.rounded(.down))
        let f = t - Double(ll)
        let g = min(f, 1 - f)
        let ceilf = f > 0 ? 1 : 0
        let roundf = f > 0.5 ? 1 : 0
        let npwrs = 2 * (ll + 1)
        var gp = [Double](repeating: 0, count: npwrs), tgp = gp, omp = gp
        gp[0] = 1; tgp[0] = 1; omp[0] = 1
        let dn = Double(n)
        for m in 1..<npwrs {
            gp[m] = gp[m - 1] * (g / dn) / Double(m)
            tgp[m] = tgp[m - 1] * (2 * g / dn) / Double(m)
            omp[m] = omp[m - 1] * ((1 - 2 * g) / dn) / Double(m)
        }
        var v0 = [Double](repeating: 0, count: npwrs)
        var v1 = [Double](repeating: 0, count: npwrs)
        v1[0] = 1
        var v0s = 0, v1s = 0
        var expnt = 0
        var (j1, j2) = pomeranzInterval(0, n, ll, ceilf, roundf)
        for i in 1..<(2 * n + 2) {
            let k1 = j1
            swap(&v0, &v1)
            swap(&v0s, &v1s)
            for q in v1.indices { v1[q] = 0 }
            (j1, j2) = pomeranzInterval(i, n, ll, ceilf, roundf)
            let pw = (i == 1 || i == 2 * n + 1) ? gp : (i % 2 == 1 ? tgp : omp)
            let ln2 = j2 - k1 + 1
            if ln2 > 0 {
                // conv = convolve(V0[k1-V0s ..< k1-V0s+ln2], pw[..<ln2]); take conv[j1-k1 ..< j1-k1+len].
                let start = k1 - v0s
                let count = j2 - j1 + 1
                let offset = j1 - k1
                var biggest = 0.0
                for r in 0..<max(count, 0) {
                    let idx = offset + r
                    var s = 0.0
                    // conv[idx] = Σ_q a[q]·pw[idx−q], a of length ln2 (clipped to V0's size).
                    let lo = max(0, idx - (ln2 - 1)), hi = min(idx, ln2 - 1)
                    if lo <= hi {
                        for q in lo...hi {
                            let ai = start + q
                            guard ai >= 0, ai < v0.count, idx - q < pw.count else { continue }
                            s += v0[ai] * pw[idx - q]
                        }
                    }
                    v1[r] = s
                    biggest = max(biggest, s)
                }
                if biggest > 0, biggest < em128 {
                    for q in v1.indices { v1[q] *= ep128 }
                    expnt -= e128
                }
                v1s = v0s + j1 - k1
            }
        }
        var ans = v1[n - v1s]
        for m in 1...n {
            if abs(ans) > ep128 {
                ans *= em128
                expnt += e128
            }
            ans *= Double(m)
        }
        if expnt != 0 { ans = scalbn(ans, expnt) }
        return clip(ans)
    }

    /// Pelz and Good's approximation of P(D_n ≤ x).
    static func pelzGood(_ n: Int, _ x: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let pi2 = Double.pi * Double.pi, pi4 = pi2 * pi2, pi6 = pi4 * pi2
        let z = Double(n).squareRoot() * x
        let z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2
        let qlog = -pi2 / 8 / z2
        if qlog < minLog { return 0 }
        var q = exp(qlog)
        let k1a = -z2, k1b = pi2 / 4
        let k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4, k2c = pi4 * (1 - 2 * z2) / 16
        let k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16
        let k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * pow(z, 8)
        var k = [0.0, 0, 0, 0]
        let maxk = Int((16 * z / Double.pi).rounded(.up))
        if maxk >= 1 {
            for kk in stride(from: maxk, through: 1, by: -1) {
                let m = Double(2 * kk - 1)
                let m2 = m * m, m4 = m2 * m2, m6 = m4 * m2
                let qp = pow(q, Double(8 * kk))
                let c = [1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6]
                for i in 0..<4 { k[i] = k[i] * qp + c[i] }
            }
        }
        let sqrt2pi = (2 * Double.pi).squareRoot()
        let div = [z, 6 * z4, 72 * pow(z, 7), 6480 * pow(z, 10)]
        for i in 0..<4 { k[i] = k[i] * q * sqrt2pi / div[i] }
        q = exp(-pi2 / 2 / z2)
        var k2extra = 0.0, k3extra = 0.0
        let sqrt3z = 3.0.squareRoot() * z
        if maxk >= 1 {
            for kk in stride(from: maxk, through: 1, by: -1) {
                let ks = Double(kk)
                let qp = pow(q, ks * ks)
                k2extra += ks * ks * qp
                let kspi = Double.pi * ks
                k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks * ks * qp
            }
        }
        k[2] += k2extra * pi2 * sqrt2pi / (-36 * z3)
        k[3] += k3extra * pi2 * sqrt2pi / (216 * z6)
        for i in 0..<4 { k[i] /= pow(Double(n), Double(i) / 2) }
        return k.reduce(0, +)
    }
}
