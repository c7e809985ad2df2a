/// What a target receives for an event, as EventBridge's target settings choose it: the whole
/// event, a constant JSON `input`, the part `input_path` selects, or an input transformer's
/// template filled from the paths it names.
public enum TargetInput: Sendable, Equatable {
    case event
    case constant(JSONValue)
    /// A body sent exactly as written (a CSV row for an endpoint).
    case text(String)
    case path(JSONPath)
    case transformer(paths: [String: JSONPath], template: String)

    /// The body a target is sent.
    public func render(_ event: JSONValue, rule: String, ruleARN: String) -> String {
        switch self {
        case .event: return event.text
        case .constant(let v): return v.text
        case .text(let s): return s
        case .path(let p): return p.select(in: event)?.text ?? ""
        case .transformer(let paths, let template):
            return TargetInput.fill(template) { name in
                switch name {
                case "aws.events.rule-name": return .string(rule)
                case "aws.events.rule-arn": return .string(ruleARN)
                case "aws.events.event", "aws.events.event.json": return event
                case "aws.events.event.ingestion-time": return event["time"]
                default: return paths[name].flatMap { $0.select(in: event) }
                }
            }
        }
    }

    /// Replaces each `<name>`: inside a JSON string literal with the value's text (a string's
    /// characters, escaped), elsewhere with its JSON (a string quoted); a path that selects
    /// nothing gives an empty string inside quotes and `null` outside, as EventBridge.
    static func fill(_ template: String, value: (String) -> JSONValue?) -> String {
        var out = ""
        var inString = false
        var escaped = false
        var i = template.startIndex
        while i < template.endIndex {
            let c = template[i]
            if c == "<", let close = template[i...].firstIndex(of: ">"),
               let name = Optional(String(template[template.index(after: i)..<close])),
               !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) {
                let v = value(name)
                if inString {
                    if case .string(let s)? = v {
                        var quoted = ""
                        JSONValue.writeString(s, into: &quoted)
                        out += quoted.dropFirst().dropLast()
                    } else if let v { out += v.text }
                } else {
                    out += v?.text ?? "null"
                }
                i = template.index(after: close)
                continue
            }
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
            } else if c == "\"" { inString = true }
            out.append(c)
            i = template.index(after: i)
        }
        return out
    }
}

/// The JSONPath subset EventBridge's `InputPath` and transformer paths use: `$`, then `.key` or
/// `['key']` steps and `[N]` array indexes.
public struct JSONPath: Sendable, Equatable {
    public enum Step: Sendable, Equatable {
        case key(String)
        case index(Int)
    }

    public let steps: [Step]
    public let text: String

    public init?(_ text: String) {
        self.text = text
        guard text.hasPrefix("$") else { return nil }
        var steps: [Step] = []
        var rest = Substring(text.dropFirst())
        while !rest.isEmpty {
            if rest.hasPrefix(".") {
                rest = rest.dropFirst()
                let end = rest.firstIndex(where: { $0 == "." || $0 == "[" }) ?? rest.endIndex
                let key = String(rest[..<end])
                guard !key.isEmpty else { return nil }
                steps.append(.key(key))
                rest = rest[end...]
            } else if rest.hasPrefix("['") {
                guard let end = rest.range(of: "']") else { return nil }
                steps.append(.key(String(rest[rest.index(rest.startIndex, offsetBy: 2)..<end.lowerBound])))
                rest = rest[end.upperBound...]
            } else if rest.hasPrefix("[") {
                guard let end = rest.firstIndex(of: "]"), let n = Int(rest[rest.index(after: rest.startIndex)..<end]), n >= 0 else { return nil }
                steps.append(.index(n))
                rest = rest[rest.index(after: end)...]
            } else {
                return nil
            }
        }
        self.steps = steps
    }

    public func select(in value: JSONValue) -> JSONValue? {
        var v = value
        for s in steps {
            switch s {
            case .key(let k):
                guard let next = v[k] else { return nil }
                v = next
            case .index(let n):
                guard case .array(let items) = v, n < items.count else { return nil }
                v = items[n]
            }
        }
        return v
    }
}

extension Substring {
    fileprivate func range(of needle: String) -> Range<Index>? {
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(needle) { return i..<index(i, offsetBy: needle.count) }
            i = index(after: i)
        }
        return nil
    }
}
