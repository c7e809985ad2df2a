import Events
import Testing

@Suite struct PatternMachineTests {
    /// Every conformance pattern in one machine: for each event, the rules the machine returns are
    /// exactly those that match clause by clause.
    @Test func oneMachineOfAllPatternsAgreesWithEachPattern() throws {
        let patterns = try patternCases.map { try EventPattern.parse($0.pattern) }
        var machine = PatternMachine()
        for (i, p) in patterns.enumerated() { machine.add(p, id: i) }
        for c in patternCases {
            let expected = patterns.indices.filter { patterns[$0].matches(c.event) }
            #expect(machine.match(c.event) == expected, "\(c.name)")
        }
    }

    @Test func clausesOfOrAreAlternatives() throws {
        let p = try EventPattern.parse(text: #"{"source":["a"],"$or":[{"detail":{"x":[1]}},{"detail":{"y":[{"prefix":"q"}]}}]}"#)
        #expect(p.clauses.count == 2)
        #expect(p.matches(try JSONParser.parse(#"{"source":"a","detail":{"y":"quick"}}"#)))
        #expect(!p.matches(try JSONParser.parse(#"{"source":"b","detail":{"x":1}}"#)))
    }

    @Test func tooManyOrCombinationsAreRejected() throws {
        func alternatives(_ key: String, _ n: Int) -> String {
            "[" + (0..<n).map { #"{"\#(key)":["v\#($0)"]}"# }.joined(separator: ",") + "]"
        }
        let text = #"{"$or":\#(alternatives("a", 11)),"detail":{"$or":\#(alternatives("b", 10))},"x":{"$or":\#(alternatives("c", 10))}}"#
        #expect(throws: EventPatternError.self) { try EventPattern.parse(text: text) }
    }

    @Test func errorsNameWhereTheyAre() {
        do {
            _ = try EventPattern.parse(text: #"{"detail":{"state":[{"numeric":[">",0,">",1]}]}}"#)
            Issue.record("accepted")
        } catch {
            #expect(error.path == ["detail", "state", "0", "numeric", "2"])
        }
    }
}

@Suite struct TargetInputTests {
    let event = try! JSONParser.parse(#"{"id":"e1","time":"2026-12-02T20:00:00Z","detail":{"instance":"i-1","n":3,"tags":["a","b"],"quote":"say \"hi\""}}"#)

    @Test func aPathSelectsPartOfTheEvent() {
        #expect(TargetInput.path(JSONPath("$.detail.tags[1]")!).render(event, rule: "r", ruleARN: "arn") == #""b""#)
        #expect(TargetInput.path(JSONPath("$.detail")!).render(event, rule: "r", ruleARN: "arn").hasPrefix(#"{"instance":"i-1""#))
    }

    @Test func aTemplateIsFilledInsideAndOutsideStrings() {
        let t = TargetInput.transformer(paths: ["i": JSONPath("$.detail.instance")!, "n": JSONPath("$.detail.n")!, "q": JSONPath("$.detail.quote")!,
                                                "gone": JSONPath("$.detail.nothing")!],
                                        template: #"{"instance": <i>, "text": "<i> has <n> at <aws.events.rule-name>", "q": "<q>", "gone": <gone>}"#)
        #expect(t.render(event, rule: "nightly", ruleARN: "arn") == #"{"instance": "i-1", "text": "i-1 has 3 at nightly", "q": "say \"hi\"", "gone": null}"#)
    }

    @Test func badPathsAreRejected() {
        #expect(JSONPath("detail.x") == nil)
        #expect(JSONPath("$..x") == nil)
        #expect(JSONPath("$.a[x]") == nil)
    }
}
