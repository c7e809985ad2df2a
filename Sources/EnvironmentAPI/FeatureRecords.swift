/// A record checked against its group: its identifier, its event time in Unix seconds, and its
/// values in the order given.
public struct CheckedRecord: Sendable, Equatable {
    public var identifier: String
    public var eventTime: Double
    public var values: [FeatureValue]
}

/// SageMaker's rules for a record's values, shared by the host (PutRecord, loads) and `ingest`
/// (which reports bad rows before it sends anything).
public enum FeatureRecords {
    /// SageMaker's largest value and record.
    public static let maxValueLength = 358_400
    public static let maxRecordBytes = 358_400

    /// A record that follows the group's schema, or why not (a ValidationError's message).
    public static func check(_ record: [FeatureValue], against group: FeatureGroupConfiguration) -> Result<CheckedRecord, FeatureRecordError> {
        guard !record.isEmpty else { return .failure(FeatureRecordError(feature: nil, "Record must contain at least one feature")) }
        var seen = Set<String>()
        var identifier: String?
        var eventTime: Double?
        var bytes = 0
        for value in record {
            guard seen.insert(value.FeatureName).inserted else {
                return .failure(FeatureRecordError(feature: value.FeatureName, "the feature appears twice in the record"))
            }
            guard let definition = group.feature(value.FeatureName) else {
                return .failure(FeatureRecordError(feature: value.FeatureName, "feature group '\(group.name)' has no such feature"))
            }
            switch (value.ValueAsString, value.ValueAsStringList, definition.collection) {
            case (let text?, nil, nil):
                bytes += text.utf8.count
                if let problem = problem(text, type: definition.type) { return .failure(FeatureRecordError(feature: value.FeatureName, problem)) }
                if value.FeatureName == group.recordIdentifier {
                    guard !text.isEmpty else { return .failure(FeatureRecordError(feature: value.FeatureName, "the record identifier must not be empty")) }
                    identifier = text
                }
                if value.FeatureName == group.eventTime {
                    guard let t = Self.eventTime(text, type: definition.type) else {
                        return .failure(FeatureRecordError(feature: value.FeatureName, "'\(shown(text))' is not an event time: \(eventTimeForms(definition.type))"))
                    }
                    eventTime = t
                }
            case (nil, let list?, let collection?):
                if collection == .vector, let d = definition.dimension, list.count != d {
                    return .failure(FeatureRecordError(feature: value.FeatureName, "a vector of \(d) values was expected, found \(list.count)"))
                }
                if collection == .set, Set(list).count != list.count {
                    return .failure(FeatureRecordError(feature: value.FeatureName, "a set holds each value once"))
                }
                for item in list {
                    bytes += item.utf8.count
                    if let problem = problem(item, type: definition.type) { return .failure(FeatureRecordError(feature: value.FeatureName, problem)) }
                }
            case (_?, _?, _):
                return .failure(FeatureRecordError(feature: value.FeatureName, "give ValueAsString or ValueAsStringList, not both"))
            case (nil, _?, nil):
                return .failure(FeatureRecordError(feature: value.FeatureName, "the feature is a single \(definition.type.rawValue): use ValueAsString"))
            case (_?, nil, _?):
                return .failure(FeatureRecordError(feature: value.FeatureName, "the feature is a \(definition.typeText): use ValueAsStringList"))
            case (nil, nil, _):
                return .failure(FeatureRecordError(feature: value.FeatureName, "the feature has no value"))
            }
        }
        guard bytes <= maxRecordBytes else {
            return .failure(FeatureRecordError(feature: nil, "the record holds \(bytes) bytes of values, more than the \(maxRecordBytes) a record may"))
        }
        guard let identifier else { return .failure(FeatureRecordError(feature: group.recordIdentifier, "the record identifier is missing")) }
        guard let eventTime else { return .failure(FeatureRecordError(feature: group.eventTime, "the event time is missing")) }
        return .success(CheckedRecord(identifier: identifier, eventTime: eventTime, values: record))
    }

    /// Why `text` is not a value of `type`, or nil.
    static func problem(_ text: String, type: FeatureType) -> String? {
        guard text.utf8.count <= maxValueLength else { return "a value holds at most \(maxValueLength) characters, found \(text.utf8.count)" }
        switch type {
        case .string: return nil
        case .integral: return integral(text) == nil ? "'\(shown(text))' is not an Integral (a whole number from -2^63 to 2^63-1)" : nil
        case .fractional: return fractional(text) == nil ? "'\(shown(text))' is not a Fractional (a finite number such as 0.25)" : nil
        }
    }

    public static func integral(_ text: String) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 43 }) else { return nil }
        return Int64(text)
    }

    public static func fractional(_ text: String) -> Double? {
        guard !text.isEmpty, text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 43 || $0 == 46 || $0 == 101 || $0 == 69 }),
              let d = Double(text), d.isFinite else { return nil }
        return d
    }

    static func eventTimeForms(_ type: FeatureType) -> String {
        type == .fractional ? "a Fractional event time is Unix seconds, such as 1700000000.5"
                            : "a String event time is yyyy-MM-dd'T'HH:mm:ssZ or yyyy-MM-dd'T'HH:mm:ss.SSSZ, in UTC"
    }

    /// An event time's Unix seconds: a Fractional feature holds Unix seconds, a String one
    /// ISO-8601 in UTC with seconds or milliseconds (`2020-10-30T03:43:21Z`, `...21.123Z`).
    public static func eventTime(_ text: String, type: FeatureType) -> Double? {
        switch type {
        case .fractional: return fractional(text).flatMap { $0 >= 0 && $0 < 253_402_300_800 ? $0 : nil }
        case .integral: return integral(text).flatMap { $0 >= 0 && $0 < 253_402_300_800 ? Double($0) : nil }
        case .string: return iso8601(text)
        }
    }

    /// Either form of event time (DeleteRecord's EventTime, whatever the feature's type).
    public static func anyEventTime(_ text: String) -> Double? {
        iso8601(text) ?? fractional(text).flatMap { $0 >= 0 && $0 < 253_402_300_800 ? $0 : nil }
    }

    /// `yyyy-MM-ddTHH:mm:ssZ` or `yyyy-MM-ddTHH:mm:ss.SSSZ`.
    public static func iso8601(_ text: String) -> Double? {
        let b = Array(text.utf8)
        guard b.count == 20 || b.count == 24, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58, b[b.count - 1] == 90 else { return nil }
        func digits(_ from: Int, _ count: Int) -> Int? {
            var n = 0
            for i in from..<(from + count) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                n = n * 10 + Int(b[i] - 48)
            }
            return n
        }
        guard let y = digits(0, 4), let mo = digits(5, 2), let d = digits(8, 2), let h = digits(11, 2), let mi = digits(14, 2), let s = digits(17, 2),
              (1...12).contains(mo), d >= 1, d <= daysIn(month: mo, year: y), h < 24, mi < 60, s < 60 else { return nil }
        var millis = 0
        if b.count == 24 {
            guard b[19] == 46, let ms = digits(20, 3) else { return nil }
            millis = ms
        }
        let days = daysFromCivil(y, mo, d)
        return Double(days * 86_400 + h * 3600 + mi * 60 + s) + Double(millis) / 1000
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Unix seconds as `2020-10-30T03:43:21Z` (with `.SSS` when there are milliseconds).
    public static func iso8601(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.down))
        let millis = Int(((seconds - Double(whole)) * 1000).rounded())
        var days = whole / 86_400
        var rest = whole % 86_400
        if rest < 0 { rest += 86_400; days -= 1 }
        let (y, m, d) = civil(fromDays: days)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        var text = "\(y)-\(two(m))-\(two(d))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))"
        if millis > 0, millis < 1000 { text += "." + String(1000 + millis).dropFirst() }
        return text + "Z"
    }

    /// The date of a day count since 1970-01-01.
    public static func civil(fromDays z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func shown(_ text: String) -> String { text.count > 60 ? String(text.prefix(60)) + "…" : text }
}

/// Why a record was refused; `feature` names the feature at fault.
public struct FeatureRecordError: Error, Sendable, Equatable, CustomStringConvertible {
    public var feature: String?
    public var message: String

    public init(feature: String?, _ message: String) {
        self.feature = feature
        self.message = message
    }

    public var description: String { feature.map { "feature '\($0)': \(message)" } ?? message }
}
