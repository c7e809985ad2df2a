// Every message about endpoints and their variants, in one place.
extension Diagnostic {
    static func unknownModel(_ model: String, variant: String, endpoint: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "variant '\(variant)' of endpoint '\(endpoint)' names undeclared model '\(printable(model))'",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "declare it under 'models:', or fix the name")
    }
    static func weightsAllZero(endpoint: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "every variant weight of endpoint '\(endpoint)' is 0, so no variant can receive traffic",
                   hint: "give at least one variant a positive 'weight' (shares are weight / sum of weights)")
    }
    static func onlyShadows(endpoint: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "every variant of endpoint '\(endpoint)' is a shadow, so no variant can answer callers",
                   hint: "give the endpoint at least one production variant (one without 'shadow')")
    }
    static func multiModelWithVariants(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) has both 'multi_model' and 'variants'",
                   hint: "a multi-model endpoint serves every artifact of its folder; drop 'variants', or drop 'multi_model'")
    }
    static func instancesOnEndpoint(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'instances' on \(what) belongs to a multi-model endpoint", hint: "set 'instances' on each variant instead")
    }
    static func noVariants(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) has no variants", hint: "add at least one variant with a model")
    }
    static func severalRollouts(_ what: String, names: [String], at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) rolls out more than one variant ('\(names.joined(separator: "', '"))')", hint: "roll out one variant at a time")
    }
    static func rolloutAlone(_ variant: String, endpoint what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "variant '\(variant)' of \(what) rolls out, but there is no other production variant to take traffic from",
                   hint: "keep the current variant beside the one rolling out")
    }
    static func shadowWithWeight(_ variant: String, endpoint: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "shadow variant '\(variant)' of endpoint '\(endpoint)' takes no 'weight'",
                   hint: "a shadow receives a copy of 'shadow.sample_percent' of the requests; remove 'weight'")
    }
    static func shadowRollout(_ variant: String, endpoint: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "shadow variant '\(variant)' of endpoint '\(endpoint)' cannot roll out", hint: "remove 'rollout' or 'shadow'")
    }
    static func rolloutWithWeight(_ variant: String, endpoint: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "variant '\(variant)' of endpoint '\(endpoint)' rolls out, so its share follows 'rollout.steps', not 'weight'",
                   hint: "remove 'weight'")
    }
    static func stepsMustRise(_ context: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'steps' of \(context) must rise, each above 0 and at most 100", hint: "for example steps: [10, 25, 50, 100]")
    }
    static func unknownTrafficPolicy(_ text: String, of context: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'on_too_little_traffic' of \(context) is '\(printable(text))'",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "use roll_back, halt or stay")
    }
    static func unknownCaptureMode(_ mode: String, context: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "unknown capture mode '\(printable(mode))' in \(context)", hint: "use input, output or both")
    }
    static func runtimeAndServer(_ context: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(context) has both 'runtime' and 'server'",
                   hint: "use 'runtime' for the built-in multi-model server, or 'server' to name your own")
    }
    static func unknownMultiModelServer(_ server: String, context: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(context) names undeclared model '\(printable(server))' as its server",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "declare a model with a 'command' under 'models:'")
    }
    static func multiModelServerWithoutCommand(_ server: String, endpoint: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "model '\(server)' serving multi-model endpoint '\(endpoint)' has no 'command'",
                   hint: "a built-in runtime serves a folder with 'runtime:' instead of 'server:'")
    }
}
