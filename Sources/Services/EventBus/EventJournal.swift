import Events
import Foundation

/// The bus's journal (`data/events/journal.jsonl`): an accepted event and the deliveries it owes
/// are one line, written before PutEvents answers; each delivery that ends (delivered, or in the
/// dead-letter file) is another. A line reaches the kernel with one write(2), so a kill -9 of the
/// host loses nothing it acknowledged; at start the deliveries without an end are owed again
/// (at least once: a delivery that ended just before a kill may run twice). The journal is
/// rewritten with only what is owed when the host starts.
final class EventJournal: @unchecked Sendable {
    struct Owed {
        var seq: UInt64
        var event: JSONValue
        var rule: String
        var target: String
        var accepted: Double
    }

    let path: String
    private var fd: Int32 = -1
    private let lock = NSLock()

    init(folder: String) {
        path = folder + "/journal.jsonl"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    /// Reads what is owed, rewrites the journal with it, and opens it for appending.
    func recover() -> (owed: [Owed], lastSeq: UInt64) {
        var events: [UInt64: (JSONValue, Double, [(String, String)])] = [:]
        var done = Set<String>()
        var last: UInt64 = 0
        if let data = FileManager.default.contents(atPath: path) {
            for line in data.split(separator: UInt8(ascii: "\n")) {
                // A line cut short by a kill is the last one, and was never acknowledged.
                guard let v = try? JSONParser.parse(String(decoding: line, as: UTF8.self)),
                      case .number(let s, _)? = v["seq"], let kind = v["t"]?.stringValue else { continue }
                let seq = UInt64(s)
                last = max(last, seq)
                if kind == "event", let event = v["event"], case .array(let ds)? = v["deliveries"] {
                    var at = 0.0
                    if case .number(let t, _)? = v["accepted"] { at = t }
                    events[seq] = (event, at, ds.compactMap { d in
                        guard case .array(let pair) = d, pair.count == 2, let r = pair[0].stringValue, let t = pair[1].stringValue else { return nil }
                        return (r, t)
                    })
                } else if kind == "done", let r = v["rule"]?.stringValue, let t = v["target"]?.stringValue {
                    done.insert("\(seq)/\(r)/\(t)")
                }
            }
        }
        var owed: [Owed] = []
        for seq in events.keys.sorted() {
            let (event, at, deliveries) = events[seq]!
            for (r, t) in deliveries where !done.contains("\(seq)/\(r)/\(t)") {
                owed.append(Owed(seq: seq, event: event, rule: r, target: t, accepted: at))
            }
        }
        // Rewrite with only what is owed, then append from there.
        var text = ""
        var grouped: [UInt64: [Owed]] = [:]
        for o in owed { grouped[o.seq, default: []].append(o) }
        for seq in grouped.keys.sorted() {
            let items = grouped[seq]!
            text += Self.eventLine(seq: seq, event: items[0].event, accepted: items[0].accepted, deliveries: items.map { ($0.rule, $0.target) })
        }
        let temp = path + ".tmp"
        _ = FileManager.default.createFile(atPath: temp, contents: Data(text.utf8))
        rename(temp, path)
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        return (owed, last)
    }

    static func eventLine(seq: UInt64, event: JSONValue, accepted: Double, deliveries: [(String, String)]) -> String {
        var out = "{\"t\":\"event\",\"seq\":\(seq),\"accepted\":\(accepted),\"deliveries\":["
        for (i, d) in deliveries.enumerated() {
            if i > 0 { out += "," }
            out += "["
            JSONValue.writeString(d.0, into: &out)
            out += ","
            JSONValue.writeString(d.1, into: &out)
            out += "]"
        }
        out += "],\"event\":"
        event.write(into: &out)
        out += "}\n"
        return out
    }

    /// One accepted event and what it owes; returns once the line is in the kernel.
    func accepted(seq: UInt64, event: JSONValue, accepted: Double, deliveries: [(String, String)]) {
        append(Self.eventLine(seq: seq, event: event, accepted: accepted, deliveries: deliveries))
    }

    func done(seq: UInt64, rule: String, target: String) {
        var line = "{\"t\":\"done\",\"seq\":\(seq),\"rule\":"
        JSONValue.writeString(rule, into: &line)
        line += ",\"target\":"
        JSONValue.writeString(target, into: &line)
        line += "}\n"
        append(line)
    }

    private func append(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        guard fd >= 0 else { return }
        var bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno == EINTR { continue }; return }
            offset += n
        }
        bytes.removeAll()
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }
}
