import EnvironmentAPI

// Every message about monitors, in one place.
extension Diagnostic {
    static func monitorWithoutCapture(_ monitor: String, endpoint: String, mode: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "monitor '\(monitor)' reads endpoint '\(endpoint)''s captured \(mode)s, but the endpoint does not capture its \(mode)",
                   hint: "add 'data_capture: {sample_percent: 100, capture: [input, output]}' to endpoints.\(endpoint)")
    }
    static func onlyForQuality(_ key: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'\(key)' of \(what) only goes with 'type: model_quality'", hint: "remove it, or make the monitor a model_quality monitor")
    }
    static func onlyForDataQuality(_ key: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'\(key)' of \(what) only goes with 'type: data_quality'", hint: "a model_quality monitor compares metrics with its baseline's constraints")
    }
    static func unknownProblemType(_ text: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "unknown problem type '\(printable(text))' for \(what)", hint: "use binary_classification, multiclass_classification or regression")
    }
    static func monitorUnknownVariant(_ variant: String, monitor: String, endpoint: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "monitor '\(monitor)' names variant '\(printable(variant))', which endpoint '\(endpoint)' does not have",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "name one of the endpoint's variants, or leave 'variant' out to read them all")
    }
    static func monitorCheckTypeNotBuilt(_ type: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) asks for check type '\(printable(type))', which this version does not run",
                   hint: "use 'type: data_quality' (drift and constraints of captured inputs) or 'type: model_quality' (captured answers against ground truth)")
    }
    static func unknownCheckType(_ type: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "unknown check type '\(printable(type))' for \(what)", hint: "use data_quality or model_quality")
    }
    static func unknownDriftMethod(_ method: String, of what: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "unknown drift method '\(printable(method))' for \(what)",
                   hint: (suggestion.map { "did you mean '\($0)'? " } ?? "") + "use ks, chi_square, z_test, wasserstein, jensen_shannon, psi or l_infinity")
    }
    static func unknownFeatureType(_ type: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "unknown feature type '\(printable(type))' for \(what)", hint: "use Integral, Fractional or String (Model Monitor's inferred types)")
    }
    static func methodNeedsBaselineRows(_ method: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) compares with '\(method)', which needs the baseline's rows, but the baseline is a statistics file",
                   hint: "give 'baseline: {csv: training.csv}', or use l_infinity, jensen_shannon or psi (they work from the statistics file's buckets)")
    }
    static func baselineBothForms(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "the baseline of \(what) names both a CSV and statistics files",
                   hint: "give 'csv:' (profiled at apply) or 'statistics:' with 'constraints:', not both")
    }
    static func baselineIncomplete(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "the baseline of \(what) is incomplete",
                   hint: "give 'csv:', or the files Model Monitor writes ('statistics:' with 'constraints:'; a model_quality monitor needs only 'constraints:')")
    }
    static func badBaselineCSV(_ message: String, hint: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "baseline CSV: \(message)", hint: hint)
    }
    static func monitorFeatureNotInBaseline(_ feature: String, of what: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) configures feature '\(printable(feature))', which is not a column of its baseline",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "the baseline CSV's header names the features")
    }
}
