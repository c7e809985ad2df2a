import EnvironmentAPI
import Spec

/// The plan as a pull-request comment (GitHub-flavoured Markdown): a summary line, the risks a
/// reviewer must weigh first, then every resource in a collapsible block with its attribute diff.
/// Stable: same plan, same bytes (golden files). Values are HTML-escaped inside `<code>`, so no
/// attribute can break the table or inject markup; sensitive values are never shown.
extension Plan {
    public func renderMarkdown() -> String {
        var out = ""
        let title = mode == .destroy ? "destroy plan" : "plan"
        out += "### mlgw-deploy \(title): stack `\(Self.inline(stack))`, environment `\(Self.inline(environment))`\n\n"
        let s = summary
        guard hasChanges else {
            out += "**No changes.** The environment matches the stack (\(unchanged) resource\(unchanged == 1 ? "" : "s")).\n"
            return out
        }
        out += "**\(s.add) to add, \(s.change) to change, \(s.replace) to replace, \(s.destroy) to destroy**"
        out += s.unchanged > 0 ? " (\(s.unchanged) unchanged)\n\n" : "\n\n"
        let risks = self.risks
        out += "#### Risks\n\n"
        if risks.isEmpty {
            out += "None: nothing is replaced or destroyed, no traffic moves, no data is lost, no secret changes.\n\n"
        } else {
            for r in risks { out += "- \(r)\n" }
            out += "\n"
        }
        out += "#### Changes\n\n"
        for change in changes where change.action != .noChange {
            Self.markdown(change, into: &out)
        }
        return out
    }

    /// Each risk as one Markdown line, resources in address order.
    public var risks: [String] {
        var out: [String] = []
        for c in changes {
            let a = "`\(Self.inline(c.address.description))`"
            if let loss = c.dataLoss { out.append("**Data loss** in \(a): \(Self.text(loss)); apply needs `--allow-data-loss`") }
            switch c.action {
            case .replace: out.append("**Replaced**: \(a) (\(Self.text(c.reason?.text ?? "replacement required")))")
            case .delete: out.append("**Destroyed**: \(a) (\(Self.text(c.reason?.text ?? "removed")))")
            default: break
            }
            if c.action == .update || c.action == .replace {
                let kind = c.address.kind.definition
                // A kind's risk reads "what: detail"; the part before the colon is its headline.
                for r in kind.reviewRisks(before: c.before?.attributes, after: c.after?.attributes) {
                    let parts = r.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    let head = parts[0].prefix(1).uppercased() + parts[0].dropFirst()
                    out.append("**\(Self.text(head))** in \(a)" + (parts.count > 1 ? ": \(Self.text(parts[1]))" : ""))
                }
            }
            let secrets = c.attributes.filter { attr in
                if case .sensitive? = attr.before { return true }
                if case .sensitive? = attr.after { return true }
                return false
            }
            if !secrets.isEmpty, c.action != .delete {
                out.append("**Secret changed** in \(a): " + secrets.map { "`\(Self.inline($0.path))`" }.joined(separator: ", ") + " (values not shown)")
            }
        }
        return out
    }

    static func markdown(_ c: Change, into out: inout String) {
        let verb: String
        let symbol: String
        switch c.action {
        case .create:
            symbol = "+"
            if case .drifted(let what)? = c.reason { verb = "created (it was \(what))" } else { verb = "created" }
        case .update:
            symbol = "~"
            if case .drifted(let what)? = c.reason { verb = "updated in place (drifted: \(what))" } else { verb = "updated in place" }
        case .replace:
            symbol = "-/+"
            verb = "replaced (\(c.reason?.text ?? "replacement required"))"
        case .delete:
            symbol = "-"
            verb = "destroyed (\(c.reason?.text ?? "removed"))"
        case .noChange: return
        }
        out += "<details><summary><code>\(symbol) \(html(c.address.description))</code> will be \(html(verb))</summary>\n\n"
        if let loss = c.dataLoss { out += "**Data loss**: \(text(loss)).\n\n" }
        if c.attributes.isEmpty {
            out += "No attribute changes.\n\n"
        } else {
            out += "| | attribute | before | after | note |\n|---|---|---|---|---|\n"
            for attr in c.attributes {
                let mark: String
                switch (attr.before, attr.after) {
                case (nil, _): mark = "+"
                case (_, nil): mark = "-"
                default: mark = "~"
                }
                out += "| \(mark) | <code>\(html(attr.path))</code> | \(cell(attr.before)) | \(cell(attr.after)) | \(attr.note.map { html($0) } ?? "") |\n"
            }
            out += "\n"
        }
        for m in c.managed ?? [] { out += "<code>\(html(m.path))</code>: \(html(m.note)) (not changed by this plan)\n\n" }
        out += "</details>\n\n"
    }

    static func cell(_ v: AttributeValue?) -> String {
        guard let v else { return "" }
        if case .sensitive = v { return "<em>(sensitive value)</em>" }
        return "<code>\(html(v.description))</code>"
    }

    static func html(_ s: String) -> String { HTMLText.escape(s) }

    /// Prose in Markdown: markup characters escaped.
    static func text(_ s: String) -> String { html(s).replacingOccurrences(of: "*", with: "\\*").replacingOccurrences(of: "_", with: "\\_") }

    /// Inside a backtick code span: backticks cannot be escaped there, so they become a look-alike.
    static func inline(_ s: String) -> String { s.replacingOccurrences(of: "`", with: "'").replacingOccurrences(of: "\n", with: " ") }
}
