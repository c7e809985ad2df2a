import Foundation

/// A problem with a baseline CSV, located (1-based line and column) for people to fix.
public struct BaselineError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var line: Int
    public var column: Int
    public var message: String
    public var hint: String

    public var description: String { "\(path):\(line):\(column): \(message)\(hint.isEmpty ? "" : "; \(hint)")" }
}

/// Reads a training CSV with a header into a dataset: the header names the features, each
/// feature's type is inferred from its values (Integral when every value is a whole number,
/// Fractional when every value is a number, String otherwise), empty cells are missing. A file
/// without a header, a repeated or empty name, or a row of a different width is refused with
/// its line and column: a baseline is the yardstick of every later run, so it is never guessed.
public enum BaselineCSV {
    /// Feature types given by the stack win over inference (a zip code written as digits).
    public static func read(path: String, types declared: [String: InferredType] = [:]) throws(BaselineError) -> Dataset {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BaselineError(path: path, line: 0, column: 0, message: "cannot read the baseline file", hint: "check that it exists and is readable")
        }
        return try read(data: data, path: path, types: declared)
    }

    /// The header's feature names, after the same checks as `read` (a header, unique names, every
    /// row as wide as the header), without keeping the values: what validate looks at.
    public static func header(path: String) throws(BaselineError) -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BaselineError(path: path, line: 0, column: 0, message: "cannot read the baseline file", hint: "check that it exists and is readable")
        }
        return try read(data: data, path: path, valuesToo: false).columns.map(\.name)
    }

    public static func read(data: Data, path: String, types declared: [String: InferredType] = [:], valuesToo: Bool = true) throws(BaselineError) -> Dataset {
        var result: Result<Dataset, BaselineError> = .failure(BaselineError(path: path, line: 1, column: 1, message: "the file is empty", hint: "write a header line naming the features, then one row per training example"))
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            result = Result { () throws(BaselineError) -> Dataset in try parse(bytes, path: path, declared: declared, valuesToo: valuesToo) }
        }
        return try result.get()
    }

    static func lines(_ b: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = 0
        var inQuotes = false
        for i in 0..<b.count {
            let c = b[i]
            if c == 34 { inQuotes.toggle() } else if c == 10 && !inQuotes {
                out.append(start..<i)
                start = i + 1
            }
        }
        if start < b.count { out.append(start..<b.count) }
        return out
    }

    static func parse(_ b: UnsafeBufferPointer<UInt8>, path: String, declared: [String: InferredType], valuesToo: Bool) throws(BaselineError) -> Dataset {
        var lineRanges = lines(b)
        // Trailing blank lines are not rows.
        while let last = lineRanges.last, last.isEmpty || (last.count == 1 && b[last.lowerBound] == 13) { lineRanges.removeLast() }
        guard let headerRange = lineRanges.first else {
            throw BaselineError(path: path, line: 1, column: 1, message: "the file is empty", hint: "write a header line naming the features, then one row per training example")
        }
        var scratch: [UInt8] = []
        var cells: [Range<Int>] = []
        CSV.split(UnsafeBufferPointer(rebasing: b[headerRange]), into: &cells, scratch: &scratch)
        let names = cells.map { String(decoding: scratch[$0], as: UTF8.self) }
        var seen: [String: Int] = [:]
        var column = 1
        for (i, name) in names.enumerated() {
            if name.isEmpty {
                throw BaselineError(path: path, line: 1, column: column, message: "column \(i + 1) of the header has no name", hint: "name every feature in the first line")
            }
            if Array(name.utf8).withUnsafeBufferPointer({ NumberParser.parse($0) != nil }) {
                throw BaselineError(path: path, line: 1, column: column,
                                    message: "the first line holds a number ('\(name)'), not a feature name: the file has no header",
                                    hint: "add a header line naming the features (captured rows have none, so the names come from here)")
            }
            if let first = seen[name] {
                throw BaselineError(path: path, line: 1, column: column, message: "feature '\(name)' is named twice (columns \(first) and \(i + 1))", hint: "give every column its own name")
            }
            seen[name] = i + 1
            column += name.utf8.count + 1
        }
        let width = names.count
        let rows = Array(lineRanges.dropFirst())
        // Pass 1: widths, and which columns hold anything but numbers (in parallel over chunks).
        let chunks = max(1, min(8, rows.count / 50_000))
        var textual = [[Bool]](repeating: [Bool](repeating: false, count: width), count: chunks)
        var fractional = textual
        var badRow = [(line: Int, cells: Int)?](repeating: nil, count: chunks)
        textual.withUnsafeMutableBufferPointer { textual in
            fractional.withUnsafeMutableBufferPointer { fractional in
                badRow.withUnsafeMutableBufferPointer { badRow in
                    Parallel.forEach(chunks) { c in
                        var scratch: [UInt8] = []
                        var cells: [Range<Int>] = []
                        let lo = rows.count * c / chunks, hi = rows.count * (c + 1) / chunks
                        scratch.reserveCapacity(256)
                        for k in lo..<hi {
                            let r = rows[k]
                            CSV.split(UnsafeBufferPointer(rebasing: b[r]), into: &cells, scratch: &scratch)
                            if cells.count != width {
                                // A blank line inside the file is a row of one empty cell.
                                badRow[c] = (k + 2, cells.count)
                                return
                            }
                            scratch.withUnsafeBufferPointer { s in
                                for i in 0..<width where !textual[c][i] {
                                    let cell = UnsafeBufferPointer(rebasing: s[cells[i]])
                                    if cell.isEmpty { continue }
                                    if let (v, integral) = NumberParser.parse(cell) {
                                        if !integral && v != v.rounded() { fractional[c][i] = true }
                                    } else { textual[c][i] = true }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let bad = badRow.compactMap({ $0 }).min(by: { $0.line < $1.line }) {
            throw BaselineError(path: path, line: bad.line, column: 1,
                                message: "row has \(bad.cells) \(bad.cells == 1 ? "cell" : "cells"), the header names \(width) features",
                                hint: "every row needs one value per header column (leave a cell empty for a missing value)")
        }
        var columns: [Column] = []
        if !valuesToo { return Dataset(columns: names.map { Column(name: $0, type: .string) }) }
        for (i, name) in names.enumerated() {
            let type: InferredType
            if let t = declared[name] { type = t } else if textual.contains(where: { $0[i] }) { type = .string } else if fractional.contains(where: { $0[i] }) { type = .fractional } else { type = .integral }
            columns.append(Column(name: name, type: type))
        }
        // Pass 2: the values, in parallel over chunks, merged in order.
        var parts = [Dataset](repeating: Dataset(columns: columns), count: chunks)
        parts.withUnsafeMutableBufferPointer { parts in
            Parallel.forEach(chunks) { c in
                var scratch: [UInt8] = []
                var cells: [Range<Int>] = []
                let lo = rows.count * c / chunks, hi = rows.count * (c + 1) / chunks
                for i in parts[c].columns.indices where parts[c].columns[i].type.isNumeric { parts[c].columns[i].numbers.reserveCapacity(hi - lo) }
                for k in lo..<hi { parts[c].addRow(UnsafeBufferPointer(rebasing: b[rows[k]]), scratch: &scratch, cells: &cells) }
            }
        }
        var dataset = parts[0]
        for p in parts.dropFirst() { dataset.merge(p) }
        return dataset
    }
}
