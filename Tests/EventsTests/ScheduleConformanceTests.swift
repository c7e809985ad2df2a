import Events
import Foundation
import Testing

struct ScheduleCase: CustomTestStringConvertible, Sendable {
    var expression: String
    var valid: Bool
    var period: Int64?
    /// (start, fires) in Unix seconds.
    var next: [(Int64, [Int64])]
    var testDescription: String { expression }
}

func unixSeconds(_ iso: String) -> Int64 {
    Int64(ISO8601DateFormatter().date(from: iso)!.timeIntervalSince1970)
}

let scheduleCases: [ScheduleCase] = jsonLines("schedules.jsonl").compactMap { line in
    guard let e = line["expression"]?.stringValue, case .bool(let valid)? = line["valid"] else { return nil }
    // The custom-bus case is about where a schedule may be used, not about the expression.
    if line["context"] != nil { return nil }
    var period: Int64?
    if case .number(let n, _)? = line["period_seconds"] { period = Int64(n) }
    var next: [(Int64, [Int64])] = []
    if case .array(let items)? = line["next"] {
        for item in items {
            guard let start = item["start"]?.stringValue, case .array(let fires)? = item["fires"] else { continue }
            next.append((unixSeconds(start), fires.compactMap { $0.stringValue.map(unixSeconds) }))
        }
    }
    return ScheduleCase(expression: e, valid: valid, period: period, next: next)
}

@Suite struct ScheduleConformanceTests {
    @Test func theCasesAreAllRead() { #expect(scheduleCases.count == 40) }

    @Test(arguments: scheduleCases)
    func readsAndFiresAsEventBridge(_ c: ScheduleCase) throws {
        guard c.valid else {
            #expect(throws: ScheduleError.self) { try ScheduleExpression.parse(c.expression) }
            return
        }
        let schedule = try ScheduleExpression.parse(c.expression)
        if let period = c.period { #expect(schedule == .rate(seconds: period)) }
        for (start, fires) in c.next {
            var at = start
            var got: [Int64] = []
            while got.count < 3, let t = schedule.next(after: at, anchor: 0) {
                got.append(t)
                at = t
            }
            #expect(got == fires, "from \(ScheduleExpression.iso8601(start))")
        }
    }
}

@Suite struct ScheduleTests {
    @Test func aRateCountsFromItsAnchor() throws {
        let s = try ScheduleExpression.parse("rate(5 minutes)")
        #expect(s.next(after: 1_000, anchor: 1_000) == 1_300)
        #expect(s.next(after: 1_299, anchor: 1_000) == 1_300)
        #expect(s.next(after: 1_300, anchor: 1_000) == 1_600)
        #expect(s.next(after: 10, anchor: 1_000) == 1_300)
    }

    @Test func cronInATimeZoneFiresOnItsWallClock() throws {
        let s = try ScheduleExpression.parse("cron(0 20 * * ? *)")
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        // 2026-12-02 is winter time (UTC+1): 20:00 in Berlin is 19:00 UTC.
        #expect(s.next(after: unixSeconds("2026-12-02T12:00:00Z"), anchor: 0, timeZone: berlin) == unixSeconds("2026-12-02T19:00:00Z"))
        // 2026-07-01 is summer time (UTC+2).
        #expect(s.next(after: unixSeconds("2026-07-01T12:00:00Z"), anchor: 0, timeZone: berlin) == unixSeconds("2026-07-01T18:00:00Z"))
    }

    @Test func aSkippedWallClockTimeIsNotFired() throws {
        // 2026-03-29 02:30 does not exist in Berlin (clocks go from 02:00 to 03:00).
        let s = try ScheduleExpression.parse("cron(30 2 * * ? *)")
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        #expect(s.next(after: unixSeconds("2026-03-28T12:00:00Z"), anchor: 0, timeZone: berlin) == unixSeconds("2026-03-30T00:30:00Z"))
    }

    @Test func atFiresOnce() throws {
        let s = try ScheduleExpression.parse("at(2026-12-24T20:00:00)")
        #expect(s.next(after: unixSeconds("2026-12-01T00:00:00Z"), anchor: 0) == unixSeconds("2026-12-24T20:00:00Z"))
        #expect(s.next(after: unixSeconds("2026-12-24T20:00:00Z"), anchor: 0) == nil)
    }

    @Test(arguments: [
        ("cron(0 1 * * * *)", 13), ("cron(71 8 1 * ? *)", 5), ("cron(0 dummy ? * MON-FRI *)", 7), ("rate(10 MINUTES)", 8),
        ("rate(foo minutes)", 5), ("cron(INVALID)", 5),
    ])
    func anErrorPointsAtTheOffendingPart(_ expression: String, _ offset: Int) {
        do {
            _ = try ScheduleExpression.parse(expression)
            Issue.record("accepted")
        } catch {
            #expect(error.offset == offset, "\(error.problem)")
        }
    }

    @Test func wildcardsAndWeekdayTraps() throws {
        // W never crosses a month: 1W in March 2025 (the 1st is a Saturday) is Monday the 3rd.
        let w = try ScheduleExpression.parse("cron(0 0 1W * ? *)")
        #expect(w.next(after: unixSeconds("2025-02-15T00:00:00Z"), anchor: 0) == unixSeconds("2025-03-03T00:00:00Z"))
        let leap = try ScheduleExpression.parse("cron(0 0 29 2 ? *)")
        #expect(leap.next(after: unixSeconds("2025-01-01T00:00:00Z"), anchor: 0) == unixSeconds("2028-02-29T00:00:00Z"))
    }
}
