import EnvironmentAPI
import Foundation

/// A run's report: one self-contained HTML page (inline CSS and SVG, no script, no network) with
/// the run's verdict, its violations, and per feature the baseline-vs-window histogram, the
/// statistic, the threshold, the verdict and the statistic's trend over past runs.
public enum Report {
    public static func html(monitor: String, summary: MonitorRunSummary, violations: [Violation], drift: [DriftResult],
                            history: [(String, [DriftResult])], quality: [(String, Double, QualityConstraint?)] = [],
                            qualityHistory: [(String, [String: Double])] = []) -> String {
        var h = """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>monitor \(esc(monitor)) \(esc(summary.id))</title>
        <style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}
        .drift{color:#b00020;font-weight:600}.ok{color:#1b5e20}.feature{margin:18px 0;padding:12px;border:1px solid #e0e0e0;border-radius:6px}
        .legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}</style></head><body>
        <h1>Monitor \(esc(monitor))</h1>
        <p>Run <b>\(esc(summary.id))</b>: <b class="\(summary.status == "Completed" ? "ok" : "drift")">\(esc(summary.status))</b>.
        Window \(CivilDate.iso(summary.windowStart)) to \(CivilDate.iso(summary.windowEnd)): \(summary.records) captured records, \(summary.rows) rows read.
        \(summary.message.map { esc($0) } ?? "")</p>
        """
        h += "<h2>Violations (\(violations.count))</h2>"
        if violations.isEmpty { h += "<p>None.</p>" } else {
            h += "<table><tr><th>\(quality.isEmpty ? "feature" : "metric")</th><th>check</th><th>description</th></tr>"
            for v in violations {
                h += "<tr><td>\(esc(v.metric_name ?? v.feature_name))</td><td>\(esc(v.constraint_check_type))</td><td>\(esc(v.description))</td></tr>"
            }
            h += "</table>"
        }
        if !quality.isEmpty {
            h += "<h2>Model quality</h2><table><tr><th>metric</th><th>value</th><th>constraint</th><th>verdict</th></tr>"
            for (name, value, constraint) in quality {
                let bad = constraint.map { value.isFinite && $0.violated(by: value) } ?? false
                h += "<tr><td>\(esc(name))</td><td>\(num(value))</td><td>\(constraint.map { "\($0.comparison) \(num($0.threshold))" } ?? "-")</td>"
                h += bad ? "<td class=\"drift\">violated</td></tr>" : "<td class=\"ok\">ok</td></tr>"
            }
            h += "</table>"
            for (name, _, constraint) in quality {
                let trend = qualityHistory.compactMap { run in run.1[name].map { (run.0, $0) } }
                if trend.count > 1 { h += "<h3>\(esc(name))</h3><p>Trend over the last \(trend.count) runs:</p>" + line(trend, threshold: constraint?.threshold ?? 0) }
            }
        }
        if !drift.isEmpty { h += "<h2>Drift per feature</h2><table><tr><th>feature</th><th>method</th><th>statistic</th><th>threshold</th><th>verdict</th></tr>"
        for d in drift {
            h += "<tr><td>\(esc(d.feature))</td><td>\(d.method.rawValue)</td><td>\(num(d.statistic))</td><td>\(num(d.threshold))</td>"
            h += d.drifted ? "<td class=\"drift\">drift</td></tr>" : "<td class=\"ok\">no drift</td></tr>"
        }
        h += "</table>" }
        for d in drift {
            h += "<div class=\"feature\" id=\"feature-\(esc(d.feature))\"><h3>\(esc(d.feature))</h3>"
            h += "<p>\(d.method.rawValue) \(d.method.isPValue ? "p-value" : "statistic") <b>\(num(d.statistic))</b>, threshold \(num(d.threshold)): "
            h += d.drifted ? "<span class=\"drift\">drift</span></p>" : "<span class=\"ok\">no drift</span></p>"
            h += "<p class=\"legend\"><span style=\"background:#90a4ae\"></span>baseline<span style=\"background:#ef6c00\"></span>window</p>"
            h += histogram(d)
            let trend = history.compactMap { run in run.1.first(where: { $0.feature == d.feature }).map { (run.0, $0.statistic) } }
            if trend.count > 1 { h += "<p>Trend over the last \(trend.count) runs:</p>" + line(trend, threshold: d.threshold) }
            h += "</div>"
        }
        h += "</body></html>\n"
        return h
    }

    static func esc(_ s: String) -> String { HTMLText.escape(s) }

    static func num(_ x: Double) -> String { Evaluation.fmt(x) }

    /// Paired bars per bin: baseline share and window share.
    static func histogram(_ d: DriftResult) -> String {
        let n = max(d.bins.count, 1)
        let width = 640.0, height = 160.0
        let top = max(d.baselineShares.max() ?? 0, d.windowShares.max() ?? 0, 1e-9)
        let slot = width / Double(n)
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height + 20))\" role=\"img\" aria-label=\"histogram of \(esc(d.feature))\">"
        for i in 0..<d.bins.count {
            let x = Double(i) * slot
            let hb = d.baselineShares[i] / top * height, hw = d.windowShares[i] / top * height
            s += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#90a4ae\"><title>%@ baseline %.4f</title></rect>",
                        x + 1, height - hb, slot / 2 - 1, hb, esc(d.bins[i]), d.baselineShares[i])
            s += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#ef6c00\"><title>%@ window %.4f</title></rect>",
                        x + slot / 2, height - hw, slot / 2 - 1, hw, esc(d.bins[i]), d.windowShares[i])
        }
        if let first = d.bins.first, let last = d.bins.last {
            s += "<text x=\"0\" y=\"\(Int(height + 15))\" font-size=\"11\">\(esc(first))</text>"
            s += "<text x=\"\(Int(width))\" y=\"\(Int(height + 15))\" font-size=\"11\" text-anchor=\"end\">\(esc(last))</text>"
        }
        return s + "</svg>"
    }

    /// The statistic per run, with the threshold as a dashed line.
    static func line(_ points: [(String, Double)], threshold: Double) -> String {
        let width = 640.0, height = 100.0
        let top = max(points.map(\.1).max() ?? 0, threshold) * 1.1
        func y(_ v: Double) -> Double { height - (top > 0 ? v / top * height : 0) }
        let step = width / Double(max(points.count - 1, 1))
        let path = points.enumerated().map { String(format: "%.1f,%.1f", Double($0.offset) * step, y($0.element.1)) }.joined(separator: " ")
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"trend\">"
        s += String(format: "<line x1=\"0\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#b00020\" stroke-dasharray=\"4 3\"/>", width, y(threshold), y(threshold))
        s += "<polyline fill=\"none\" stroke=\"#1565c0\" stroke-width=\"2\" points=\"\(path)\"/>"
        for (i, p) in points.enumerated() {
            s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#1565c0\"><title>%@: %@</title></circle>", Double(i) * step, y(p.1), esc(p.0), num(p.1))
        }
        return s + "</svg>"
    }
}
