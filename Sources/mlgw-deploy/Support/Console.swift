import Foundation

/// Output for the commands: standard output for results, standard error for diagnostics and
/// progress. (The global `stdout` is not concurrency-safe in Swift 6; FileHandle is.)
enum Console {
    static func out(_ text: String, terminator: String = "\n") {
        FileHandle.standardOutput.write(Data((text + terminator).utf8))
    }

    static func err(_ text: String, terminator: String = "\n") {
        FileHandle.standardError.write(Data((text + terminator).utf8))
    }

    /// Rows as aligned columns (every row as long as the first).
    static func table(_ rows: [[String]]) {
        guard let first = rows.first else { return }
        let widths = (0..<first.count).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max()! }
        for row in rows {
            out(row.enumerated().map { $0.element.padding(toLength: widths[min($0.offset, widths.count - 1)], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
    }

    static var stdinIsTerminal: Bool { isatty(0) == 1 }
    static var stdoutIsTerminal: Bool { isatty(1) == 1 }

    /// ANSI colour for terminals, unless NO_COLOR is set.
    static func colored(_ text: String, _ code: String) -> String {
        guard stdoutIsTerminal, ProcessInfo.processInfo.environment["NO_COLOR"] == nil else { return text }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    /// Colours a rendered plan line by line (+ green, ~ yellow, - red).
    static func colorPlan(_ text: String) -> String {
        guard stdoutIsTerminal, ProcessInfo.processInfo.environment["NO_COLOR"] == nil else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let t = line.drop { $0 == " " }
            if t.hasPrefix("-/+") { return colored(String(line), "35") }
            if t.hasPrefix("+") { return colored(String(line), "32") }
            if t.hasPrefix("~") { return colored(String(line), "33") }
            if t.hasPrefix("-") { return colored(String(line), "31") }
            if t.hasPrefix("#") { return colored(String(line), "1") }
            return String(line)
        }.joined(separator: "\n")
    }
}

/// The path of this binary, which also runs the environment host and model servers.
var selfExecutable: String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

/// Parses "30", "30s", "2m", "1h" into seconds.
func parseDuration(_ text: String) -> Double? {
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
    for (suffix, factor) in units where text.hasSuffix(suffix) {
        return Double(text.dropLast(suffix.count)).map { $0 * factor }
    }
    return Double(text)
}
