/// A process environment as a stack writes it: values known at plan time, and values that
/// reference something known only after apply (kept as templates for the provider to resolve).
/// Every resource a value references is a dependency edge.
public struct EnvironmentValues: Sendable, Equatable, Codable {
    public var values: [String: String] = [:]
    public var deferred: [String: Template] = [:]
    /// The written text of the deferred values, for the plan.
    public var deferredText: [String: String] = [:]
    public var references: [ResourceAddress] = []

    public init() {}

    /// Plan attributes `environment.KEY`.
    public var attributes: Attributes {
        var a: Attributes = [:]
        for (k, v) in values { a["environment.\(k)"] = .string(v) }
        for (k, v) in deferredText { a["environment.\(k)"] = .string(v) }
        return a
    }

    /// Lines for an identity hash.
    public var identity: [String] {
        values.keys.sorted().map { "env \($0)=\(values[$0]!)" } + deferredText.keys.sorted().map { "env \($0)=\(deferredText[$0]!)" }
    }

    static func read(_ node: Node, context: String, reader: inout NodeReader) -> EnvironmentValues? {
        guard let entries = reader.mapping(node, what: "'environment' of \(context)") else { return nil }
        var env = EnvironmentValues()
        var failed = false
        var references = Set<ResourceAddress>()
        for entry in entries {
            let what = "environment variable '\(entry.key)' of \(context)"
            guard isValidEnvironmentName(entry.key) else {
                reader.error(.invalidEnvironmentName(entry.key, of: context, at: entry.keyLocation))
                failed = true
                continue
            }
            guard let text = reader.literalString(entry.value, what: what) else { failed = true; continue }
            guard text.contains("${") else { env.values[entry.key] = text; continue }
            let loc = reader.location(entry.value)
            let template: Template
            do { template = try Template.parse(text) } catch {
                reader.error(.expression(error.message, at: loc))
                failed = true
                continue
            }
            for path in template.references where path.count >= 2 {
                if let kind = ResourceKind(rawValue: path[0]) { references.insert(ResourceAddress(kind, path[1])) }
            }
            switch reader.evaluate(text, at: loc) {
            case .value(_, true)?:
                reader.error(.sensitiveInResource(what, at: loc))
                failed = true
            case .value(let v, false)?:
                env.values[entry.key] = v.description
            case .knownAfterApply?:
                env.deferred[entry.key] = template
                env.deferredText[entry.key] = text
            case nil:
                failed = true
            }
        }
        env.references = references.sorted()
        return failed ? nil : env
    }

    /// What a process environment variable may be called: a letter or '_', then letters, digits and '_'.
    static func isValidEnvironmentName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || ("A"..."Z").contains(first) || ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }
}

/// Names of models, endpoints and variants, as SageMaker allows them.
func isValidName(_ name: String) -> Bool {
    let scalars = Array(name.unicodeScalars)
    guard (1...63).contains(scalars.count) else { return false }
    func alnum(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) }
    guard alnum(scalars.first!), alnum(scalars.last!) else { return false }
    return scalars.allSatisfy { alnum($0) || $0 == "-" || $0 == "_" }
}

/// An argument as a shell would need it quoted, for display.
func shellQuoted(_ s: String) -> String {
    let safe = s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_./=:,+@%".unicodeScalars.contains($0) }
    return safe && !s.isEmpty ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Identity lines for a command: its words, and the content of each argument that names a file
/// (a script), so that editing the script is a change.
func commandIdentity(_ command: [String], in directory: String, files: any SpecFileSystem) -> [String] {
    var identity = ["command=" + command.joined(separator: "\u{0}")]
    for arg in command {
        if let h = files.sha256(ofFileAt: PathMath.resolve(arg, against: directory)) { identity.append("file \(arg)=\(h)") }
    }
    return identity
}
