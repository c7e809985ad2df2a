/// Text made safe for HTML, in element content, attribute values and Markdown table cells alike:
/// `& < > " | \`` become entities and a newline a space (attribute values are always written in
/// double quotes). The monitors' reports and the Markdown plan both write people's values (feature names, attribute values) into markup.
public enum HTMLText {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "|": out += "&#124;"
            case "`": out += "&#96;"
            case "\n": out += " "
            default: out.append(ch)
            }
        }
        return out
    }
}
