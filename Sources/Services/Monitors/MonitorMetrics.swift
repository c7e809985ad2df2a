import Foundation
import Monitoring
import NIOConcurrencyHelpers

/// The gauges of each monitor's latest run, for `/metrics`: `feature_drift{monitor,feature}`
/// (the statistic of the feature's method), its threshold and verdict, and
/// `monitor_violations{monitor,check}`.
final class MonitorMetrics: Sendable {
    private struct Latest {
        var drift: [DriftResult]
        var violations: [String: Int]
        var quality: [(String, Double, QualityConstraint?)]
    }

    private let latest = NIOLockedValueBox<[String: Latest]>([:])

    func record(monitor: String, drift: [DriftResult], violations: [Violation], quality: [(String, Double, QualityConstraint?)] = []) {
        var counts: [String: Int] = [:]
        let checks = quality.isEmpty
            ? ["data_type_check", "completeness_check", "baseline_drift_check", "missing_column_check", "extra_column_check", "categorical_values_check"]
            : ["LessThanThreshold", "GreaterThanThreshold"]
        for check in checks { counts[check] = 0 }
        for v in violations { counts[v.constraint_check_type, default: 0] += 1 }
        latest.withLockedValue { $0[monitor] = Latest(drift: drift, violations: counts, quality: quality) }
    }

    func remove(monitor: String) { latest.withLockedValue { _ = $0.removeValue(forKey: monitor) } }

    func prometheus(escape: (String) -> String) -> String {
        let all = latest.withLockedValue { $0 }
        guard !all.isEmpty else { return "" }
        var out = ""
        func family(_ name: String, _ help: String) { out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n" }
        let names = all.keys.sorted()
        family("feature_drift", "The drift statistic of a feature in the monitor's latest run (a p-value for ks and chi_square, a distance otherwise).")
        for m in names {
            for d in all[m]!.drift { out += "feature_drift{monitor=\"\(escape(m))\",feature=\"\(escape(d.feature))\",method=\"\(d.method.rawValue)\"} \(d.statistic)\n" }
        }
        family("feature_drift_threshold", "The threshold the feature's drift statistic is compared with.")
        for m in names {
            for d in all[m]!.drift { out += "feature_drift_threshold{monitor=\"\(escape(m))\",feature=\"\(escape(d.feature))\"} \(d.threshold)\n" }
        }
        family("feature_drift_detected", "1 when the feature drifted in the monitor's latest run.")
        for m in names {
            for d in all[m]!.drift { out += "feature_drift_detected{monitor=\"\(escape(m))\",feature=\"\(escape(d.feature))\"} \(d.drifted ? 1 : 0)\n" }
        }
        family("model_quality", "A model-quality metric of the monitor's latest run (accuracy, f1, auc, mae, rmse, r2, ...).")
        for m in names {
            for (metric, value, _) in all[m]!.quality where value.isFinite { out += "model_quality{monitor=\"\(escape(m))\",metric=\"\(metric)\"} \(value)\n" }
        }
        family("model_quality_threshold", "The baseline constraint's threshold of a model-quality metric.")
        for m in names {
            for (metric, _, c) in all[m]!.quality { if let c { out += "model_quality_threshold{monitor=\"\(escape(m))\",metric=\"\(metric)\"} \(c.threshold)\n" } }
        }
        family("monitor_violations", "Constraint violations of the monitor's latest run, by check type.")
        for m in names {
            for (check, n) in all[m]!.violations.sorted(by: { $0.key < $1.key }) { out += "monitor_violations{monitor=\"\(escape(m))\",check=\"\(check)\"} \(n)\n" }
        }
        return out
    }
}
