import EnvironmentAPI

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
/// The loader knows no kind by name: it reads every kind of `ResourceKind.allCases` through its
/// definition, and a stack with any error is never returned (so it never plans).
public enum StackLoader {
    /// The longest `local.health_timeout` a stack may set, seconds.
    static let maxHealthTimeout = 3600.0

    static var topLevelKeys: [String] {
        ["stack", "description", "variables", "outputs", "local", Gateway.section]
            + ResourceKind.allCases.filter { $0.section.count == 1 }.map { $0.section[0] }
    }

    static var gatewayKeys: [String] {
        ResourceKind.allCases.filter { $0.section.first == Gateway.section }.map { $0.section[1] } + Gateway.settings
    }

    /// Attributes a `${kind.name.attribute}` reference may read, by kind.
    public static var referenceableAttributes: [ResourceKind: [String]] {
        Dictionary(uniqueKeysWithValues: ResourceKind.allCases.map { ($0, $0.definition.referenceableAttributes) })
    }

    struct Declaration {
        var source: StackSource
        var entry: Entry
    }

    public static func load(_ sources: [StackSource], variables inputs: VariableInputs = VariableInputs(),
                            environment: String = "default", files: any SpecFileSystem) -> (Stack?, Diagnostics) {
        var diagnostics = Diagnostics()
        var parsed: [(source: StackSource, keys: Keys, gateway: Keys?)] = []
        for source in sources {
            var reader = NodeReader(file: source.path)
            let (root, problem) = YAMLComposer.compose(source.text, file: source.path)
            if let problem { diagnostics.append(problem) }
            if let root, let entries = reader.mapping(root, what: "the top level of a stack file") {
                let known = entries.filter { entry in
                    guard ResourceKind.notYetSupported.contains(entry.key) else { return true }
                    reader.error(.kindNotAvailable(entry.key, supported: topLevelKeys.filter { !["stack", "description", "variables", "outputs", "local"].contains($0) },
                                                   at: entry.keyLocation))
                    return false
                }
                let keys = reader.keys(known, at: reader.location(root), allowed: topLevelKeys, context: "the stack")
                var gateway: Keys?
                if let g = keys[Gateway.section] { gateway = reader.keys(g.value, allowed: gatewayKeys, context: "'gateway'") }
                parsed.append((source, keys, gateway))
            }
            diagnostics.append(contentsOf: reader.diagnostics)
        }

        // The stack's name, description and local settings.
        var name: String?
        var nameLocation: SourceLocation?
        var description: String?
        var local = LocalSettings()
        for (source, keys, _) in parsed {
            var reader = NodeReader(file: source.path)
            if let e = keys["stack"], let text = reader.literalString(e.value, what: "'stack'") {
                if let name, name != text {
                    reader.error(.stackNameDiffers(text, from: name, at: reader.location(e.value), first: nameLocation))
                } else if !isValidStackName(text) {
                    reader.error(.invalidStackName(text, at: reader.location(e.value)))
                } else {
                    name = text
                    nameLocation = reader.location(e.value)
                }
            }
            if let e = keys["description"] { description = reader.literalString(e.value, what: "'description'") }
            diagnostics.append(contentsOf: reader.diagnostics)
        }
        if name == nil, let first = sources.first, !diagnostics.hasErrors {
            diagnostics.append(.stackHasNoName(at: SourceLocation(file: first.path, line: 1, column: 1)))
        }

        let (unsetDeclarations, variables) = readVariables(parsed.map { ($0.source, $0.keys) }, inputs: inputs, into: &diagnostics)
        // The variables' YAML is read: let it go before the resources are (a stack of 240,000
        // variables holds most of its tree there).
        for i in parsed.indices { parsed[i].keys.remove("variables") }

        // Resource declarations across files, checking for duplicates and names.
        var declared: [ResourceAddress: Declaration] = [:]
        var order: [ResourceAddress] = []
        for (source, keys, gateway) in parsed {
            var reader = NodeReader(file: source.path)
            for kind in ResourceKind.allCases {
                let section = kind.section.count == 1 ? keys[kind.section[0]] : gateway?[kind.section[1]]
                guard let section else { continue }
                for entry in reader.mapping(section.value, what: "'\(kind.section.joined(separator: "."))'") ?? [] {
                    let address = ResourceAddress(kind, entry.key)
                    if let first = declared[address] {
                        reader.error(.duplicateResource(address.description, first: first.entry.keyLocation, at: entry.keyLocation))
                        continue
                    }
                    if !isValidName(entry.key) { reader.error(.invalidName(entry.key, what: kind.singular, at: entry.keyLocation)) }
                    declared[address] = Declaration(source: source, entry: entry)
                    order.append(address)
                }
            }
            diagnostics.append(contentsOf: reader.diagnostics)
        }

        if order.count > maxResources, let first = sources.first {
            diagnostics.append(Diagnostic(at: SourceLocation(file: first.path, line: 1, column: 1),
                                          "the stack declares \(order.count) resources, more than the \(maxResources) one stack may have",
                                          hint: "split it into several stacks (each has its own state and environment)"))
        }
        let stackName = name ?? ""
        let declaredAddresses = Set(declared.keys)
        let resolve: ([String]) -> Resolution = { path in
            resolveAtLoad(path, stack: stackName, environment: environment, variables: variables,
                          unset: unsetDeclarations, declared: declaredAddresses)
        }
        // Local settings may come from variables (a fixed port per environment: --var port=8001).
        for (source, keys, _) in parsed {
            guard let e = keys["local"] else { continue }
            var reader = NodeReader(file: source.path, resolve: resolve)
            readLocal(e.value, into: &local, reader: &reader)
            diagnostics.append(contentsOf: reader.diagnostics)
        }
        var namesByKind: [ResourceKind: [String]] = [:]
        for address in order { namesByKind[address.kind, default: []].append(address.name) }
        let unset = Set(unsetDeclarations.keys)
        let authorizers = readAuthorizers(parsed.map { ($0.source, $0.gateway) }, files: files, resolve: resolve, into: &diagnostics)

        // Every resource, through its kind's reader. A reader that returns nothing must have said
        // why: otherwise the resource would vanish from the stack and a plan would delete it.
        var values: [ResourceAddress: any ReadableDefinition] = [:]
        for address in order {
            let d = declared[address]!
            var reader = NodeReader(file: d.source.path, resolve: resolve)
            let context = ReadContext(stackDirectory: PathMath.directory(of: d.source.absolutePath), files: files, declared: declaredAddresses,
                                      namesByKind: namesByKind, authorizers: authorizers, unsetVariables: unset)
            let entry = ResourceEntry(name: address.name, node: d.entry.value, keyLocation: d.entry.keyLocation)
            if let value = read(address.kind.readable, entry, reader: &reader, in: context) {
                values[address] = value
            } else if reader.errorCount == 0 {
                reader.error(.unreadableWithoutReason(address.description, at: d.entry.keyLocation))
            }
            diagnostics.append(contentsOf: reader.diagnostics)
        }
        let index = ResourceIndex(values: values)
        for address in order { values[address]?.check(in: index, into: &diagnostics) }

        let outputs = readOutputs(parsed.map { ($0.source, $0.keys) }, resolve: resolve, into: &diagnostics)

        guard !diagnostics.hasErrors, let name else { return (nil, diagnostics) }
        var owned: [ResourceAddress: [String: String]] = [:]
        var resources: [ResourceSpec] = []
        resources.reserveCapacity(values.count)
        for address in order {
            guard let value = values[address] else { continue }
            resources.append(spec(value, in: index, local: local))
            for (target, paths) in value.ownedAttributes { owned[target, default: [:]].merge(paths) { a, _ in a } }
        }
        let stack = Stack(
            name: name, description: description, environment: environment,
            files: sources.map { StackFile(path: $0.path, sha256: SHA256.hex(of: $0.text)) },
            variables: variables,
            resources: resources.sorted { $0.address < $1.address },
            outputs: outputs.sorted { $0.name < $1.name },
            local: local, ownedAttributes: owned)
        return (stack, diagnostics)
    }

    /// Opens the kind's type to call its reader.
    static func read<D: ReadableDefinition>(_ type: D.Type, _ entry: ResourceEntry, reader: inout NodeReader, in context: ReadContext) -> (any ReadableDefinition)? {
        D.read(entry, reader: &reader, in: context)
    }

    static func spec<D: ReadableDefinition>(_ value: D, in index: ResourceIndex, local: LocalSettings) -> ResourceSpec {
        ResourceSpec(value, in: index, local: local)
    }

    /// The gateway's JWT authorizers, which stages use by name.
    static func readAuthorizers(_ parsed: [(StackSource, Keys?)], files: any SpecFileSystem, resolve: @escaping ([String]) -> Resolution,
                                into diagnostics: inout Diagnostics) -> [String: JWTAuthorizer] {
        var authorizers: [String: JWTAuthorizer] = [:]
        var locations: [String: SourceLocation?] = [:]
        for (source, gateway) in parsed {
            guard let a = gateway?["authorizers"] else { continue }
            var reader = NodeReader(file: source.path, resolve: resolve)
            for entry in reader.mapping(a.value, what: "'gateway.authorizers'") ?? [] {
                if let first = locations[entry.key] {
                    reader.error(.duplicateResource("gateway.authorizers.\(entry.key)", first: first, at: entry.keyLocation))
                    continue
                }
                locations[entry.key] = entry.keyLocation
                if let j = Gateway.readAuthorizer(name: entry.key, node: entry.value, stackDirectory: PathMath.directory(of: source.absolutePath),
                                                  reader: &reader, files: files) {
                    authorizers[entry.key] = j
                }
            }
            diagnostics.append(contentsOf: reader.diagnostics)
        }
        return authorizers
    }

    static func resolveAtLoad(_ path: [String], stack: String, environment: String, variables: [String: ResolvedVariable],
                              unset: [String: VariableDeclaration], declared: Set<ResourceAddress>) -> Resolution {
        switch path.first {
        case "var":
            guard path.count == 2 else { return .undeclared(suggestion: nil) }
            if let v = variables[path[1]] { return .value(v.value, sensitive: v.declaration.sensitive) }
            // Declared but without a value: that error is reported once, at the declaration.
            if let d = unset[path[1]] { return .value(.number(0), sensitive: d.sensitive) }
            return .undeclared(suggestion: suggestion(for: path[1], among: Array(variables.keys) + Array(unset.keys)).map { "var.\($0)" })
        case "stack":
            return path == ["stack", "name"] ? .value(.string(stack), sensitive: false) : .undeclared(suggestion: "stack.name")
        case "environment":
            let attributes = ["name", "aws_endpoint_url", "metrics_url", "gateway_url"]
            switch path.dropFirst().first {
            case "name"?: return path.count == 2 ? .value(.string(environment), sensitive: false) : .undeclared(suggestion: nil)
            case let a? where attributes.contains(a): return path.count == 2 ? .knownAfterApply : .undeclared(suggestion: nil)
            default: return .undeclared(suggestion: suggestion(for: path.dropFirst().first ?? "", among: attributes).map { "environment.\($0)" })
            }
        default:
            guard let kindName = path.first, let kind = ResourceKind(rawValue: kindName), path.count >= 2 else {
                return .undeclared(suggestion: suggestion(for: path.first ?? "", among: ["var", "stack", "environment"] + ResourceKind.allCases.map(\.rawValue)))
            }
            let address = ResourceAddress(kind, path[1])
            guard declared.contains(address) else {
                return .undeclared(suggestion: suggestion(for: path[1], among: declared.filter { $0.kind == kind }.map(\.name)).map { "\(kind.rawValue).\($0)" })
            }
            let attributes = kind.definition.referenceableAttributes
            guard path.count == 3, attributes.contains(path[2]) else {
                return .undeclared(suggestion: "\(address).\(suggestion(for: path.count > 2 ? path[2] : "", among: attributes) ?? attributes.joined(separator: "|"))")
            }
            return path[2] == "name" ? .value(.string(path[1]), sensitive: false) : .knownAfterApply
        }
    }

    static func readLocal(_ node: Node, into local: inout LocalSettings, reader: inout NodeReader) {
        guard let keys = reader.keys(node, allowed: ["port", "gateway_port", "health_timeout"], context: "'local'") else { return }
        if let p = keys["port"], let port = reader.integer(p.value, what: "'local.port'", range: 1...65535) { local.port = port }
        if let p = keys["gateway_port"], let port = reader.integer(p.value, what: "'local.gateway_port'", range: 1...65535) { local.gatewayPort = port }
        if let t = keys["health_timeout"],
           let seconds = reader.number(t.value, what: "'local.health_timeout' (seconds)", range: .positive(atMost: maxHealthTimeout)) {
            local.healthTimeoutSeconds = seconds
        }
    }

    public static func isValidStackName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) || ("0"..."9").contains(first), name.count <= 63 else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
    }

    /// The name the stack's files declare with `stack:`, read without validating anything else:
    /// what commands that work from the deployed state need from a file that may not load.
    public static func stackName(of sources: [StackSource]) -> String? {
        for source in sources {
            guard case .mapping(let m)? = YAMLComposer.compose(source.text, file: source.path).root else { continue }
            for pair in m {
                if case .scalar(let k) = pair.key, k.string == "stack", case .scalar(let v) = pair.value { return v.string }
            }
        }
        return nil
    }
}
