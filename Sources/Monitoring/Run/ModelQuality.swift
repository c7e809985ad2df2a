import Events
import Foundation

/// Model quality (Model Monitor's model-quality job): the endpoint's captured answers joined with
/// ground truth uploaded in SageMaker's merge format, the metrics of the problem type, and the
/// comparison with the baseline's constraints.
public enum ProblemType: String, Sendable, Codable, CaseIterable {
    case binaryClassification = "binary_classification"
    case multiclassClassification = "multiclass_classification"
    case regression

    /// The analyzer's section names: `binary_classification_metrics`, `..._constraints`.
    var section: String { rawValue }

    /// Each metric and whether lower values are worse (the constraint's comparison operator).
    public var metrics: [(name: String, lowerIsWorse: Bool)] {
        switch self {
        case .binaryClassification:
            return [("accuracy", true), ("precision", true), ("recall", true), ("f1", true), ("auc", true)]
        case .multiclassClassification:
            return [("accuracy", true), ("weighted_f1", true)]
        case .regression:
            return [("mae", false), ("mse", false), ("rmse", false), ("r2", true)]
        }
    }
}

public enum QualityMetrics {
    /// Binary metrics of labels (0/1) and scores (probabilities of 1); predictions are scores at
    /// or above `threshold`.
    public static func binary(labels: [Double], scores: [Double], threshold: Double) -> [String: Double] {
        var tp = 0.0, fp = 0.0, tn = 0.0, fn = 0.0
        for (y, s) in zip(labels, scores) {
            let p = s >= threshold
            switch (y == 1, p) {
            case (true, true): tp += 1
            case (false, true): fp += 1
            case (false, false): tn += 1
            case (true, false): fn += 1
            }
        }
        let n = tp + fp + tn + fn
        let precision = tp + fp > 0 ? tp / (tp + fp) : 0
        let recall = tp + fn > 0 ? tp / (tp + fn) : 0
        let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
        return ["accuracy": n > 0 ? (tp + tn) / n : .nan, "precision": precision, "recall": recall, "f1": f1, "auc": auc(labels: labels, scores: scores)]
    }

    /// The area under the ROC curve by ranks (ties share their average rank): the Mann–Whitney
    /// statistic over positives × negatives, as `sklearn.metrics.roc_auc_score` computes it.
    public static func auc(labels: [Double], scores: [Double]) -> Double {
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var ranks = [Double](repeating: 0, count: scores.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j { ranks[order[k]] = rank }
            i = j + 1
        }
        let positives = labels.filter { $0 == 1 }.count
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return .nan }
        var sum = 0.0
        for (k, y) in labels.enumerated() where y == 1 { sum += ranks[k] }
        return (sum - Double(positives) * Double(positives + 1) / 2) / (Double(positives) * Double(negatives))
    }

    /// Accuracy and the F1 score averaged over classes weighted by their support.
    public static func multiclass(labels: [String], predictions: [String]) -> [String: Double] {
        var support: [String: Double] = [:], tp: [String: Double] = [:], predicted: [String: Double] = [:]
        var correct = 0.0
        for (y, p) in zip(labels, predictions) {
            support[y, default: 0] += 1
            predicted[p, default: 0] += 1
            if y == p {
                tp[y, default: 0] += 1
                correct += 1
            }
        }
        var weighted = 0.0
        for (c, s) in support {
            let t = tp[c] ?? 0
            let precision = (predicted[c] ?? 0) > 0 ? t / predicted[c]! : 0
            let recall = t / s
            let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            weighted += f1 * s
        }
        let n = Double(labels.count)
        return ["accuracy": n > 0 ? correct / n : .nan, "weighted_f1": n > 0 ? weighted / n : .nan]
    }

    public static func regression(labels: [Double], predictions: [Double]) -> [String: Double] {
        let n = Double(labels.count)
        guard n > 0 else { return ["mae": .nan, "mse": .nan, "rmse": .nan, "r2": .nan] }
        var ae = 0.0, se = 0.0, mean = 0.0
        for y in labels { mean += y }
        mean /= n
        var total = 0.0
        for (y, p) in zip(labels, predictions) {
            ae += abs(y - p)
            se += (y - p) * (y - p)
            total += (y - mean) * (y - mean)
        }
        return ["mae": ae / n, "mse": se / n, "rmse": (se / n).squareRoot(), "r2": total > 0 ? 1 - se / total : .nan]
    }

    /// The metrics of `problem` over label/answer pairs (answers as captured: a score, a class or a value).
    public static func compute(_ problem: ProblemType, labels: [String], answers: [String], threshold: Double) -> [String: Double] {
        switch problem {
        case .binaryClassification:
            return binary(labels: labels.map { Double($0) ?? .nan }, scores: answers.map { Double($0) ?? .nan }, threshold: threshold)
        case .multiclassClassification:
            return multiclass(labels: labels, predictions: answers)
        case .regression:
            return regression(labels: labels.map { Double($0) ?? .nan }, predictions: answers.map { Double($0) ?? .nan })
        }
    }

    /// `statistics.json` of a model-quality job.
    public static func statistics(_ problem: ProblemType, _ metrics: [String: Double], itemCount: Int) -> JSONValue {
        .object([
            .init("version", JacksonJSON.double(0)), .init("dataset", .object([.init("item_count", JacksonJSON.integer(itemCount))])),
            .init(problem.section + "_metrics", .object(problem.metrics.map { m in
                .init(m.name, .object([.init("value", JacksonJSON.double(metrics[m.name] ?? .nan)), .init("standard_deviation", JacksonJSON.double(.nan))]))
            })),
        ])
    }

    /// `constraints.json` suggested from a baseline's metrics: each metric may not get worse than
    /// the baseline's value (the analyzer's suggestion, as the conformance files show).
    public static func constraints(_ problem: ProblemType, _ metrics: [String: Double]) -> JSONValue {
        .object([
            .init("version", JacksonJSON.double(0)),
            .init(problem.section + "_constraints", .object(problem.metrics.compactMap { m in
                guard let v = metrics[m.name], v.isFinite else { return nil }
                return .init(m.name, .object([.init("threshold", JacksonJSON.double(v)),
                                              .init("comparison_operator", .string(m.lowerIsWorse ? "LessThanThreshold" : "GreaterThanThreshold"))]))
            })),
        ])
    }
}

/// A metric's constraint: the threshold and the side that is a violation.
public struct QualityConstraint: Sendable, Equatable, Codable {
    public var threshold: Double
    /// `LessThanThreshold` or `GreaterThanThreshold`.
    public var comparison: String

    public func violated(by value: Double) -> Bool {
        comparison == "LessThanThreshold" ? value < threshold : value > threshold
    }
}

/// The model-quality side of a baseline: the metrics' constraints.
public struct QualityBaseline: Sendable {
    public var problem: ProblemType
    public var constraints: [String: QualityConstraint]
    public var itemCount: Int

    /// From a labelled CSV: the `label` column and the `answer` column (the model's score, class or value).
    public static func fromCSV(path: String, problem: ProblemType, label: String, answer: String, threshold: Double)
        throws(BaselineError) -> (QualityBaseline, statistics: JSONValue, constraints: JSONValue) {
        let dataset = try BaselineCSV.read(path: path, types: [label: .string, answer: .string])
        guard let li = dataset.columns.firstIndex(where: { $0.name == label }) else {
            throw BaselineError(path: path, line: 1, column: 1, message: "the header has no column '\(label)'", hint: "name the ground-truth column with 'label:'")
        }
        guard let ai = dataset.columns.firstIndex(where: { $0.name == answer }) else {
            throw BaselineError(path: path, line: 1, column: 1, message: "the header has no column '\(answer)'", hint: "name the model's answer column with 'prediction:'")
        }
        // Categories lose the row order; read the two columns again as rows.
        let (labels, answers) = try pairs(path: path, li, ai)
        let metrics = QualityMetrics.compute(problem, labels: labels, answers: answers, threshold: threshold)
        let constraints = QualityMetrics.constraints(problem, metrics)
        var out: [String: QualityConstraint] = [:]
        for m in problem.metrics {
            if let v = metrics[m.name], v.isFinite { out[m.name] = QualityConstraint(threshold: v, comparison: m.lowerIsWorse ? "LessThanThreshold" : "GreaterThanThreshold") }
        }
        return (QualityBaseline(problem: problem, constraints: out, itemCount: dataset.rows),
                QualityMetrics.statistics(problem, metrics, itemCount: dataset.rows), constraints)
    }

    static func pairs(path: String, _ li: Int, _ ai: Int) throws(BaselineError) -> ([String], [String]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BaselineError(path: path, line: 0, column: 0, message: "cannot read the baseline file", hint: "")
        }
        var labels: [String] = [], answers: [String] = []
        data.withUnsafeBytes { raw in
            let b = raw.bindMemory(to: UInt8.self)
            var scratch: [UInt8] = []
            var cells: [Range<Int>] = []
            for (k, r) in BaselineCSV.lines(b).enumerated() where k > 0 && !r.isEmpty {
                CSV.split(UnsafeBufferPointer(rebasing: b[r]), into: &cells, scratch: &scratch)
                guard cells.count > max(li, ai) else { continue }
                labels.append(String(decoding: scratch[cells[li]], as: UTF8.self))
                answers.append(String(decoding: scratch[cells[ai]], as: UTF8.self))
            }
        }
        return (labels, answers)
    }

    /// From a constraints file as the analyzer writes it (`regression_constraints`, ...).
    public static func fromConstraints(path: String, problem: ProblemType) throws(BaselineError) -> QualityBaseline {
        guard let data = FileManager.default.contents(atPath: path),
              let json = try? JSONParser.parse(String(decoding: data, as: UTF8.self)) else {
            throw BaselineError(path: path, line: 0, column: 0, message: "cannot read the constraints file as JSON", hint: "a constraints.json of a model-quality job")
        }
        guard case .object(let members)? = json[problem.section + "_constraints"] else {
            throw BaselineError(path: path, line: 0, column: 0, message: "no '\(problem.section)_constraints'", hint: "the file's problem type must be the monitor's")
        }
        var out: [String: QualityConstraint] = [:]
        for m in members {
            if case .number(let t, _)? = m.value["threshold"], let op = m.value["comparison_operator"]?.stringValue {
                out[m.key] = QualityConstraint(threshold: t, comparison: op)
            }
        }
        return QualityBaseline(problem: problem, constraints: out, itemCount: 0)
    }
}

/// Ground truth in SageMaker's merge format: one JSON object a line,
/// `{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "..."}, "eventVersion": "0"}`,
/// keyed by the captured record's `inferenceId` (or its `eventId`).
public enum GroundTruth {
    public struct Read: Sendable {
        public var labels: [String: String] = [:]
        public var malformed = 0
    }

    public static func read(folder: String) -> Read {
        var out = Read()
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return out }
        var files: [String] = []
        while let p = walker.nextObject() as? String {
            if p.hasSuffix(".jsonl") || p.hasSuffix(".json") { files.append(folder + "/" + p) }
        }
        for f in files.sorted() {
            guard let data = FileManager.default.contents(atPath: f) else { continue }
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                guard let v = try? JSONParser.parse(String(line)), let id = v["eventMetadata"]?["eventId"]?.stringValue,
                      let label = v["groundTruthData"]?["data"]?.stringValue else {
                    out.malformed += 1
                    continue
                }
                out.labels[id] = label.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        return out
    }
}
