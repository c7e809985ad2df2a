import Foundation
import Testing
@testable import Monitoring

/// Every drift statistic against the value scipy computed on the same samples
/// (Fixtures/scipy.json, written by make_fixtures.py).
struct ScipyFixtures: Decodable {
    struct KS: Decodable {
        var a: [Double]
        var b: [Double]
        var ks_statistic: Double
        var ks_pvalue: Double
        var wasserstein: Double
    }
    struct Categorical: Decodable {
        var reference: [Double]
        var current: [Double]
        var jensenshannon: Double
        var chi2_statistic: Double
        var chi2_pvalue: Double
        var chi2_dof: Int
    }
    struct Histogram: Decodable {
        var values: [Double]
        var low: Double
        var high: Double
        var bins: Int
        var edges: [Double]
        var counts: [Double]
    }
    struct ChiSF: Decodable {
        var x: Double
        var k: Double
        var sf: Double
    }
    struct Z: Decodable {
        var reference: [Double]
        var current: [Double]
        var p: Double
    }
    var ks: [KS]
    var ztest: [Z]
    var categorical: [Categorical]
    var histograms: [Histogram]
    var chi2_sf: [ChiSF]

    static let shared: ScipyFixtures = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/scipy.json")
        // The fixture is part of the repository; a missing one is a broken checkout.
        return try! JSONDecoder().decode(ScipyFixtures.self, from: Data(contentsOf: url))
    }()
}

/// p-values agree to 1e-6 relative; below 1e-300 both are zero for any verdict's purpose.
func closeRelative(_ x: Double, _ y: Double, _ tolerance: Double = 1e-6) -> Bool {
    if x == y { return true }
    if abs(y) < 1e-300 { return abs(x) < 1e-290 }
    return abs(x - y) <= tolerance * abs(y)
}

@Suite struct ScipyAgreementTests {
    @Test(arguments: ScipyFixtures.shared.ks.indices)
    func kolmogorovSmirnov(index: Int) {
        let c = ScipyFixtures.shared.ks[index]
        let r = KolmogorovSmirnov.test(sorted: c.a.sorted(), c.b.sorted())
        #expect(abs(r.statistic - c.ks_statistic) <= 1e-9, "n=\(c.a.count),\(c.b.count) D \(r.statistic) vs scipy \(c.ks_statistic)")
        #expect(closeRelative(r.pValue, c.ks_pvalue), "n=\(c.a.count),\(c.b.count) p \(r.pValue) vs scipy \(c.ks_pvalue)")
    }

    @Test(arguments: ScipyFixtures.shared.ks.indices)
    func wasserstein(index: Int) {
        let c = ScipyFixtures.shared.ks[index]
        let w = Distances.wasserstein(sorted: c.a.sorted(), c.b.sorted())
        #expect(abs(w - c.wasserstein) <= 1e-9, "n=\(c.a.count),\(c.b.count) \(w) vs scipy \(c.wasserstein)")
    }

    @Test(arguments: ScipyFixtures.shared.categorical.indices)
    func categorical(index: Int) {
        let c = ScipyFixtures.shared.categorical[index]
        let js = Distances.jensenShannon(c.reference, c.current)
        #expect(abs(js - c.jensenshannon) <= 1e-9, "\(js) vs scipy \(c.jensenshannon)")
        let chi = ChiSquare.contingency(c.reference, c.current)
        #expect(chi.degreesOfFreedom == c.chi2_dof)
        #expect(closeRelative(chi.statistic, c.chi2_statistic, 1e-9), "\(chi.statistic) vs scipy \(c.chi2_statistic)")
        #expect(closeRelative(chi.pValue, c.chi2_pvalue), "\(chi.pValue) vs scipy \(c.chi2_pvalue)")
    }

    @Test func zTestAsEvidentlyComputesIt() {
        for c in ScipyFixtures.shared.ztest {
            let p = ZTest.proportions(c.reference, c.current)
            #expect(closeRelative(p, c.p), "\(c.reference) \(c.current): \(p) vs \(c.p)")
        }
        #expect(ZTest.proportions([5, 0], [7, 0]) == 1)
    }

    @Test func chiSquareSurvival() {
        for c in ScipyFixtures.shared.chi2_sf {
            let sf = ChiSquare.survival(c.x, degreesOfFreedom: c.k)
            #expect(closeRelative(sf, c.sf), "chi2.sf(\(c.x), \(c.k)) = \(sf) vs scipy \(c.sf)")
        }
    }

    @Test func histograms() {
        for h in ScipyFixtures.shared.histograms {
            let edges = Distances.binEdges(low: h.low, high: h.high, bins: h.bins)
            #expect(edges.count == h.edges.count)
            for (x, y) in zip(edges, h.edges) { #expect(abs(x - y) <= 1e-12) }
            #expect(Distances.histogram(h.values, edges: h.edges) == h.counts)
        }
    }

    @Test func psiIsZeroForEqualSharesAndGrowsWithTheShift() {
        #expect(Distances.psi(reference: [0.25, 0.25, 0.5], current: [0.25, 0.25, 0.5]) == 0)
        // Σ (r − c) ln(r / c) by hand: (0.5−0.3)·ln(0.5/0.3) + (0.5−0.7)·ln(0.5/0.7).
        let expected = 0.2 * log(0.5 / 0.3) + -0.2 * log(0.5 / 0.7)
        #expect(abs(Distances.psi(reference: [0.5, 0.5], current: [0.3, 0.7]) - expected) < 1e-15)
        // An empty bin takes the epsilon instead of dividing by zero.
        #expect(Distances.psi(reference: [1, 0], current: [0.5, 0.5]).isFinite)
    }
}
