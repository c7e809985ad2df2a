import EnvironmentAPI
import Yams

/// One stack file's text. `path` is how messages name it (as the user typed it);
/// `absolutePath` anchors relative paths inside it.
public struct StackSource: Sendable, Equatable {
    public var path: String
    public var absolutePath: String
    public var text: String

    public init(path: String, absolutePath: String, text: String) {
        self.path = path
        self.absolutePath = absolutePath
        self.text = text
    }
}

/// Turns stack files into a validated `Stack`, collecting every problem as a `Diagnostic`.
/// Several files merge into one stack; a name defined twice is an error naming both places.
public enum StackLoader {
    static let topLevelKeys = ["stack", "description", "variables", "outputs", "local", "gateway"]
        + ResourceKind.allCases.filter { $0.section.count == 1 }.map(\.rawValue)

    /// Attributes a `${kind.name.attribute}` reference may read, by kind.
    public static let referenceableAttributes: [ResourceKind: [String]] = [
        .model: ["name", "runtime", "artifact", "artifact_sha256"],
        .endpoint: ["name", "url"],
        .function: ["name", "arn"],
        .stage: ["name", "url"],
        .apiKey: ["name"],
        .usagePlan: ["name"],
    ]

    public static func load(_ sources: [StackSource], variables inputs: VariableInputs = VariableInputs(),
                            environment: String = "default", files: any SpecFileSystem) -> (Stack?, Diagnostics) {
        var diagnostics = Diagnostics()
        var parsed: [(source: StackSource, entries: [String: Entry])] = []
        for source in sources {
            var reader = NodeReader(file: source.path)
            do {
                // The basic resolver skips Yams' per-scalar regular expressions (a third of load
                // time); NodeReader parses numbers and booleans itself.
                guard let root = try Yams.compose(yaml: source.text, Resolver.basic) else { continue }
                if let entries = reader.mapping(root, what: "the top level of a stack file") {
                    let known = reader.checkKeys(entries, allowed: topLevelKeys, context: "the stack", rejectingLater: ResourceKind.notYetSupported)
                    parsed.append((source, known))
                }
            } catch let error as YamlError {
                diagnostics.append(yamlDiagnostic(error, file: source.path))
            } catch {
                diagnostics.append(.yamlSyntax("\(error)", at: SourceLocation(file: source.path, line: 1, column: 1)))
            }
            diagnostics.append(contentsOf: reader.diagnostics)
        }

        // The stack's name and description.
        var name: String?
        var nameLocation: SourceLocation?
        var description: String?
        var local = LocalSettings()
        for (source, entries) in parsed {
            var reader = NodeReader(file: source.path)
            if let e = entries["stack"], let text = reader.literalString(e.value, what: "'stack'") {
                if let name, name != text {
                    reader.error(Diagnostic(at: reader.location(e.value), "stack name '\(text)' differs from '\(name)' given at \(nameLocation?.description ?? "another file")",
                                            hint: "every file of one stack must use the same 'stack:' name"))
                } else if !isValidStackName(text) {
                    reader.error(Diagnostic(at: reader.location(e.value), "stack name '\(text)' is invalid",
                                            hint: "use lowercase letters, digits, '-' and '_' (it names folders)"))
                } else {
                    name = text
                    nameLocation = reader.location(e.value)
                }
            }
            if let e = entries["description"] { description = reader.literalString(e.value, what: "'description'") }
            if let e = entries["local"] { readLocal(e.value, into: &local, reader: &reader) }
            diagnostics.append(contentsOf: reader.diagnostics)
        }
        if name == nil, let first = sources.first, !diagnostics.hasErrors {
            diagnostics.append(Diagnostic(at: SourceLocation(file: first.path, line: 1, column: 1), "the stack has no name",
                                          hint: "add 'stack: my-stack' at the top of the file"))
        }

        // Variables: declarations from every file, then values by precedence.
        var declarations: [String: VariableDeclaration] = [:]
        for (source, entries) in parsed {
            guard let section = entries["variables"] else { continue }
            var reader = NodeReader(file: source.path)
            for entry in reader.mapping(section.value, what: "'variables'") ?? [] {
                if let existing = declarations[entry.key] {
                    reader.error(.duplicateResource("var.\(entry.key)", first: existing.location, at: entry.keyLocation))
                    continue
                }
                if var d = VariableDeclaration.read(name: entry.key, node: entry.value, reader: &reader) {
                    d.location = entry.keyLocation
                    declarations[entry.key] = d
                }
            }
            diagnostics.append(contentsOf: reader.diagnostics)
        }
        var variables: [String: ResolvedVariable] = [:]
        for given in Set(inputs.assignments.keys).union(inputs.fileValues.keys).sorted() where declarations[given] == nil {
            diagnostics.append(.variableUndeclared(given, suggestion: suggestion(for: given, among: declarations.keys)))
        }
        for (varName, d) in declarations.sorted(by: { $0.key < $1.key }) {
            var text: String?, at: SourceLocation? = d.location
            if let v = inputs.assignments[varName] { text = v }
            else if let (v, loc) = inputs.fileValues[varName] { text = v; at = loc ?? at }
            else if let env = d.fromEnv, let v = inputs.environment[env] { text = v }
            if let text {
                if let value = d.convert(text) {
                    variables[varName] = ResolvedVariable(declaration: d, value: value)
                } else {
                    diagnostics.append(.variableBadValue(varName, type: d.type.rawValue, value: d.sensitive ? "(sensitive)" : text, at: at))
                }
            } else if let value = d.defaultValue {
                variables[varName] = ResolvedVariable(declaration: d, value: value)
            } else {
                var missing = Diagnostic.variableMissing(varName, at: d.location)
                if let env = d.fromEnv { missing.hint = "set the environment variable \(env), or pass --var \(varName)=VALUE" }
                diagnostics.append(missing)
            }
        }

        // Resource declarations across files, checking for duplicates.
        var declared: [ResourceAddress: (source: StackSource, entry: Entry)] = [:]
        var order: [ResourceAddress] = []
        // The gateway's parts: its own mapping, read once per file.
        var gatewayEntries: [String: [String: Entry]] = [:]
        for (source, entries) in parsed {
            guard let g = entries["gateway"] else { continue }
            var reader = NodeReader(file: source.path)
            if let list = reader.mapping(g.value, what: "'gateway'") {
                gatewayEntries[source.path] = reader.checkKeys(list, allowed: Gateway.sections, context: "'gateway'")
            }
            diagnostics.append(contentsOf: reader.diagnostics)
        }
        func section(_ kind: ResourceKind, _ source: StackSource, _ entries: [String: Entry]) -> Entry? {
            kind.section.count == 1 ? entries[kind.rawValue] : gatewayEntries[source.path]?[kind.section[1]]
        }
        for (source, entries) in parsed {
            var reader = NodeReader(file: source.path)
            for kind in ResourceKind.allCases {
                guard let section = section(kind, source, entries) else { continue }
                for entry in reader.mapping(section.value, what: "'\(kind.section.joined(separator: "."))'") ?? [] {
                    let address = ResourceAddress(kind, entry.key)
                    if let first = declared[address] {
                        reader.error(.duplicateResource(address.description, first: first.entry.keyLocation, at: entry.keyLocation))
                        continue
                    }
                    if !isValidName(entry.key) { reader.error(.invalidName(entry.key, what: kind.singular, at: entry.keyLocation)) }
                    declared[address] = (source, entry)
                    order.append(address)
                }
            }
            diagnostics.append(contentsOf: reader.diagnostics)
        }

        let stackName = name ?? ""
        let resolve: ([String]) -> Resolution = { path in
            resolveAtLoad(path, stack: stackName, environment: environment, variables: variables,
                          declarations: declarations, declared: Set(declared.keys))
        }

        // Models first: endpoints need their artifact hashes.
        var models: [String: Model] = [:]
        var resources: [ResourceSpec] = []
        for address in order where address.kind == .model {
            let (source, entry) = declared[address]!
            var reader = NodeReader(file: source.path)
            if var m = Model.read(name: address.name, node: entry.value, stackDirectory: PathMath.directory(of: source.absolutePath),
                                  reader: &reader, files: files, resolve: resolve) {
                m.location = entry.keyLocation
                models[m.name] = m
                resources.append(ResourceSpec(.model(m), attributes: m.attributes))
            }
            diagnostics.append(contentsOf: reader.diagnostics)
        }
        let modelHashes = models.mapValues(\.contentSHA256)
        let modelNames = declared.keys.filter { $0.kind == .model }.map(\.name)
        for address in order where address.kind == .endpoint {
            let (source, entry) = declared[address]!
            var reader = NodeReader(file: source.path)
            if var e = Endpoint.read(name: address.name, node: entry.value, stackDirectory: PathMath.directory(of: source.absolutePath),
                                     files: files, reader: &reader, resolve: resolve) {
                e.location = entry.keyLocation
                if let server = e.multiModel?.server {
                    if declared[ResourceAddress(.model, server)] == nil {
                        reader.error(Diagnostic(at: e.multiModel?.serverLocation, "multi-model endpoint '\(e.name)' names undeclared model '\(server)' as its server",
                                                hint: suggestion(for: server, among: modelNames).map { "did you mean '\($0)'?" } ?? "declare a model with a 'command' under 'models:'"))
                    } else if let m = models[server], m.command == nil {
                        reader.error(Diagnostic(at: e.multiModel?.serverLocation, "model '\(server)' serving multi-model endpoint '\(e.name)' has no 'command'",
                                                hint: "a built-in runtime serves a folder with 'runtime:' instead of 'server:'"))
                    }
                }
                for v in e.variants where declared[ResourceAddress(.model, v.model)] == nil {
                    reader.error(.unknownModel(v.model, variant: v.name, endpoint: e.name,
                                               suggestion: suggestion(for: v.model, among: modelNames), at: v.modelLocation))
                }
                resources.append(ResourceSpec(.endpoint(e), attributes: e.attributes(modelHashes: modelHashes)))
            }
            diagnostics.append(contentsOf: reader.diagnostics)
        }

        for address in order where address.kind == .function {
            let (source, entry) = declared[address]!
            var reader = NodeReader(file: source.path)
            if var f = Function.read(name: address.name, node: entry.value, stackDirectory: PathMath.directory(of: source.absolutePath),
                                     reader: &reader, files: files, resolve: resolve) {
                f.location = entry.keyLocation
                resources.append(ResourceSpec(.function(f), attributes: f.attributes))
            }
            diagnostics.append(contentsOf: reader.diagnostics)
        }
        resources += readGateway(parsed.map(\.source), gatewayEntries: gatewayEntries, declared: declared, order: order,
                                 files: files, unset: Set(declarations.keys).subtracting(variables.keys),
                                 diagnostics: &diagnostics, resolve: resolve)

        // Outputs: parsed now, evaluated after apply; every reference must resolve.
        var outputs: [Output] = []
        var outputLocations: [String: SourceLocation?] = [:]
        for (source, entries) in parsed {
            guard let section = entries["outputs"] else { continue }
            var reader = NodeReader(file: source.path)
            for entry in reader.mapping(section.value, what: "'outputs'") ?? [] {
                if let first = outputLocations[entry.key] {
                    reader.error(.duplicateResource("outputs.\(entry.key)", first: first, at: entry.keyLocation))
                    continue
                }
                outputLocations[entry.key] = entry.keyLocation
                if let o = readOutput(name: entry.key, node: entry.value, reader: &reader, resolve: resolve) { outputs.append(o) }
            }
            diagnostics.append(contentsOf: reader.diagnostics)
        }

        guard !diagnostics.hasErrors, let name else { return (nil, diagnostics) }
        let stack = Stack(
            name: name, description: description, environment: environment,
            files: sources.map { StackFile(path: $0.path, sha256: SHA256.hex(of: $0.text)) },
            variables: variables,
            resources: resources.sorted { $0.address < $1.address },
            outputs: outputs.sorted { $0.name < $1.name },
            local: local)
        return (stack, diagnostics)
    }

    /// Stages, API keys and usage plans, checked against each other and against the endpoints and
    /// functions their routes name.
    static func readGateway(_ sources: [StackSource], gatewayEntries: [String: [String: Entry]],
                            declared: [ResourceAddress: (source: StackSource, entry: Entry)], order: [ResourceAddress],
                            files: any SpecFileSystem, unset: Set<String>, diagnostics: inout Diagnostics,
                            resolve: ([String]) -> Resolution) -> [ResourceSpec] {
        var authorizers: [String: JWTAuthorizer] = [:]
        var authorizerLocations: [String: SourceLocation?] = [:]
        for source in sources {
            guard let a = gatewayEntries[source.path]?["authorizers"] else { continue }
            var reader = NodeReader(file: source.path)
            for entry in reader.mapping(a.value, what: "'gateway.authorizers'") ?? [] {
                if let first = authorizerLocations[entry.key] {
                    reader.error(.duplicateResource("gateway.authorizers.\(entry.key)", first: first, at: entry.keyLocation))
                    continue
                }
                authorizerLocations[entry.key] = entry.keyLocation
                if let j = Gateway.readAuthorizer(name: entry.key, node: entry.value, stackDirectory: PathMath.directory(of: source.absolutePath),
                                                  reader: &reader, files: files, resolve: resolve) {
                    authorizers[entry.key] = j
                }
            }
            diagnostics.append(contentsOf: reader.diagnostics)
        }
        func names(_ kind: ResourceKind) -> [String] { declared.keys.filter { $0.kind == kind }.map(\.name) }
        var resources: [ResourceSpec] = []
        for address in order {
            let (source, entry) = declared[address]!
            var reader = NodeReader(file: source.path)
            switch address.kind {
            case .stage:
                guard let stage = Gateway.readStage(name: address.name, node: entry.value, authorizers: authorizers, reader: &reader, resolve: resolve) else { break }
                for route in stage.routes {
                    switch route.integration {
                    case .endpoint(let e, _, _) where declared[ResourceAddress(.endpoint, e)] == nil:
                        reader.error(Diagnostic(at: stage.routeLocations[route.key], "route '\(route.key)' of stage '\(stage.name)' names undeclared endpoint '\(e)'",
                                                hint: suggestion(for: e, among: names(.endpoint)).map { "did you mean '\($0)'?" } ?? "declare it under 'endpoints:'"))
                    case .function(let f, _) where declared[ResourceAddress(.function, f)] == nil:
                        reader.error(Diagnostic(at: stage.routeLocations[route.key], "route '\(route.key)' of stage '\(stage.name)' names undeclared function '\(f)'",
                                                hint: suggestion(for: f, among: names(.function)).map { "did you mean '\($0)'?" } ?? "declare it under 'functions:'"))
                    default: break
                    }
                }
                var s = stage
                s.location = entry.keyLocation
                resources.append(ResourceSpec(.stage(s), attributes: s.attributes))
            case .apiKey:
                guard var key = Gateway.readAPIKey(name: address.name, node: entry.value, unset: unset, reader: &reader, resolve: resolve) else { break }
                if let plan = key.usagePlan, declared[ResourceAddress(.usagePlan, plan)] == nil {
                    reader.error(Diagnostic(at: key.location, "API key '\(key.name)' names undeclared usage plan '\(plan)'",
                                            hint: suggestion(for: plan, among: names(.usagePlan)).map { "did you mean '\($0)'?" } ?? "declare it under 'gateway.usage_plans:'"))
                }
                key.location = entry.keyLocation
                resources.append(ResourceSpec(.apiKey(key), attributes: key.attributes))
            case .usagePlan:
                guard var plan = Gateway.readUsagePlan(name: address.name, node: entry.value, reader: &reader, resolve: resolve) else { break }
                for stage in plan.stages where declared[ResourceAddress(.stage, stage)] == nil {
                    reader.error(Diagnostic(at: plan.location, "usage plan '\(plan.name)' names undeclared stage '\(stage)'",
                                            hint: suggestion(for: stage, among: names(.stage)).map { "did you mean '\($0)'?" } ?? "declare it under 'gateway.stages:'"))
                }
                plan.location = entry.keyLocation
                resources.append(ResourceSpec(.usagePlan(plan), attributes: plan.attributes))
            default:
                break
            }
            diagnostics.append(contentsOf: reader.diagnostics)
        }
        return resources
    }

    static func resolveAtLoad(_ path: [String], stack: String, environment: String, variables: [String: ResolvedVariable],
                              declarations: [String: VariableDeclaration], declared: Set<ResourceAddress>) -> Resolution {
        switch path.first {
        case "var":
            guard path.count == 2 else { return .undeclared(suggestion: nil) }
            if let v = variables[path[1]] { return .value(v.value, sensitive: v.declaration.sensitive) }
            // Declared but without a value: that error is reported once, at the declaration.
            if let d = declarations[path[1]] { return .value(.number(0), sensitive: d.sensitive) }
            return .undeclared(suggestion: suggestion(for: path[1], among: declarations.keys).map { "var.\($0)" })
        case "stack":
            return path == ["stack", "name"] ? .value(.string(stack), sensitive: false) : .undeclared(suggestion: "stack.name")
        case "environment":
            switch path.dropFirst().first {
            case "name"?: return path.count == 2 ? .value(.string(environment), sensitive: false) : .undeclared(suggestion: nil)
            case "aws_endpoint_url"?, "metrics_url"?, "gateway_url"?: return path.count == 2 ? .knownAfterApply : .undeclared(suggestion: nil)
            default: return .undeclared(suggestion: suggestion(for: path.dropFirst().first ?? "", among: ["name", "aws_endpoint_url", "metrics_url", "gateway_url"]).map { "environment.\($0)" })
            }
        default:
            guard let kindName = path.first, let kind = ResourceKind(rawValue: kindName), path.count >= 2 else {
                return .undeclared(suggestion: suggestion(for: path.first ?? "", among: ["var", "stack", "environment"] + ResourceKind.allCases.map(\.rawValue)))
            }
            let address = ResourceAddress(kind, path[1])
            guard declared.contains(address) else {
                return .undeclared(suggestion: suggestion(for: path[1], among: declared.filter { $0.kind == kind }.map(\.name)).map { "\(kind.rawValue).\($0)" })
            }
            let attributes = referenceableAttributes[kind] ?? []
            guard path.count == 3, attributes.contains(path[2]) else {
                return .undeclared(suggestion: "\(address).\(suggestion(for: path.count > 2 ? path[2] : "", among: attributes) ?? attributes.joined(separator: "|"))")
            }
            return path[2] == "name" ? .value(.string(path[1]), sensitive: false) : .knownAfterApply
        }
    }

    static func readOutput(name: String, node: Node, reader: inout NodeReader, resolve: ([String]) -> Resolution) -> Output? {
        var valueNode = node
        var description: String?
        var declaredSensitive = false
        if case .mapping = node, let entries = reader.mapping(node, what: "output '\(name)'") {
            let keys = reader.checkKeys(entries, allowed: ["value", "description", "sensitive"], context: "output '\(name)'")
            guard let v = keys["value"] else {
                reader.error(.missingKey("value", in: "output '\(name)'", at: reader.location(node), hint: "add 'value: ${endpoints.NAME.url}'"))
                return nil
            }
            valueNode = v.value
            description = keys["description"].flatMap { reader.literalString($0.value, what: "'description' of output '\(name)'") }
            declaredSensitive = keys["sensitive"].flatMap { reader.bool($0.value, what: "'sensitive' of output '\(name)'") } ?? false
        }
        guard let text = reader.literalString(valueNode, what: "output '\(name)'") else { return nil }
        do {
            let template = try Template.parse(text)
            var sensitive = declaredSensitive
            switch try template.evaluate(resolve) {
            case .value(_, let s): sensitive = sensitive || s
            case .knownAfterApply:
                // Still check every reference, and whether a sensitive variable feeds it.
                for ref in template.references {
                    if case .value(_, true) = resolve(ref) { sensitive = true }
                }
            }
            return Output(name: name, value: template, description: description, sensitive: sensitive, location: reader.location(valueNode))
        } catch {
            if let ref = error.reference {
                reader.error(.unknownReference(ref, suggestion: error.suggestion, at: reader.location(valueNode)))
            } else {
                reader.error(.expression(error.message, at: reader.location(valueNode)))
            }
            return nil
        }
    }

    static func readLocal(_ node: Node, into local: inout LocalSettings, reader: inout NodeReader) {
        guard let entries = reader.mapping(node, what: "'local'") else { return }
        let keys = reader.checkKeys(entries, allowed: ["port", "gateway_port", "health_timeout"], context: "'local'")
        let noRefs: ([String]) -> Resolution = { _ in .undeclared(suggestion: nil) }
        if let p = keys["port"], let port = reader.integer(p.value, what: "'local.port'", resolve: noRefs) {
            if (1...65535).contains(port) { local.port = port }
            else { reader.error(.outOfRange("'local.port'", value: Double(port), range: "between 1 and 65535", at: reader.location(p.value))) }
        }
        if let p = keys["gateway_port"], let port = reader.integer(p.value, what: "'local.gateway_port'", resolve: noRefs) {
            if (1...65535).contains(port) { local.gatewayPort = port }
            else { reader.error(.outOfRange("'local.gateway_port'", value: Double(port), range: "between 1 and 65535", at: reader.location(p.value))) }
        }
        if let t = keys["health_timeout"], let seconds = reader.number(t.value, what: "'local.health_timeout' (seconds)", resolve: noRefs) {
            if seconds > 0 { local.healthTimeoutSeconds = seconds }
            else { reader.error(.outOfRange("'local.health_timeout'", value: seconds, range: "above 0", at: reader.location(t.value))) }
        }
    }

    static func yamlDiagnostic(_ error: YamlError, file: String) -> Diagnostic {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return .yamlSyntax(problem, at: at(mark))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return Diagnostic(at: at(context.mark), "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one mapping",
                              hint: "remove or rename one of them")
        default:
            return .yamlSyntax("\(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    static func isValidStackName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) || ("0"..."9").contains(first), name.count <= 63 else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
    }
}

extension NodeReader {
    /// `checkKeys` for the top level, where a future kind's section gets its own message.
    mutating func checkKeys(_ entries: [Entry], allowed: [String], context: String, rejectingLater kinds: [String]) -> [String: Entry] {
        var known: [Entry] = []
        for entry in entries {
            if kinds.contains(entry.key) {
                error(.kindNotAvailable(entry.key, at: entry.keyLocation))
            } else {
                known.append(entry)
            }
        }
        return checkKeys(known, allowed: allowed, context: context)
    }
}
