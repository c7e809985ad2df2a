import EnvironmentAPI
import Foundation

/// A built-in runtime's loaded model: rows of features in, `outputsPerRow` numbers out per row.
public protocol Predictor: Sendable {
    var featureCount: Int { get }
    /// 1 for regression and binary models; the class count for `multi:softprob`.
    var outputsPerRow: Int { get }
    /// Whether an empty CSV field or a JSON null is a missing value (XGBoost) or an error.
    var acceptsMissingValues: Bool { get }
    /// Predictions for `rows` (row-major, `featureCount` values each; NaN is missing).
    func predict(_ rows: [Double]) -> [Double]
    /// One line for logs: the runtime and the model's shape.
    var summary: String { get }
}

extension Predictor {
    /// A row of zeros as CSV: the probe inference a new instance must answer before it gets traffic.
    public var probeCSV: String { Array(repeating: "0", count: featureCount).joined(separator: ",") }
}

/// The built-in runtimes by name.
public enum Runtimes {
    public static func load(_ runtime: ModelRuntime, path: String) throws -> any Predictor {
        switch runtime {
        case .linear: return try LinearModel.load(path: path)
        case .xgboost: return try XGBoostModel.load(path: path)
        }
    }

    /// By name, as the `serve` subcommands take it.
    public static func load(runtime: String, path: String) throws -> any Predictor {
        guard let r = ModelRuntime(rawValue: runtime) else {
            throw LinearModel.LoadError(description: "runtime '\(runtime)' is not built in; use one of: \(ModelRuntime.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return try load(r, path: path)
    }
}
