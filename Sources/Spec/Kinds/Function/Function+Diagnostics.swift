// Every message about functions, in one place.
extension Diagnostic {
    static func codeNotAFolder(_ path: String, resolved: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'code' of \(what) names '\(printable(path))', which is not a folder (looked at \(resolved))",
                   hint: "name the folder holding the function's code, relative to the stack file")
    }
    static func functionRuntimeAndCommand(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) has both 'runtime' and 'command'",
                   hint: "use 'runtime' + 'handler' for the bundled Python runtime, or 'command' for your own runtime client, not both")
    }
    static func unknownFunctionRuntime(_ text: String, of what: String, suggestion: String?, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "unknown runtime '\(printable(text))' for \(what)",
                   hint: suggestion.map { "did you mean '\($0)'?" } ?? "use runtime: python3, or run your own runtime client with 'command'")
    }
    static func handlerNotFileFunction(_ handler: String, of what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'handler' of \(what) is '\(printable(handler))', not FILE.FUNCTION",
                   hint: "write the file's path without '.py', a dot, and the function's name: 'app/score.handler'")
    }
    static func handlerWithCommand(_ what: String, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "'handler' of \(what) only goes with 'runtime'",
                   hint: "pass the handler to your runtime client in 'command', as awslambdaric takes it")
    }
    static func provisionedAboveReserved(_ what: String, provisioned: Int, reserved: Int, at loc: SourceLocation?) -> Diagnostic {
        Diagnostic(at: loc, "\(what) provisions \(provisioned) workers but reserves only \(reserved)",
                   hint: "raise 'reserved_concurrency' to at least \(provisioned), or provision fewer")
    }
}
