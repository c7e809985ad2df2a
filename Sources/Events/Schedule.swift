import Foundation

/// A schedule expression as EventBridge (and EventBridge Scheduler) reads it: `rate(5 minutes)`,
/// `cron(min hour day-of-month month day-of-week year)` in UTC or a time zone, or `at(...)` once.
/// One-minute resolution, as EventBridge.
public enum ScheduleExpression: Sendable, Equatable {
    /// Every `seconds`, counted from when the rule was created.
    case rate(seconds: Int64)
    case cron(CronExpression)
    /// Once, at this instant (Unix seconds).
    case at(Int64)

    public var text: String {
        switch self {
        case .rate(let s): return RateText.text(seconds: s)
        case .cron(let c): return "cron(\(c.source))"
        case .at(let t): return "at(\(CivilTime.iso(t, zone: nil).dropLast()))"
        }
    }
}

/// Why an expression is not valid: EventBridge's message, what exactly is wrong, and where (an
/// offset in characters into the expression, for the diagnostic's column).
public struct ScheduleError: Error, Sendable, Equatable, CustomStringConvertible {
    public var problem: String
    public var offset: Int
    public static let awsMessage = "Parameter ScheduleExpression is not valid."
    public var description: String { "\(ScheduleError.awsMessage) \(problem)" }
}

extension ScheduleExpression {
    /// Parses `text`; `timeZone` (an IANA name) applies to cron and at expressions.
    public static func parse(_ text: String) throws(ScheduleError) -> ScheduleExpression {
        if text.hasPrefix("rate("), text.hasSuffix(")") { return try parseRate(text) }
        if text.hasPrefix("cron("), text.hasSuffix(")") {
            return .cron(try CronExpression(parsing: String(text.dropFirst(5).dropLast()), offset: 5))
        }
        if text.hasPrefix("at("), text.hasSuffix(")") {
            let inner = String(text.dropFirst(3).dropLast())
            guard let t = CivilTime.parseLocal(inner) else {
                throw ScheduleError(problem: "at(...) takes a date and time as yyyy-mm-ddThh:mm:ss, such as at(2026-12-24T20:00:00)", offset: 3)
            }
            return .at(t)
        }
        throw ScheduleError(problem: "an expression is rate(VALUE UNIT), cron(MIN HOUR DAY MONTH WEEKDAY YEAR) or at(yyyy-mm-ddThh:mm:ss)", offset: 0)
    }

    static func parseRate(_ text: String) throws(ScheduleError) -> ScheduleExpression {
        let inner = text.dropFirst(5).dropLast()
        let parts = inner.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else {
            throw ScheduleError(problem: "rate(...) takes a value and a unit separated by one space, such as rate(5 minutes)", offset: 5)
        }
        guard parts[0].allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(parts[0]), value > 0, value <= 1_000_000_000 else {
            throw ScheduleError(problem: "the rate's value '\(parts[0])' is not a positive whole number", offset: 5)
        }
        let unitOffset = 5 + parts[0].count + 1
        let seconds: Int64
        switch parts[1] {
        case "minute", "minutes": seconds = 60
        case "hour", "hours": seconds = 3_600
        case "day", "days": seconds = 86_400
        default:
            throw ScheduleError(problem: "the rate's unit '\(parts[1])' is not minute(s), hour(s) or day(s) (lowercase)", offset: unitOffset)
        }
        let plural = parts[1].hasSuffix("s")
        guard plural == (value != 1) else {
            throw ScheduleError(problem: value == 1 ? "a rate of 1 takes the singular unit: rate(1 \(parts[1].dropLast()))"
                                                    : "a rate above 1 takes the plural unit: rate(\(value) \(parts[1])s)", offset: unitOffset)
        }
        return .rate(seconds: value * seconds)
    }

    /// The first firing strictly after `after` (Unix seconds); `anchor` is when a rate schedule
    /// started (its rule's creation). Nil when the schedule never fires again.
    public func next(after: Int64, anchor: Int64, timeZone: TimeZone? = nil) -> Int64? {
        switch self {
        case .rate(let period):
            if after < anchor { return anchor + period }
            return anchor + ((after - anchor) / period + 1) * period
        case .at(let local):
            let t = CivilTime.instant(local: local, zone: timeZone)
            return t > after ? t : nil
        case .cron(let c):
            return c.next(after: after, zone: timeZone)
        }
    }
}

enum RateText {
    static func text(seconds: Int64) -> String {
        let (value, unit): (Int64, String) = seconds % 86_400 == 0 ? (seconds / 86_400, "day") : seconds % 3_600 == 0 ? (seconds / 3_600, "hour") : (seconds / 60, "minute")
        return "rate(\(value) \(unit)\(value == 1 ? "" : "s"))"
    }
}

/// Civil (calendar) time without Foundation's calendars on the hot path: days from 1970-01-01,
/// and a time zone's offset looked up per instant.
enum CivilTime {
    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func days(_ y: Int, _ m: Int, _ d: Int) -> Int64 {
        let y = Int64(m <= 2 ? y - 1 : y)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64((m + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(days z0: Int64) -> (y: Int, m: Int, d: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        return (Int(yoe + era * 400) + (m <= 2 ? 1 : 0), m, d)
    }

    static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// 1 = Sunday … 7 = Saturday, as AWS cron numbers weekdays.
    static func weekday(_ y: Int, _ m: Int, _ d: Int) -> Int {
        let z = days(y, m, d)
        return Int(((z + 4) % 7 + 7) % 7) + 1
    }

    /// The instant at which the wall clock in `zone` shows `local` (seconds since 1970 as if UTC).
    static func instant(local: Int64, zone: TimeZone?) -> Int64 {
        guard let zone else { return local }
        let guess = local - Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local))))
        return local - Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(guess))))
    }

    static func local(_ instant: Int64, zone: TimeZone?) -> Int64 {
        guard let zone else { return instant }
        return instant + Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant))))
    }

    /// `2026-12-24T20:00:00` as seconds since 1970 on the wall clock.
    static func parseLocal(_ s: String) -> Int64? {
        let b = Array(s.utf8)
        guard b.count == 19, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58 else { return nil }
        func n(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard b[i] >= 48, b[i] <= 57 else { return nil }; v = v * 10 + Int(b[i] - 48) }
            return v
        }
        guard let y = n(0..<4), let mo = n(5..<7), let d = n(8..<10), let h = n(11..<13), let mi = n(14..<16), let sec = n(17..<19),
              (1970...2199).contains(y), (1...12).contains(mo), d >= 1, d <= daysInMonth(y, mo), h < 24, mi < 60, sec < 60 else { return nil }
        return days(y, mo, d) * 86_400 + Int64(h * 3_600 + mi * 60 + sec)
    }

    /// ISO-8601 in UTC (`Z`), as events' `time` is written.
    static func iso(_ t: Int64, zone: TimeZone?) -> String {
        let dayCount = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
        let (y, m, d) = civil(days: dayCount)
        let s = Int(t - dayCount * 86_400)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))T\(two(s / 3_600)):\(two(s / 60 % 60)):\(two(s % 60))Z"
    }
}

extension ScheduleExpression {
    /// `2026-12-02T21:10:00Z` for Unix seconds.
    public static func iso8601(_ t: Int64) -> String { CivilTime.iso(t, zone: nil) }
}
