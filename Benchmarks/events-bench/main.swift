// mlgw-bench-events: events per second through the compiled pattern machine (JSON text parsed,
// flattened, matched) against RULES rules of mixed operators, on one thread, beside a loop over
// the same rules (parsed and flattened once per event, then each rule's clauses evaluated).
// Usage: mlgw-bench-events RULES EVENTS [LOOP_EVENTS]. Prints JSON.
import Events
import Foundation

let args = CommandLine.arguments
guard args.count >= 3, let ruleCount = Int(args[1]), let eventCount = Int(args[2]) else {
    FileHandle.standardError.write(Data("usage: mlgw-bench-events RULES EVENTS [LOOP_EVENTS]\n".utf8))
    exit(2)
}
let loopEvents = args.count > 3 ? Int(args[3]) ?? 0 : 0

/// A deterministic generator, so every run matches the same rules against the same events.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

var rng = SplitMix(state: 42)
let sources = 50, types = 20
func ruleText(_ i: Int) -> String {
    let source = "app.s\(i % sources)"
    let type = "Type \(i / sources % types)"
    let k = i % 10
    let v = i / 10
    let detail: String
    switch k {
    case 0: detail = #""state": ["state-\#(v % 100)"]"#
    case 1: detail = #""amount": [{"numeric": [">", \#(v % 1000), "<=", \#(v % 1000 + 50)]}]"#
    case 2: detail = #""region": [{"prefix": "eu-\#(v % 30)"}]"#
    case 3: detail = #""file": [{"suffix": ".t\#(v % 40)"}]"#
    case 4: detail = #""user": [{"equals-ignore-case": "User\#(v % 200)"}]"#
    case 5: detail = #""path": [{"wildcard": "/data/\#(v % 50)/*/part-*"}]"#
    case 6: detail = #""status": [{"anything-but": ["s\#(v % 20)", "s\#(v % 20 + 1)"]}]"#
    case 7: detail = #""ip": [{"cidr": "10.\#(v % 250).0.0/16"}]"#
    case 8: detail = #""flag": [{"exists": true}], "state": ["state-\#(v % 100)"]"#
    default: detail = #""$or": [{"state": ["state-\#(v % 100)"]}, {"amount": [{"numeric": ["=", \#(v % 1000)]}]}]"#
    }
    return #"{"source": ["\#(source)"], "detail-type": ["\#(type)"], "detail": {\#(detail)}}"#
}

func eventText(_ r: inout SplitMix) -> String {
    let i = r.below(max(ruleCount, 1) * 2)
    let v = i / 10
    return #"{"version":"0","id":"e\#(i)","detail-type":"Type \#(i / sources % types)","source":"app.s\#(i % sources)","account":"000000000000","time":"2026-12-02T20:00:00Z","region":"us-east-1","resources":["arn:aws:sagemaker:us-east-1:000000000000:endpoint/fraud"],"detail":{"state":"state-\#(v % 100)","amount":\#(v % 1000 + r.below(60)),"region":"eu-\#(v % 30)-west","file":"x.t\#(v % 40)","user":"USER\#(v % 200)","path":"/data/\#(v % 50)/2026/part-0001","status":"s\#(r.below(25))","ip":"10.\#(v % 250).3.4","flag":true,"tags":["a","b","c"]}}"#
}

var machine = PatternMachine()
var patterns: [EventPattern] = []
for i in 0..<ruleCount {
    let p = try EventPattern.parse(text: ruleText(i))
    patterns.append(p)
    machine.add(p, id: i)
}
let events = (0..<eventCount).map { _ in eventText(&rng) }

// Where the time goes: parsing alone, and parsing plus flattening.
var t0 = DispatchTime.now().uptimeNanoseconds
var sink = 0
for text in events { if case .object(let m) = try JSONParser.parse(text) { sink += m.count } }
let parseUs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3 / Double(eventCount)
t0 = DispatchTime.now().uptimeNanoseconds
for text in events { sink += FlatEvent(try JSONParser.parse(text), keeping: machine.paths).fields.count }
let flattenUs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3 / Double(eventCount) - parseUs

var matched = 0
let start = DispatchTime.now().uptimeNanoseconds
for text in events {
    let event = try JSONParser.parse(text)
    matched += machine.match(event).count
}
let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

var loopSeconds = 0.0
var loopMatched = 0
if loopEvents > 0 {
    let s = DispatchTime.now().uptimeNanoseconds
    for text in events.prefix(loopEvents) {
        let flat = FlatEvent(try JSONParser.parse(text))
        for p in patterns where p.matches(flat) { loopMatched += 1 }
    }
    loopSeconds = Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9
}
// The machine and the loop must agree on the events both saw.
var check = 0
for text in events.prefix(loopEvents) { check += machine.match(try JSONParser.parse(text)).count }
guard check == loopMatched else {
    FileHandle.standardError.write(Data("machine and loop disagree: \(check) vs \(loopMatched)\n".utf8))
    exit(1)
}
let perEvent = seconds / Double(eventCount)
var out = "{\"rules\": \(ruleCount), \"events\": \(eventCount), \"events_per_second\": \(Int(1 / perEvent)), \"us_per_event\": \(perEvent * 1e6), \"matches_per_event\": \(Double(matched) / Double(eventCount)), \"parse_us\": \(parseUs), \"flatten_us\": \(flattenUs), \"sink\": \(sink % 2)"
if loopEvents > 0 {
    let loopPer = loopSeconds / Double(loopEvents)
    out += ", \"loop_events_per_second\": \(Int(1 / loopPer)), \"loop_us_per_event\": \(loopPer * 1e6), \"speedup\": \(loopPer / perEvent)"
}
print(out + "}")
