import Spec

/// The human view of a plan, written for a reviewer reading a pull request. Stable: same plan,
/// same bytes (the golden tests hold it to that). Colour is the caller's business.
extension Plan {
    public func renderText() -> String {
        var out = ""
        out.reserveCapacity(changes.count * 160 + 256)
        let title = mode == .destroy ? "destroy plan" : "plan"
        out += "mlgw-deploy \(title) for stack '\(stack)', environment '\(environment)'\n\n"
        guard hasChanges else {
            out += "No changes. The environment matches the stack (\(unchanged) resource\(unchanged == 1 ? "" : "s")).\n"
            return out
        }
        out += "Symbols: + create, ~ update in place, -/+ replace, - destroy\n\n"
        for change in changes {
            Self.render(change, into: &out)
            out += "\n"
        }
        let s = summary
        out += "Plan: \(s.add) to add, \(s.change) to change, \(s.replace) to replace, \(s.destroy) to destroy"
        out += s.unchanged > 0 ? "; \(s.unchanged) unchanged.\n" : ".\n"
        return out
    }

    static func render(_ change: Change, into out: inout String) {
        let a = change.address.description
        let symbol: String
        switch change.action {
        case .create:
            symbol = "+"
            if case .drifted(let what)? = change.reason {
                out += "  # \(a) will be created (it was \(what))\n"
            } else {
                out += "  # \(a) will be created\n"
            }
        case .update:
            symbol = "~"
            if case .drifted(let what)? = change.reason {
                out += "  # \(a) has drifted (\(what)) and will be updated in place\n"
            } else {
                out += "  # \(a) will be updated in place\n"
            }
        case .replace:
            symbol = "-/+"
            out += "  # \(a) must be replaced (\(change.reason?.text ?? "replacement required"))\n"
        case .delete:
            symbol = "-"
            out += "  # \(a) will be destroyed (\(change.reason?.text ?? "removed"))\n"
        case .noChange:
            return
        }
        if let loss = change.dataLoss { out += "  # DATA LOSS: \(loss); apply needs --allow-data-loss\n" }
        out += "  \(symbol) \(a)\n"
        let width = change.attributes.map(\.path.count).max() ?? 0
        for attr in change.attributes {
            let pad = String(repeating: " ", count: width - attr.path.count)
            switch (attr.before, attr.after) {
            case (nil, let after?):
                out += "      + \(attr.path)\(pad) = \(after)\n"
            case (let before?, nil):
                out += "      - \(attr.path)\(pad) = \(before)\n"
            case (let before?, let after?):
                out += "      ~ \(attr.path)\(pad) = \(before) -> \(after)"
                if let note = attr.note { out += "  # \(note)" }
                out += "\n"
            case (nil, nil):
                break
            }
        }
        for m in change.managed ?? [] { out += "      # \(m.path): \(m.note)\n" }
    }
}
