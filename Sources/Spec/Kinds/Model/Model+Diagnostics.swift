import EnvironmentAPI

// Every message about models, in one place.
extension Diagnostic {
    static func runtimeAndCommand(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) has both 'runtime' and 'command'",
                   hint: "use 'runtime' + 'artifact' for a built-in runtime, or 'command' for your own server, not both")
    }
    static func unknownRuntime(_ text: String, of what: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "unknown runtime '\(printable(text))' for \(what)",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "use one of: \(ModelRuntime.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    static func environmentSetByTheHost(_ name: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'\(name)' in the environment of \(what) is set by the environment host",
                   hint: name == "SM_MODEL_DIR" ? "the host sets it to the folder holding the model's artifact; remove it"
                                                : "each instance gets its own port; remove it")
    }
    static func artifactUnusable(_ path: String, runtime: ModelRuntime, of what: String, problem: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "artifact '\(printable(path))' of \(what) cannot be served by runtime '\(runtime.rawValue)': \(printable(problem, limit: 300))",
                   hint: runtime == .xgboost ? "save the model with Booster.save_model(\"model.json\"), or name the runtime that wrote it"
                                             : "a linear artifact is JSON with 'coefficients', 'intercept' and 'objective'; or name the runtime that wrote it")
    }
    static func serverOnlyKey(_ key: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'\(key)' of \(what) only goes with a server 'command'",
                   hint: "a built-in runtime serves its artifact as it is; remove '\(key)'")
    }
}
