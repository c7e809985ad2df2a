import Foundation

/// `cron(Minutes Hours Day-of-month Month Day-of-week Year)` as EventBridge reads it: six fields;
/// day-of-month takes `, - * ? / L W`, day-of-week `, - * ? L #` with 1 = Sunday (or SUN-SAT),
/// months 1-12 or JAN-DEC, years 1970-2199; one of the day fields is `?`. A range may wrap
/// (hours `20-2`). Firings are whole minutes.
public struct CronExpression: Sendable, Equatable {
    public let source: String
    let minutes: [Int]
    let hours: [Int]
    let months: [Int]
    let years: [Int]
    let days: DayRule

    enum DayRule: Equatable {
        /// Day-of-month numbers (a set; `L` as `last`, `W` as `weekdayNear`).
        case monthDays(Set<Int>)
        case lastDay(weekday: Bool)
        case weekdayNear(Int)
        /// Weekdays 1-7.
        case weekdays(Set<Int>)
        /// The last such weekday of the month (`6L`).
        case lastWeekday(Int)
        /// The nth such weekday (`3#2`).
        case nthWeekday(Int, Int)
    }

    struct Field {
        let name: String
        let range: ClosedRange<Int>
        let names: [String]
    }

    static let fieldsInOrder = [
        Field(name: "minutes", range: 0...59, names: []),
        Field(name: "hours", range: 0...23, names: []),
        Field(name: "day-of-month", range: 1...31, names: []),
        Field(name: "month", range: 1...12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]),
        Field(name: "day-of-week", range: 1...7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]),
        Field(name: "year", range: 1970...2199, names: []),
    ]

    init(parsing text: String, offset base: Int) throws(ScheduleError) {
        source = text
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 6, parts.allSatisfy({ !$0.isEmpty }) else {
            throw ScheduleError(problem: "cron(...) takes six fields separated by single spaces (minutes hours day-of-month month day-of-week year); found \(parts.filter { !$0.isEmpty }.count)",
                                offset: base)
        }
        var offsets: [Int] = []
        var at = base
        for p in parts {
            offsets.append(at)
            at += p.count + 1
        }
        func fail(_ i: Int, _ problem: String) -> ScheduleError {
            ScheduleError(problem: "\(CronExpression.fieldsInOrder[i].name) '\(parts[i])': \(problem)", offset: offsets[i])
        }
        func values(_ i: Int) throws(ScheduleError) -> [Int] {
            try CronExpression.values(String(parts[i]), field: CronExpression.fieldsInOrder[i]) { problem throws(ScheduleError) in throw fail(i, problem) }
        }
        minutes = try values(0)
        hours = try values(1)
        months = try values(3)
        years = try values(5)
        let dom = String(parts[2]), dow = String(parts[4])
        switch (dom == "?", dow == "?") {
        case (true, true): throw fail(4, "one of day-of-month and day-of-week must be '?', not both")
        case (false, false): throw fail(4, "day-of-month and day-of-week cannot both be set: write '?' in one of them")
        case (false, true):
            if dom == "L" { days = .lastDay(weekday: false) } else if dom == "LW" { days = .lastDay(weekday: true) } else if dom.hasSuffix("W") {
                guard let n = Int(dom.dropLast()), (1...31).contains(n) else { throw fail(2, "W follows a day of the month 1-31, as 15W") }
                days = .weekdayNear(n)
            } else {
                days = .monthDays(Set(try values(2)))
            }
        case (true, false):
            let field = CronExpression.fieldsInOrder[4]
            if dow.contains("#") {
                let p = dow.split(separator: "#", omittingEmptySubsequences: false)
                guard p.count == 2, let d = CronExpression.value(String(p[0]), field: field), let n = Int(p[1]), (1...5).contains(n) else {
                    throw fail(4, "'#' takes one weekday and its occurrence 1-5, as 3#2 (the second Tuesday), and no list")
                }
                days = .nthWeekday(d, n)
            } else if dow.count > 1, dow.hasSuffix("L") {
                guard let d = CronExpression.value(String(dow.dropLast()), field: field) else { throw fail(4, "L follows one weekday, as 6L (the last Friday)") }
                days = .lastWeekday(d)
            } else if dow == "L" {
                days = .weekdays([7])
            } else {
                days = .weekdays(Set(try values(4)))
            }
        }
    }

    static func value(_ s: String, field: Field) -> Int? {
        if let i = field.names.firstIndex(of: s) { return i + field.range.lowerBound }
        guard !s.isEmpty, s.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(s), field.range.contains(v) else { return nil }
        return v
    }

    /// The values a field's list names, ascending.
    static func values(_ text: String, field: Field, fail: (String) throws(ScheduleError) -> Never) throws(ScheduleError) -> [Int] {
        var out = Set<Int>()
        let r = field.range
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            var body = Substring(item)
            var step = 1
            if let slash = item.firstIndex(of: "/") {
                guard let s = Int(item[item.index(after: slash)...]), s > 0, s <= r.upperBound else {
                    try fail("the step after '/' is not a whole number from 1 to \(r.upperBound)")
                }
                step = s
                body = item[..<slash]
            }
            var from: Int, to: Int
            if body == "*" {
                (from, to) = (r.lowerBound, r.upperBound)
            } else if let dash = body.firstIndex(of: "-") {
                guard let a = value(String(body[..<dash]), field: field), let b = value(String(body[body.index(after: dash)...]), field: field) else {
                    try fail("a range is FROM-TO with values \(describeRange(field))")
                }
                (from, to) = (a, b)
            } else {
                guard let v = value(String(body), field: field) else {
                    if body == "?" { try fail("'?' is only for day-of-month or day-of-week") }
                    try fail("'\(body)' is not a value \(describeRange(field))")
                }
                (from, to) = (v, item.contains("/") ? r.upperBound : v)
            }
            // A range that wraps (hours 20-2) runs to the end and on from the start.
            let run = from <= to ? Array(from...to) : Array(from...r.upperBound) + Array(r.lowerBound...to)
            for (i, v) in run.enumerated() where i % step == 0 { out.insert(v) }
        }
        return out.sorted()
    }

    static func describeRange(_ field: Field) -> String {
        field.names.isEmpty ? "from \(field.range.lowerBound) to \(field.range.upperBound)"
                            : "from \(field.range.lowerBound) to \(field.range.upperBound) or \(field.names.first!)-\(field.names.last!)"
    }

    /// The days of a month the day fields allow.
    func allowedDays(_ y: Int, _ m: Int) -> [Int] {
        let count = CivilTime.daysInMonth(y, m)
        switch days {
        case .monthDays(let set): return (1...count).filter { set.contains($0) }
        case .weekdays(let set): return (1...count).filter { set.contains(CivilTime.weekday(y, m, $0)) }
        case .lastDay(let weekday):
            guard weekday else { return [count] }
            var d = count
            while CivilTime.weekday(y, m, d) == 1 || CivilTime.weekday(y, m, d) == 7 { d -= 1 }
            return [d]
        case .weekdayNear(let n):
            guard n <= count else { return [] }
            // The weekday nearest the nth, never crossing into another month (Quartz's rule).
            switch CivilTime.weekday(y, m, n) {
            case 7: return [n == 1 ? 3 : n - 1]
            case 1: return [n == count ? n - 2 : n + 1]
            default: return [n]
            }
        case .lastWeekday(let w):
            var d = count
            while CivilTime.weekday(y, m, d) != w { d -= 1 }
            return [d]
        case .nthWeekday(let w, let n):
            var first = 1
            while CivilTime.weekday(y, m, first) != w { first += 1 }
            let d = first + (n - 1) * 7
            return d <= count ? [d] : []
        }
    }

    /// The first firing strictly after `after` (Unix seconds), on the wall clock of `zone`.
    func next(after: Int64, zone: TimeZone?) -> Int64? {
        var from = CivilTime.local(after, zone: zone)
        // A wall-clock time a DST change skips or repeats is tried again from the next minute.
        for _ in 0..<4 {
            guard let local = nextLocal(after: from) else { return nil }
            let t = CivilTime.instant(local: local, zone: zone)
            if t > after, CivilTime.local(t, zone: zone) == local { return t }
            from = local
        }
        return nil
    }

    /// On a wall clock with no time zone: the first matching minute strictly after `t`.
    func nextLocal(after t: Int64) -> Int64? {
        let start = (t >= 0 ? t / 60 : (t - 59) / 60) * 60 + 60
        let dayCount = start >= 0 ? start / 86_400 : (start - 86_399) / 86_400
        let (sy, sm, sd) = CivilTime.civil(days: dayCount)
        let secs = Int(start - dayCount * 86_400)
        let sh = secs / 3_600, smin = secs / 60 % 60
        for y in years where y >= sy {
            for m in months where y > sy || m >= sm {
                for d in allowedDays(y, m) {
                    let sameDay = y == sy && m == sm && d == sd
                    if y == sy && m == sm && d < sd { continue }
                    for h in hours where !sameDay || h >= sh {
                        for mi in minutes where !(sameDay && h == sh) || mi >= smin {
                            return CivilTime.days(y, m, d) * 86_400 + Int64(h * 3_600 + mi * 60)
                        }
                    }
                }
            }
        }
        return nil
    }
}
