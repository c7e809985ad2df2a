import Foundation
import Spec

/// The machine view of a plan (`plan --json`). `format_version` follows semver: new fields bump
/// the minor version, anything that breaks a reader bumps the major. docs/plan-json.md documents it.
extension Plan {
    public static let jsonFormatVersion = "1.2"

    struct JSONView: Encodable {
        var format_version: String
        var stack: String
        var environment: String
        var mode: String
        var has_changes: Bool
        var summary: SummaryView
        var changes: [ChangeView]
    }

    struct SummaryView: Encodable {
        var add: Int, change: Int, replace: Int, destroy: Int, unchanged: Int
    }

    struct ReasonView: Encodable {
        var type: String
        var detail: String?
    }

    struct AttributeView: Encodable {
        var path: String
        var before: AttributeValue?
        var after: AttributeValue?
        var note: String?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .path)
            // Explicit nulls, so readers can tell "absent" from "unknown key".
            try c.encode(before, forKey: .before)
            try c.encode(after, forKey: .after)
            try c.encodeIfPresent(note, forKey: .note)
        }
        enum CodingKeys: String, CodingKey { case path, before, after, note }
    }

    struct ChangeView: Encodable {
        var address: String
        var kind: String
        var name: String
        var action: String
        var reason: ReasonView?
        var attributes: [AttributeView]
        /// Present only on a change that deletes stored data (1.1).
        var data_loss: String?
        /// Present only when another resource manages some of its attributes at run time (1.2).
        var managed: [ManagedView]?
    }

    struct ManagedView: Encodable {
        var path: String
        var note: String
    }

    public func renderJSON() -> String {
        let s = summary
        let view = JSONView(
            format_version: Self.jsonFormatVersion, stack: stack, environment: environment, mode: mode.rawValue,
            has_changes: hasChanges,
            summary: SummaryView(add: s.add, change: s.change, replace: s.replace, destroy: s.destroy, unchanged: s.unchanged),
            changes: changes.map { c in
                ChangeView(address: c.address.description, kind: c.address.kind.singular, name: c.address.name,
                           action: c.action.rawValue, reason: c.reason.map(Self.reasonView),
                           attributes: c.attributes.map { AttributeView(path: $0.path, before: $0.before, after: $0.after, note: $0.note) },
                           data_loss: c.dataLoss, managed: c.managed.map { $0.map { ManagedView(path: $0.path, note: $0.note) } })
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = (try? encoder.encode(view)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func reasonView(_ r: ActionReason) -> ReasonView {
        switch r {
        case .removedFromSpec: return ReasonView(type: "removed_from_spec", detail: nil)
        case .destroyRequested: return ReasonView(type: "destroy_requested", detail: nil)
        case .replacedBecause(let why): return ReasonView(type: "replace_required", detail: why)
        case .drifted(let what): return ReasonView(type: "drifted", detail: what)
        }
    }
}
