import Events
import Foundation
import Spec

/// The state file read without Codable: the `Events` module's byte parser and a walk over its
/// values. A no-op plan reads the whole state on every run, and Foundation's decoder spent more
/// time on it than anything else the plan does. Any shape it does not expect gives nil, and the
/// caller decodes with `JSONDecoder` instead, which says what is wrong: the two agree on every
/// file the encoder writes (`StateFileTests`).
extension StateFile {
    static func fastDecode(_ data: Data) -> (version: Int, state: StackState)? {
        guard let root = try? data.withUnsafeBytes({ raw throws(JSONParseError) -> JSONValue in
            try JSONParser.parse(raw.bindMemory(to: UInt8.self))
        }) else { return nil }
        guard let version = int(root["format_version"]), let s = root["state"],
              let stack = s["stack"]?.stringValue, let environment = s["environment"]?.stringValue,
              let lineage = s["lineage"]?.stringValue, let serial = int(s["serial"]),
              let attributes = strings(s["environment_attributes"]),
              case .array(let items)? = s["resources"], let outputs = s["outputs"]?.objectMembers else { return nil }
        var state = StackState(stack: stack, environment: environment, lineage: lineage)
        state.serial = serial
        state.environmentAttributes = attributes
        state.resources.reserveCapacity(items.count)
        for item in items {
            guard let r = resource(item) else { return nil }
            state.resources[r.address] = r
        }
        for o in outputs {
            guard let sensitive = bool(o.value["sensitive"]) else { return nil }
            var value: String?
            switch o.value["value"] {
            case nil, .null?: value = nil
            case .string(let v)?: value = v
            default: return nil
            }
            state.outputs[o.key] = OutputValue(value: value, sensitive: sensitive, knownAfterApply: bool(o.value["knownAfterApply"]) ?? false)
        }
        return (version, state)
    }

    static func resource(_ v: JSONValue) -> ResourceState? {
        guard let text = v["address"]?.stringValue, let address = ResourceAddress(parsing: text),
              let members = v["attributes"]?.objectMembers, case .array(let deps)? = v["dependencies"],
              let outputs = strings(v["outputs"]), case .array(let processes)? = v["processes"] else { return nil }
        var attributes: Attributes = [:]
        attributes.reserveCapacity(members.count)
        for m in members {
            switch m.value {
            case .string(let s): attributes[m.key] = .string(s)
            case .number(let n, _): attributes[m.key] = .number(n)
            case .bool(let b): attributes[m.key] = .bool(b)
            case .object:
                guard let f = m.value["sensitive"]?.stringValue else { return nil }
                attributes[m.key] = .sensitive(fingerprint: f)
            default: return nil
            }
        }
        var dependencies: [ResourceAddress] = []
        for d in deps {
            guard let t = d.stringValue, let a = ResourceAddress(parsing: t) else { return nil }
            dependencies.append(a)
        }
        var records: [ProcessRecord] = []
        for p in processes {
            guard let role = p["role"]?.stringValue, let pid = int(p["pid"]), let port = int(p["port"]),
                  case .number(let started, _)? = p["startedAt"], let pid32 = Int32(exactly: pid) else { return nil }
            var variant: String?
            switch p["variant"] {
            case nil, .null?: variant = nil
            case .string(let s)?: variant = s
            default: return nil
            }
            records.append(ProcessRecord(role: role, variant: variant, pid: pid32, port: port, startedAt: started))
        }
        return ResourceState(address: address, attributes: attributes, dependencies: dependencies, outputs: outputs, processes: records)
    }

    static func int(_ v: JSONValue?) -> Int? {
        guard case .number(let n, _)? = v, let i = Int(exactly: n) else { return nil }
        return i
    }

    static func bool(_ v: JSONValue?) -> Bool? {
        guard case .bool(let b)? = v else { return nil }
        return b
    }

    static func strings(_ v: JSONValue?) -> [String: String]? {
        guard let members = v?.objectMembers else { return nil }
        var out: [String: String] = [:]
        out.reserveCapacity(members.count)
        for m in members {
            guard let s = m.value.stringValue else { return nil }
            out[m.key] = s
        }
        return out
    }
}
