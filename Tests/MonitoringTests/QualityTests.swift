import Testing
@testable import Monitoring

@Suite struct QualityTests {
    /// AUC by its definition: the share of (positive, negative) pairs ranked right, ties half.
    func pairwiseAUC(_ labels: [Double], _ scores: [Double]) -> Double {
        var good = 0.0, pairs = 0.0
        for i in labels.indices where labels[i] == 1 {
            for j in labels.indices where labels[j] == 0 {
                pairs += 1
                good += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0
            }
        }
        return good / pairs
    }

    @Test func aucByRanksEqualsThePairwiseDefinitionWithTies() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let n = Int.random(in: 5...60, using: &rng)
            let labels = (0..<n).map { $0 < 2 ? Double($0) : Double(Int.random(in: 0...1, using: &rng)) }
            let scores = (0..<n).map { _ in Double(Int.random(in: 0...8, using: &rng)) / 8 }
            #expect(abs(QualityMetrics.auc(labels: labels, scores: scores) - pairwiseAUC(labels, scores)) < 1e-12)
        }
    }

    @Test func binaryMetricsFromTheConfusionMatrix() {
        // tp 2 (0.9, 0.6), fp 1 (0.7), fn 1 (0.2), tn 2 (0.1, 0.4)
        let m = QualityMetrics.binary(labels: [1, 1, 0, 1, 0, 0], scores: [0.9, 0.6, 0.7, 0.2, 0.1, 0.4], threshold: 0.5)
        #expect(m["accuracy"] == 4.0 / 6 && m["precision"] == 2.0 / 3 && m["recall"] == 2.0 / 3)
        #expect(abs(m["f1"]! - 2.0 / 3) < 1e-15)
    }

    @Test func weightedF1WeighsEachClassBySupport() {
        let m = QualityMetrics.multiclass(labels: ["a", "a", "a", "b", "c", "c"], predictions: ["a", "a", "b", "b", "c", "a"])
        // a: p 2/3 r 2/3 f1 2/3 (support 3); b: p 1/2 r 1 f1 2/3 (1); c: p 1 r 1/2 f1 2/3 (2)
        #expect(m["accuracy"] == 4.0 / 6)
        #expect(abs(m["weighted_f1"]! - 2.0 / 3) < 1e-12)
    }

    @Test func regressionMetrics() {
        let m = QualityMetrics.regression(labels: [1, 2, 3, 4], predictions: [1.5, 2, 2, 5])
        #expect(m["mae"] == 0.625 && m["mse"] == 0.5625 && m["rmse"] == 0.75)
        #expect(abs(m["r2"]! - (1 - 2.25 / 5)) < 1e-15)
    }

    @Test func constraintsSayWhichSideIsAViolation() {
        #expect(QualityConstraint(threshold: 0.8, comparison: "LessThanThreshold").violated(by: 0.79))
        #expect(!QualityConstraint(threshold: 0.5, comparison: "GreaterThanThreshold").violated(by: 0.5))
        let c = QualityMetrics.constraints(.regression, ["mae": 0.5, "mse": 0.3, "rmse": 0.55, "r2": 0.1])
        #expect(keyPaths(c) == keyPaths(try! conformanceFile("model_quality/sdk_pipeline_model_quality_constraints.json")))
    }
}
