import Foundation

/// Records read from a file of rows: CSV with a header row (an empty cell leaves the feature
/// out; a collection's cell is a JSON array), or JSON lines (one object per line; null leaves the
/// feature out). Each row comes with its line, so a bad value is `FILE:LINE: column 'x': ...`.
/// Shared by the host (`load:` at apply) and `ingest`, which read the same files the same way.
public struct FeatureFileReader {
    public struct Row: Sendable {
        public var line: Int
        public var values: [FeatureValue]
    }

    public enum Format: Sendable { case csv, jsonLines }

    let bytes: [UInt8]
    let format: Format
    let group: FeatureGroupConfiguration
    var offset = 0
    var line = 1
    var header: [String] = []
    /// Problems of the file as a whole (a header naming an unknown feature).
    public private(set) var fileError: String?

    public init(contentsOf path: String, group: FeatureGroupConfiguration) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FeatureRecordError(feature: nil, "cannot read '\(path)'")
        }
        self.init(bytes: Array(data), format: path.hasSuffix(".csv") ? .csv : .jsonLines, group: group)
    }

    /// `firstLine`: the line number of the bytes' first line (a CSV chunk's header counts as
    /// the line before its first row).
    public init(bytes: [UInt8], format: Format, group: FeatureGroupConfiguration, firstLine: Int = 1) {
        self.bytes = bytes
        self.format = format
        self.group = group
        self.line = firstLine
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { offset = 3 }
        if format == .csv { readHeader() }
    }

    public var totalBytes: Int { bytes.count }
    public var bytesRead: Int { offset }

    mutating func readHeader() {
        guard let cells = nextCSVRecord() else {
            fileError = "the file is empty: a CSV file starts with a header row naming the features"
            return
        }
        header = cells.map { $0.trimmingCharacters(in: .whitespaces) }
        for (i, name) in header.enumerated() {
            if group.feature(name) == nil {
                fileError = "header: column \(i + 1) '\(name)' is not a feature of group '\(group.name)'"
                return
            }
        }
        if Set(header).count != header.count { fileError = "header: it names a feature twice" }
    }

    /// The next row, or why it cannot be read (`Result.failure` carries the line's message);
    /// nil at the end of the file.
    public mutating func next() -> (line: Int, result: Result<[FeatureValue], FeatureRecordError>)? {
        guard fileError == nil else { return nil }
        while offset < bytes.count {
            let start = line
            switch format {
            case .csv:
                guard let cells = nextCSVRecord() else { return nil }
                if cells.count == 1 && cells[0].isEmpty { continue }
                return (start, row(cells))
            case .jsonLines:
                let lineStart = offset
                while offset < bytes.count && bytes[offset] != 10 { offset += 1 }
                let slice = bytes[lineStart..<offset]
                if offset < bytes.count { offset += 1 }
                line += 1
                if slice.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
                return (start, jsonRow(Data(slice)))
            }
        }
        return nil
    }

    func row(_ cells: [String]) -> Result<[FeatureValue], FeatureRecordError> {
        guard cells.count == header.count else {
            return .failure(FeatureRecordError(feature: nil, "the row has \(cells.count) cells, the header \(header.count)"))
        }
        var values: [FeatureValue] = []
        values.reserveCapacity(cells.count)
        for (name, cell) in zip(header, cells) where !cell.isEmpty {
            if group.feature(name)?.collection != nil {
                guard let list = (try? JSONSerialization.jsonObject(with: Data(cell.utf8))) as? [Any] else {
                    return .failure(FeatureRecordError(feature: name, "a collection's cell is a JSON array such as [\"a\",\"b\"], found '\(cell.prefix(60))'"))
                }
                values.append(FeatureValue(name, list: list.map(Self.text)))
            } else {
                values.append(FeatureValue(name, cell))
            }
        }
        return .success(values)
    }

    func jsonRow(_ data: Data) -> Result<[FeatureValue], FeatureRecordError> {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            return .failure(FeatureRecordError(feature: nil, "the line is not a JSON object"))
        }
        var values: [FeatureValue] = []
        // The group's order, so records read back in the order the schema declares.
        for name in object.keys where group.feature(name) == nil {
            return .failure(FeatureRecordError(feature: name, "feature group '\(group.name)' has no such feature"))
        }
        for f in group.features {
            guard let v = object[f.name], !(v is NSNull) else { continue }
            if let list = v as? [Any] {
                values.append(FeatureValue(f.name, list: list.map(Self.text)))
            } else if v is [String: Any] {
                return .failure(FeatureRecordError(feature: f.name, "a value is a string, a number or a list, not an object"))
            } else {
                values.append(FeatureValue(f.name, Self.text(v)))
            }
        }
        return .success(values)
    }

    /// A JSON value as the API's text: numbers as written, booleans as true/false.
    public static func text(_ v: Any) -> String {
        if let s = v as? String { return s }
        if let n = v as? NSNumber {
            // JSON's true and false arrive as NSNumbers whose type is C's char.
            if String(cString: n.objCType) == "c" { return n.boolValue ? "true" : "false" }
            return String(describing: n)
        }
        return "\(v)"
    }

    mutating func nextCSVRecord() -> [String]? {
        var records = CSVRecords(bytes: bytes, offset: offset, line: line)
        defer { (offset, line) = (records.offset, records.line) }
        return records.next()
    }
}

/// CSV records (RFC 4180: quotes around a cell, "" inside them; a record may span lines), read
/// from bytes; `line` counts the lines read. Feature files and `features export`'s entity files.
public struct CSVRecords {
    let bytes: [UInt8]
    public private(set) var offset: Int
    public private(set) var line: Int

    public init(bytes: [UInt8], offset: Int? = nil, line: Int = 1) {
        self.bytes = bytes
        self.offset = offset ?? (bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0)
        self.line = line
    }

    /// The next record's cells, or nil at the end.
    public mutating func next() -> [String]? {
        guard offset < bytes.count else { return nil }
        var cells: [String] = []
        var cell: [UInt8] = []
        var quoted = false
        while offset < bytes.count {
            let b = bytes[offset]
            offset += 1
            if quoted {
                if b == 34 {
                    if offset < bytes.count && bytes[offset] == 34 { cell.append(34); offset += 1 } else { quoted = false }
                } else {
                    if b == 10 { line += 1 }
                    cell.append(b)
                }
                continue
            }
            switch b {
            case 44:
                cells.append(String(decoding: cell, as: UTF8.self))
                cell.removeAll(keepingCapacity: true)
            case 34 where cell.isEmpty:
                quoted = true
            case 10:
                line += 1
                if cell.last == 13 { cell.removeLast() }
                cells.append(String(decoding: cell, as: UTF8.self))
                return cells
            default:
                cell.append(b)
            }
        }
        if cell.last == 13 { cell.removeLast() }
        cells.append(String(decoding: cell, as: UTF8.self))
        return cells
    }

    /// A cell as CSV writes it: quoted when it holds a comma, a quote or a line break.
    public static func quoted(_ cell: String) -> String {
        guard cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
