import EnvironmentAPI
import Foundation

/// Reads an endpoint's data capture (`{folder}/{variant}/yyyy/mm/dd/hh/*.jsonl`, one SageMaker
/// capture record a line) into a dataset: the input's CSV rows of the records whose
/// `inferenceTime` falls in the window, split into the baseline's columns. A byte scanner, not a
/// JSON decoder: it looks for the keys the capture format fixes and decodes only the input's
/// string. Files are read in parallel; the result does not depend on their order.
public enum CaptureReader {
    public struct Summary: Sendable {
        public var files = 0
        /// Records in the window (read or not).
        public var records = 0
    }

    /// The capture files whose hour overlaps [start, end), for one variant or all of them.
    public static func files(in folder: String, variant: String?, start: Double, end: Double) -> [String] {
        let fm = FileManager.default
        let variants = variant.map { [$0] } ?? ((try? fm.contentsOfDirectory(atPath: folder))?.sorted() ?? [])
        var out: [String] = []
        func numbered(_ path: String) -> [(Int, String)] {
            ((try? fm.contentsOfDirectory(atPath: path)) ?? []).compactMap { name in Int(name).map { ($0, path + "/" + name) } }.sorted { $0.0 < $1.0 }
        }
        let firstHour = (start / 3600).rounded(.down) * 3600
        for v in variants {
            for (y, yp) in numbered(folder + "/" + v) {
                for (m, mp) in numbered(yp) {
                    for (d, dp) in numbered(mp) {
                        for (h, hp) in numbered(dp) {
                            let hour = Double(CivilDate.epochSeconds(year: y, month: m, day: d, hour: h))
                            guard hour >= firstHour, hour < end else { continue }
                            let names = ((try? fm.contentsOfDirectory(atPath: hp)) ?? []).filter { $0.hasSuffix(".jsonl") && !$0.hasPrefix(".") }.sorted()
                            out += names.map { hp + "/" + $0 }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The window's rows of `files`, into columns shaped like `template` (names and types).
    public static func read(files: [String], template: [Column], start: Double, end: Double) -> (Dataset, Summary) {
        let workers = max(1, min(files.count, ProcessInfo.processInfo.activeProcessorCount * 2))
        var parts = [(Dataset, Int)](repeating: (Dataset(columns: template), 0), count: workers)
        parts.withUnsafeMutableBufferPointer { parts in
            Parallel.forEach(workers) { w in
                var scanner = LineScanner()
                var k = w
                while k < files.count {
                    if let data = FileManager.default.contents(atPath: files[k]) {
                        data.withUnsafeBytes { raw in
                            parts[w].1 += scanner.scan(raw.bindMemory(to: UInt8.self), into: &parts[w].0, start: start, end: end)
                        }
                    }
                    k += workers
                }
            }
        }
        var dataset = parts[0].0
        var summary = Summary(files: files.count, records: parts[0].1)
        for p in parts.dropFirst() {
            dataset.merge(p.0)
            summary.records += p.1
        }
        return (dataset, summary)
    }
}

extension CaptureReader {
    /// One captured answer: the record's ids and the output's text (a CSV answer's first line).
    public struct Answer: Sendable {
        public var eventID: String
        public var inferenceID: String?
        public var text: String
    }

    /// The captured answers of the records in [start, end); records without a CSV or JSON output
    /// are counted as `unreadable`.
    public static func answers(files: [String], start: Double, end: Double) -> (answers: [Answer], records: Int, unreadable: Int) {
        var answers: [Answer] = []
        var records = 0, unreadable = 0
        var scanner = LineScanner()
        for f in files {
            guard let data = FileManager.default.contents(atPath: f) else { continue }
            data.withUnsafeBytes { raw in
                let b = raw.bindMemory(to: UInt8.self)
                LineScanner.forEachLine(b) { line in
                    guard let t = LineScanner.find(LineScanner.timeKey, in: line, from: 0), t + 20 <= line.count,
                          let time = CivilDate.parseISO(UnsafeBufferPointer(rebasing: line[t..<(t + 20)])), time >= start, time < end else { return }
                    records += 1
                    guard let o = LineScanner.find(LineScanner.outputKey, in: line, from: 0), let d = LineScanner.find(LineScanner.dataKey, in: line, from: o),
                          scanner.unescape(line, from: d) != nil,
                          let e = LineScanner.find(LineScanner.eventKey, in: line, from: 0), let eventID = LineScanner.string(line, from: e) else {
                        unreadable += 1
                        return
                    }
                    let text = String(decoding: scanner.text, as: UTF8.self).split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                    let inference = LineScanner.find(LineScanner.inferenceKey, in: line, from: 0).flatMap { LineScanner.string(line, from: $0) }
                    answers.append(Answer(eventID: eventID, inferenceID: inference, text: text))
                }
            }
        }
        return (answers, records, unreadable)
    }
}

/// Finds the capture record's fields in one line's bytes.
struct LineScanner {
    static let timeKey = Array(#""inferenceTime":""#.utf8)
    static let inputKey = Array(#""endpointInput":"#.utf8)
    static let dataKey = Array(#""data":""#.utf8)
    static let encodingKey = Array(#""encoding":""#.utf8)
    static let outputKey = Array(#""endpointOutput":"#.utf8)
    static let eventKey = Array(#""eventId":""#.utf8)
    static let inferenceKey = Array(#""inferenceId":""#.utf8)

    /// A JSON string without escapes from `from` to its closing quote (ids).
    static func string(_ b: UnsafeBufferPointer<UInt8>, from: Int) -> String? {
        var i = from
        while i < b.count && b[i] != 34 {
            if b[i] == 92 { return nil }
            i += 1
        }
        return i < b.count ? String(decoding: UnsafeBufferPointer(rebasing: b[from..<i]), as: UTF8.self) : nil
    }
    static let csv = Array("CSV".utf8)

    var text: [UInt8] = []
    var scratch: [UInt8] = []
    var cells: [Range<Int>] = []

    /// Adds the rows of the records in [start, end); returns how many records were in the window.
    mutating func scan(_ b: UnsafeBufferPointer<UInt8>, into dataset: inout Dataset, start: Double, end: Double) -> Int {
        var inWindow = 0
        Self.forEachLine(b) { line in
            guard let t = Self.find(Self.timeKey, in: line, from: 0), t + 20 <= line.count,
                  let time = CivilDate.parseISO(UnsafeBufferPointer(rebasing: line[t..<(t + 20)])) else {
                // A line without a readable time cannot be placed in any window.
                return
            }
            guard time >= start, time < end else { return }
            inWindow += 1
            guard let input = Self.find(Self.inputKey, in: line, from: 0), let d = Self.find(Self.dataKey, in: line, from: input),
                  let after = unescape(line, from: d) else {
                dataset.unreadableRecords += 1
                return
            }
            guard let e = Self.find(Self.encodingKey, in: line, from: after), e + 3 <= line.count,
                  line[e] == 67, line[e + 1] == 83, line[e + 2] == 86, e + 3 < line.count, line[e + 3] == 34 else {
                dataset.unreadableRecords += 1
                return
            }
            // The input may hold several CSV rows (a batch), one a line.
            text.withUnsafeBufferPointer { t in
                var rs = 0
                for i in 0...t.count where i == t.count || t[i] == 10 {
                    if i > rs { dataset.addRow(UnsafeBufferPointer(rebasing: t[rs..<i]), scratch: &scratch, cells: &cells) }
                    rs = i + 1
                }
            }
        }
        return inWindow
    }

    /// Calls `body` with each non-empty line of `b` (without its newline).
    static func forEachLine(_ b: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var lineStart = 0
        let n = b.count
        while lineStart < n {
            var lineEnd = n
            if let nl = memchr(b.baseAddress! + lineStart, 10, n - lineStart) {
                lineEnd = b.baseAddress!.distance(to: nl.assumingMemoryBound(to: UInt8.self))
            }
            if lineEnd > lineStart { body(UnsafeBufferPointer(rebasing: b[lineStart..<lineEnd])) }
            lineStart = lineEnd + 1
        }
    }

    /// Decodes the JSON string starting at `from` into `text`; returns the index after its closing quote.
    mutating func unescape(_ b: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        text.removeAll(keepingCapacity: true)
        var i = from
        while i < b.count {
            let c = b[i]
            if c == 34 { return i + 1 }
            if c != 92 {
                text.append(c)
                i += 1
                continue
            }
            guard i + 1 < b.count else { return nil }
            let e = b[i + 1]
            i += 2
            switch e {
            case 110: text.append(10)
            case 116: text.append(9)
            case 114: text.append(13)
            case 98: text.append(8)
            case 102: text.append(12)
            case 117:
                guard i + 4 <= b.count, let v = UInt32(String(decoding: UnsafeBufferPointer(rebasing: b[i..<(i + 4)]), as: UTF8.self), radix: 16) else { return nil }
                i += 4
                let scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
                text += Array(String(Character(scalar)).utf8)
            default: text.append(e)
            }
        }
        return nil
    }

    /// The index just after `needle` in `b` at or after `from`.
    static func find(_ needle: [UInt8], in b: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        let m = needle.count
        guard m > 0, from + m <= b.count else { return nil }
        let base = b.baseAddress!
        let first = Int32(needle[0])
        var i = from
        let last = b.count - m
        return needle.withUnsafeBufferPointer { nd -> Int? in
            while i <= last {
                // memchr finds the first byte; memcmp checks the rest.
                guard let hit = memchr(base + i, first, last - i + 1) else { return nil }
                let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + at, nd.baseAddress!, m) == 0 { return at + m }
                i = at + 1
            }
            return nil
        }
    }
}

/// Civil (proleptic Gregorian, UTC) dates to Unix seconds and back, without Foundation's calendar.
public enum CivilDate {
    public static func epochSeconds(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days * 86_400 + hour * 3600 + minute * 60 + second
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`.
    static func parseISO(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        guard b.count == 20, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58, b[19] == 90 else { return nil }
        func num(_ from: Int, _ len: Int) -> Int? {
            var v = 0
            for k in from..<(from + len) {
                let d = b[k] &- 48
                guard d < 10 else { return nil }
                v = v * 10 + Int(d)
            }
            return v
        }
        guard let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2), let s = num(17, 2),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61 else { return nil }
        return Double(epochSeconds(year: y, month: mo, day: d, hour: h, minute: mi, second: s))
    }

    /// `20261203T074500`: a run's folder name.
    public static func stamp(_ t: Double) -> String {
        let s = Int(t.rounded(.down))
        let days = s >= 0 ? s / 86_400 : (s - 86_399) / 86_400
        let rem = s - days * 86_400
        let (y, m, d) = FeatureRecords.civil(fromDays: days)
        return String(format: "%04d%02d%02dT%02d%02d%02d", y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
    }

    public static func iso(_ t: Double) -> String {
        let s = stamp(t)
        let c = Array(s)
        return "\(String(c[0..<4]))-\(String(c[4..<6]))-\(String(c[6..<8]))T\(String(c[9..<11])):\(String(c[11..<13])):\(String(c[13..<15]))Z"
    }
}
