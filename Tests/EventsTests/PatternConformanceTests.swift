import Events
import Foundation
import Testing

/// The pattern cases recorded against AWS (and event-ruler's own tests), one test argument each.
let conformance = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Conformance")

func jsonLines(_ file: String) -> [JSONValue] {
    let text = (try? String(contentsOf: conformance.appendingPathComponent(file), encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
}

struct PatternCase: CustomTestStringConvertible, Sendable {
    var name: String
    var pattern: JSONValue
    var event: JSONValue
    var match: Bool
    var testDescription: String { name }
}

struct InvalidPatternCase: CustomTestStringConvertible, Sendable {
    var name: String
    var text: String
    var message: String
    var testDescription: String { name }
}

let patternCases: [PatternCase] = jsonLines("patterns.jsonl").compactMap { line in
    guard let name = line["name"]?.stringValue, let pattern = line["pattern"], let event = line["event"],
          case .bool(let match)? = line["match"] else { return nil }
    return PatternCase(name: name, pattern: pattern, event: event, match: match)
}

let invalidPatternCases: [InvalidPatternCase] = jsonLines("invalid-patterns.jsonl").compactMap { line in
    guard let name = line["name"]?.stringValue else { return nil }
    let text = line["pattern_raw"]?.stringValue ?? line["pattern"]?.text ?? ""
    // The case of more than 1000 $or combinations has no recorded message.
    return InvalidPatternCase(name: name, text: text, message: line["error"]?["message"]?.stringValue ?? "")
}

@Suite struct PatternConformanceTests {
    @Test func theCasesAreAllRead() {
        #expect(patternCases.count == 208)
        #expect(invalidPatternCases.count == 42)
    }

    @Test(arguments: patternCases)
    func matchesAsEventBridge(_ c: PatternCase) throws {
        let pattern = try EventPattern.parse(c.pattern)
        #expect(pattern.matches(c.event) == c.match, "clause by clause")
        var machine = PatternMachine()
        machine.add(pattern, id: 7)
        #expect(machine.match(c.event) == (c.match ? [7] : []), "compiled")
    }

    @Test(arguments: invalidPatternCases)
    func rejectsAsEventBridge(_ c: InvalidPatternCase) {
        do {
            _ = try EventPattern.parse(text: c.text)
            Issue.record("accepted \(c.text)")
        } catch {
            if c.message.isEmpty {
                #expect(error.reason.hasPrefix("Rule is too complex"))
            } else {
                #expect(error.message == c.message)
            }
        }
    }
}
