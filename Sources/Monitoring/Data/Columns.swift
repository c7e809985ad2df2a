import Foundation

/// A feature's type as Model Monitor infers it.
public enum InferredType: String, Sendable, Codable, Equatable {
    case integral = "Integral"
    case fractional = "Fractional"
    case string = "String"

    public var isNumeric: Bool { self != .string }
}

/// One feature's values in a dataset (a baseline, or a run's window): the numbers of a numeric
/// feature (in arrival order until `sort`), the counts of a string feature's values, and what
/// could not be used.
public struct Column: Sendable {
    public var name: String
    public var type: InferredType
    public var numbers: [Double] = []
    public var categories: [String: Int] = [:]
    /// Empty cells.
    public var missing = 0
    /// Present cells that are not of the feature's type (a word in a numeric feature, a fraction
    /// in an integral one).
    public var wrongType = 0

    public init(name: String, type: InferredType) {
        self.name = name
        self.type = type
    }

    /// Cells with a value (of any type).
    public var present: Int { type.isNumeric ? numbers.count + unparsed : categories.values.reduce(0, +) }
    /// Present cells of a numeric feature that are not numbers (so not among `numbers`).
    public var unparsed = 0

    public mutating func merge(_ other: Column) {
        numbers += other.numbers
        for (k, v) in other.categories { categories[k, default: 0] += v }
        missing += other.missing
        wrongType += other.wrongType
        unparsed += other.unparsed
    }

    /// Adds one cell's bytes (already unquoted).
    @inline(__always)
    mutating func add(_ cell: UnsafeBufferPointer<UInt8>) {
        if cell.isEmpty {
            missing += 1
            return
        }
        switch type {
        case .string:
            categories[String(decoding: cell, as: UTF8.self), default: 0] += 1
        case .integral, .fractional:
            guard let (value, integral) = NumberParser.parse(cell) else {
                wrongType += 1
                unparsed += 1
                return
            }
            if type == .integral && !integral && value != value.rounded() { wrongType += 1 }
            numbers.append(value)
        }
    }
}

/// A dataset as a monitor reads it: one column per feature, in the baseline's order.
public struct Dataset: Sendable {
    public var columns: [Column]
    /// Rows read (with the right number of columns).
    public var rows = 0
    /// Rows with fewer or more cells than there are features: left out, and counted.
    public var shortRows = 0
    public var longRows = 0
    /// Captured records whose input was not CSV (JSON or base64), or not captured at all.
    public var unreadableRecords = 0

    public init(columns: [Column]) { self.columns = columns }

    public mutating func merge(_ other: Dataset) {
        for i in columns.indices { columns[i].merge(other.columns[i]) }
        rows += other.rows
        shortRows += other.shortRows
        longRows += other.longRows
        unreadableRecords += other.unreadableRecords
    }

    /// Splits one CSV row into cells and adds them, or counts a row of the wrong width.
    mutating func addRow(_ row: UnsafeBufferPointer<UInt8>, scratch: inout [UInt8], cells: inout [Range<Int>]) {
        CSV.split(row, into: &cells, scratch: &scratch)
        if cells.count != columns.count {
            if cells.count < columns.count { shortRows += 1 } else { longRows += 1 }
            return
        }
        rows += 1
        scratch.withUnsafeBufferPointer { s in
            for i in 0..<cells.count {
                let r = cells[i]
                columns[i].add(UnsafeBufferPointer(rebasing: s[r]))
            }
        }
    }
}

/// Comma-separated cells, RFC 4180 quoting (a quoted cell may hold commas and doubled quotes);
/// surrounding spaces are trimmed, as the analyzer does.
enum CSV {
    /// The cells of `row`, written unquoted into `scratch` and addressed by ranges into it.
    static func split(_ row: UnsafeBufferPointer<UInt8>, into cells: inout [Range<Int>], scratch: inout [UInt8]) {
        cells.removeAll(keepingCapacity: true)
        scratch.removeAll(keepingCapacity: true)
        var i = 0
        let n = row.count
        var end = n
        if end > 0 && row[end - 1] == 13 { end -= 1 }
        if end == 0 { return }
        while true {
            // Leading spaces.
            while i < end && row[i] == 32 { i += 1 }
            let start = scratch.count
            if i < end && row[i] == 34 {
                i += 1
                while i < end {
                    if row[i] == 34 {
                        if i + 1 < end && row[i + 1] == 34 { scratch.append(34); i += 2; continue }
                        i += 1
                        break
                    }
                    scratch.append(row[i])
                    i += 1
                }
                while i < end && row[i] != 44 { i += 1 }
            } else {
                while i < end && row[i] != 44 { scratch.append(row[i]); i += 1 }
                while scratch.count > start && scratch[scratch.count - 1] == 32 { scratch.removeLast() }
            }
            cells.append(start..<scratch.count)
            if i >= end { break }
            i += 1  // the comma
            if i == end { cells.append(scratch.count..<scratch.count); break }
        }
    }
}

/// Decimal numbers from bytes: Clinger's fast path (a mantissa of at most 19 digits scaled by
/// an exact power of ten, correctly rounded when both are exact doubles), `strtod` otherwise.
enum NumberParser {
    static let powers: [Double] = (0...22).map { pow(10, Double($0)) }

    /// The value and whether it was written as an integer; nil for anything but a finite number.
    @inline(__always)
    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> (Double, Bool)? {
        var i = 0
        let n = b.count
        var negative = false
        if i < n && (b[i] == 45 || b[i] == 43) { negative = b[i] == 45; i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        var sawDigit = false
        var integral = true
        while i < n, b[i] &- 48 < 10 {
            if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(b[i] &- 48); if mantissa != 0 { digits += 1 } } else { exponent += 1 }
            sawDigit = true
            i += 1
        }
        if i < n && b[i] == 46 {
            integral = false
            i += 1
            while i < n, b[i] &- 48 < 10 {
                if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(b[i] &- 48); if mantissa != 0 { digits += 1 }; exponent -= 1 }
                sawDigit = true
                i += 1
            }
        }
        guard sawDigit else { return nil }
        if i < n && (b[i] == 101 || b[i] == 69) {
            integral = false
            i += 1
            var eNegative = false
            if i < n && (b[i] == 45 || b[i] == 43) { eNegative = b[i] == 45; i += 1 }
            var e = 0
            var eDigits = false
            while i < n, b[i] &- 48 < 10 {
                if e < 100_000 { e = e * 10 + Int(b[i] &- 48) }
                eDigits = true
                i += 1
            }
            guard eDigits else { return nil }
            exponent += eNegative ? -e : e
        }
        guard i == n else { return nil }
        if mantissa < (1 << 53) && abs(exponent) <= 22 {
            var v = Double(mantissa)
            v = exponent >= 0 ? v * powers[exponent] : v / powers[-exponent]
            return (negative ? -v : v, integral)
        }
        // The slow, exact path.
        var text = [CChar](repeating: 0, count: n + 1)
        for k in 0..<n { text[k] = CChar(bitPattern: b[k]) }
        let v = strtod(text, nil)
        guard v.isFinite else { return nil }
        return (v, integral)
    }
}
