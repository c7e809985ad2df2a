import EnvironmentAPI
import Events
import Foundation

extension EventRule {
    /// EventBridge's limits: five targets per rule; retries 0-185; event age 60 s to 24 h.
    static let maxTargets = 5
    static let maxRetries = 185

    static func read(_ entry: ResourceEntry, reader: inout NodeReader, in context: ReadContext) -> EventRule? {
        let what = "event rule '\(entry.name)'"
        guard let keys = reader.keys(entry.node, allowed: ["pattern", "schedule", "timezone", "state", "description", "target", "targets"],
                                     context: what) else { return nil }
        var rule = EventRule(name: entry.name, location: reader.location(entry.node))
        var failed = false
        switch (keys["pattern"], keys["schedule"]) {
        case (nil, nil):
            reader.error(.missingKey("pattern", in: what, at: keys.location,
                                     hint: "add 'pattern:' (an event pattern, as source: [mlgw.monitor]) or 'schedule:' (as cron(0 20 * * ? *))"))
            failed = true
        case (.some, .some(let s)):
            reader.error(.patternAndSchedule(what, at: s.keyLocation))
            failed = true
        case (let p?, nil):
            if let text = readPattern(p.value, of: what, reader: &reader) { rule.pattern = text } else { failed = true }
        case (nil, let s?):
            if let text = reader.literalString(s.value, what: "'schedule' of \(what)") {
                do {
                    _ = try ScheduleExpression.parse(text)
                    rule.schedule = text
                } catch {
                    reader.error(.badSchedule(text, problem: error.problem, of: what, at: offsetLocation(s.value, error.offset, reader: reader)))
                    failed = true
                }
            } else { failed = true }
        }
        if let z = keys["timezone"] {
            if let text = reader.literalString(z.value, what: "'timezone' of \(what)") {
                if rule.pattern != nil {
                    reader.error(.timeZoneWithoutSchedule(what, at: z.keyLocation))
                    failed = true
                } else if TimeZone(identifier: text) == nil {
                    reader.error(.unknownTimeZone(text, of: what, at: reader.location(z.value)))
                    failed = true
                } else { rule.timeZone = text }
            } else { failed = true }
        }
        if let s = keys["state"] {
            if let text = reader.literalString(s.value, what: "'state' of \(what)") {
                switch text.lowercased() {
                case "enabled": rule.enabled = true
                case "disabled": rule.enabled = false
                default:
                    reader.error(.unknownRuleState(text, of: what, at: reader.location(s.value)))
                    failed = true
                }
            } else { failed = true }
        }
        if let d = keys["description"] {
            if let text = reader.literalString(d.value, what: "'description' of \(what)") {
                if text.count > 512 {
                    reader.error(.ruleDescriptionTooLong(what, length: text.count, at: reader.location(d.value)))
                    failed = true
                } else { rule.description = text }
            } else { failed = true }
        }
        var targetNodes: [Node] = []
        switch (keys["target"], keys["targets"]) {
        case (nil, nil):
            reader.error(.missingKey("targets", in: what, at: keys.location,
                                     hint: "add 'target: {function: NAME}' (or endpoint, url, command, log: true), or a list under 'targets:'"))
            failed = true
        case (.some, .some(let t)):
            reader.error(.targetAndTargets(what, at: t.keyLocation))
            failed = true
        case (let t?, nil): targetNodes = [t.value]
        case (nil, let t?):
            if case .sequence(let items) = t.value, !items.items.isEmpty {
                if items.count > maxTargets {
                    reader.error(.tooManyTargets(what, count: items.count, at: reader.location(t.value)))
                    failed = true
                } else { targetNodes = items.items }
            } else {
                reader.error(.wrongType("'targets' of \(what)", expected: "a list of 1 to \(maxTargets) targets", found: NodeReader.describe(t.value),
                                        at: reader.location(t.value)))
                failed = true
            }
        }
        var ids: [String: SourceLocation?] = [:]
        for (i, node) in targetNodes.enumerated() {
            guard var target = readTarget(node, number: i + 1, of: what, reader: &reader, context: context) else { failed = true; continue }
            if target.kind == .command { target.id = "command:\(i + 1)" }
            if let first = ids[target.id] {
                reader.error(.duplicateTarget(target.id, of: what, first: first, at: reader.location(node)))
                failed = true
                continue
            }
            ids[target.id] = reader.location(node)
            rule.targets.append(target)
        }
        return failed ? nil : rule
    }

    /// The location `offset` characters into a one-line scalar (after its opening quote).
    static func offsetLocation(_ node: Node, _ offset: Int, reader: NodeReader) -> SourceLocation? {
        guard var loc = reader.location(node) else { return nil }
        if case .scalar(let s) = node {
            switch s.style {
            case .plain: loc.column += offset
            case .singleQuoted, .doubleQuoted: loc.column += offset + 1
            default: break
            }
        }
        return loc
    }

    /// A pattern written as YAML (or as JSON text in a string): its compact JSON, or nil after an
    /// error at the line and column of the offending part.
    static func readPattern(_ node: Node, of what: String, reader: inout NodeReader) -> String? {
        if case .scalar(let s) = node, s.style != .plain || s.string.hasPrefix("{") {
            do {
                return try EventPattern.parse(text: s.string).json.text
            } catch {
                reader.error(.badPattern(error.reason, of: what, at: reader.location(node)))
                return nil
            }
        }
        var locations: [[String]: Node] = [:]
        guard let json = patternJSON(node, path: [], locations: &locations, of: what, reader: &reader) else { return nil }
        do {
            return try EventPattern.parse(json).json.text
        } catch {
            // The deepest part of the path the YAML has a node for.
            var path = error.path
            while !path.isEmpty, locations[path] == nil { path.removeLast() }
            reader.error(.badPattern(error.reason, of: what, at: reader.location(locations[path] ?? node)))
            return nil
        }
    }

    /// YAML as JSON: plain scalars that read as JSON's null, true, false or a number are those;
    /// everything else (quoted included) is a string.
    static func patternJSON(_ node: Node, path: [String], locations: inout [[String]: Node], of what: String, reader: inout NodeReader) -> JSONValue? {
        locations[path] = node
        switch node {
        case .alias:
            reader.error(.wrongType("the pattern of \(what)", expected: "a value", found: "an alias", at: reader.location(node),
                                    hint: "write the value out; aliases are not read"))
            return nil
        case .scalar(let s):
            guard s.style == .plain else { return .string(s.string) }
            switch s.string {
            case "null", "~", "": return .null
            case "true": return .bool(true)
            case "false": return .bool(false)
            default:
                if let n = Double(s.string), n.isFinite, (try? JSONParser.parse(s.string)) != nil { return .number(n, text: s.string) }
                return .string(s.string)
            }
        case .sequence(let items):
            var out: [JSONValue] = []
            for (i, item) in items.items.enumerated() {
                guard let v = patternJSON(item, path: path + [String(i)], locations: &locations, of: what, reader: &reader) else { return nil }
                out.append(v)
            }
            return .array(out)
        case .mapping(let m):
            var out: [JSONValue.Member] = []
            for pair in m.pairs {
                guard case .scalar(let k) = pair.key else {
                    reader.error(.wrongType("a key of the pattern of \(what)", expected: "a field name", found: NodeReader.describe(pair.key),
                                            at: reader.location(pair.key)))
                    return nil
                }
                locations[path + [k.string]] = pair.value
                guard let v = patternJSON(pair.value, path: path + [k.string], locations: &locations, of: what, reader: &reader) else { return nil }
                out.append(JSONValue.Member(k.string, v))
            }
            return .object(out)
        }
    }

    static let targetKinds = ["function", "endpoint", "url", "command", "log"]

    static func readTarget(_ node: Node, number: Int, of what: String, reader: inout NodeReader, context: ReadContext) -> EventTargetConfiguration? {
        let subject = "target \(number) of \(what)"
        guard let keys = reader.keys(node, allowed: targetKinds + ["input", "input_path", "input_transformer", "content_type", "retry",
                                                                   "dead_letter", "timeout"], context: subject) else { return nil }
        let named = targetKinds.compactMap { k in keys[k].map { (k, $0) } }
        guard named.count == 1, let (kindName, e) = named.first, let kind = EventTargetConfiguration.Kind(rawValue: kindName) else {
            reader.error(named.isEmpty ? .missingKey("function", in: subject, at: keys.location,
                                                     hint: "name what receives the events: function: NAME, endpoint: NAME, url: http://127.0.0.1:PORT/PATH, command: [...] or log: true")
                                       : .severalTargetKinds(subject, kinds: named.map(\.0), at: named[1].1.keyLocation))
            return nil
        }
        var t = EventTargetConfiguration(id: kindName, kind: kind, target: "", maxAttempts: maxRetries + 1)
        var failed = false
        switch kind {
        case .function, .endpoint:
            guard let name = reader.literalString(e.value, what: "'\(kindName)' of \(subject)") else { return nil }
            let address = ResourceAddress(kind == .function ? .function : .endpoint, name)
            let at = reader.location(e.value)
            guard context.checkDeclared(address, reader: &reader, message: { .undeclaredTarget(address, of: subject, suggestion: $0, at: at) }) else {
                return nil
            }
            t.target = name
            t.id = "\(kindName):\(name)"
        case .url:
            guard let url = reader.literalString(e.value, what: "'url' of \(subject)") else { return nil }
            guard LoopbackURL(url) != nil else {
                reader.error(.notLoopbackURL(url, of: subject, at: reader.location(e.value)))
                return nil
            }
            t.target = url
            t.id = "url:\(url)"
        case .command:
            guard let command = reader.command(e.value, context: "'command' of \(subject)", example: "command: [python3, report.py]") else { return nil }
            t.command = command
            t.target = command.joined(separator: " ")
            t.workingDirectory = context.stackDirectory
        case .log:
            guard let b = reader.bool(e.value, what: "'log' of \(subject)") else { return nil }
            guard b else {
                reader.error(.logFalse(subject, at: reader.location(e.value)))
                return nil
            }
            t.target = "log"
        }
        let inputs = ["input", "input_path", "input_transformer"].compactMap { k in keys[k].map { (k, $0) } }
        if inputs.count > 1 {
            reader.error(.severalInputs(subject, at: inputs[1].1.keyLocation))
            failed = true
        } else if let (key, i) = inputs.first {
            switch key {
            case "input":
                var locations: [[String]: Node] = [:]
                if case .scalar(let s) = i.value, s.style != .plain {
                    // A quoted string is sent as it is: a CSV row for an endpoint, or JSON text.
                    t.input = .constant
                    t.inputText = s.string
                } else if let json = patternJSON(i.value, path: [], locations: &locations, of: subject, reader: &reader) {
                    t.input = .constant
                    t.inputText = json.text
                } else { failed = true }
            case "input_path":
                if let text = reader.literalString(i.value, what: "'input_path' of \(subject)") {
                    if JSONPath(text) == nil {
                        reader.error(.badJSONPath(text, of: subject, at: reader.location(i.value)))
                        failed = true
                    } else {
                        t.input = .path
                        t.inputText = text
                    }
                } else { failed = true }
            default:
                if !readTransformer(i.value, into: &t, of: subject, reader: &reader) { failed = true }
            }
        }
        if let c = keys["content_type"] {
            if kind != .endpoint {
                reader.error(.contentTypeWithoutEndpoint(subject, at: c.keyLocation))
                failed = true
            } else if let text = reader.literalString(c.value, what: "'content_type' of \(subject)") { t.contentType = text } else { failed = true }
        }
        if let r = keys["retry"] {
            if let rk = reader.keys(r.value, allowed: ["maximum_attempts", "maximum_event_age"], context: "'retry' of \(subject)") {
                if let a = rk["maximum_attempts"] {
                    if let n = reader.integer(a.value, what: "'retry.maximum_attempts' of \(subject)", range: 0...maxRetries) { t.maxAttempts = n + 1 } else { failed = true }
                }
                if let a = rk["maximum_event_age"] {
                    if let s = reader.duration(a.value, what: "'retry.maximum_event_age' of \(subject)", range: .seconds(60, 86_400)) { t.maxEventAge = s } else { failed = true }
                }
            } else { failed = true }
        }
        if let d = keys["dead_letter"] {
            if let path = reader.literalString(d.value, what: "'dead_letter' of \(subject)") {
                t.deadLetter = PathMath.resolve(path, against: context.stackDirectory)
            } else { failed = true }
        }
        if let o = keys["timeout"] {
            if kind != .url && kind != .command {
                reader.error(.timeoutWithoutProcess(subject, at: o.keyLocation))
                failed = true
            } else if let s = reader.duration(o.value, what: "'timeout' of \(subject)", range: .seconds(0.1, 900)) { t.timeout = s } else { failed = true }
        }
        return failed ? nil : t
    }

    static func readTransformer(_ node: Node, into t: inout EventTargetConfiguration, of subject: String, reader: inout NodeReader) -> Bool {
        guard let keys = reader.keys(node, allowed: ["paths", "template"], context: "'input_transformer' of \(subject)") else { return false }
        var paths: [String: String] = [:]
        var fine = true
        if let p = keys["paths"], let entries = reader.mapping(p.value, what: "'input_transformer.paths' of \(subject)") {
            guard entries.count <= 100 else {
                reader.error(.wrongType("'input_transformer.paths' of \(subject)", expected: "at most 100 paths", found: "\(entries.count)", at: reader.location(p.value)))
                return false
            }
            for e in entries {
                guard let text = reader.literalString(e.value, what: "path '\(e.key)' of \(subject)") else { fine = false; continue }
                if e.key.hasPrefix("aws.events.") {
                    reader.error(.reservedTransformerName(e.key, of: subject, at: e.keyLocation))
                    fine = false
                } else if JSONPath(text) == nil {
                    reader.error(.badJSONPath(text, of: subject, at: reader.location(e.value)))
                    fine = false
                } else { paths[e.key] = text }
            }
        } else if keys["paths"] != nil { fine = false }
        guard let tpl = reader.require(keys, "template", hint: "add 'template:', as template: '{\"instance\": <instance>}'"),
              let template = reader.literalString(tpl.value, what: "'input_transformer.template' of \(subject)") else { return false }
        t.input = .transformer
        t.inputPaths = paths
        t.template = template
        return fine
    }
}

