import Events

/// An ordered JSON document under construction (CloudFormation reads key order as written, and
/// a reviewer reads the template top to bottom), with the intrinsic functions the export uses.
enum CFN {
    static func obj(_ pairs: [(String, JSONValue?)]) -> JSONValue {
        .object(pairs.compactMap { k, v in v.map { JSONValue.Member(k, $0) } })
    }

    static func str(_ s: String) -> JSONValue { .string(s) }
    static func num(_ n: Double) -> JSONValue { .number(n) }
    static func int(_ n: Int) -> JSONValue { .number(n) }
    static func list(_ items: [JSONValue]) -> JSONValue { .array(items) }
    static func ref(_ id: String) -> JSONValue { obj([("Ref", .string(id))]) }
    static func getAtt(_ id: String, _ attribute: String) -> JSONValue { obj([("Fn::GetAtt", .array([.string(id), .string(attribute)]))]) }
    static func sub(_ text: String) -> JSONValue { obj([("Fn::Sub", .string(text))]) }

    /// Pretty-printed JSON, two spaces, keys in insertion order.
    static func render(_ v: JSONValue) -> String {
        var out = ""
        write(v, indent: 0, into: &out)
        out += "\n"
        return out
    }

    static func write(_ v: JSONValue, indent: Int, into out: inout String) {
        let pad = String(repeating: "  ", count: indent + 1), end = String(repeating: "  ", count: indent)
        switch v {
        case .object(let members):
            guard !members.isEmpty else { out += "{}"; return }
            out += "{\n"
            for (i, m) in members.enumerated() {
                out += pad
                JSONValue.string(m.key).write(into: &out)
                out += ": "
                write(m.value, indent: indent + 1, into: &out)
                out += i == members.count - 1 ? "\n" : ",\n"
            }
            out += end + "}"
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            // Short lists of scalars stay on one line.
            if items.count <= 6, items.allSatisfy({ if case .object = $0 { return false }; if case .array = $0 { return false }; return true }) {
                out += "["
                for (i, item) in items.enumerated() {
                    item.write(into: &out)
                    if i < items.count - 1 { out += ", " }
                }
                out += "]"
                return
            }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                write(item, indent: indent + 1, into: &out)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += end + "]"
        default:
            v.write(into: &out)
        }
    }

    /// A logical ID from a prefix and a resource name: `Model` + `fraud-v1` = `ModelFraudV1`.
    static func pascal(_ name: String) -> String {
        name.split(whereSeparator: { !($0.isASCII && ($0.isLetter || $0.isNumber)) }).map { part in
            part.prefix(1).uppercased() + part.dropFirst()
        }.joined()
    }
}
