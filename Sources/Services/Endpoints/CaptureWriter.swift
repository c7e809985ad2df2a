import Atomics
import EnvironmentAPI
import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// A bounded queue of records that a background writer drains every 250 ms into JSONL files under
/// `{directory}/{partition}/yyyy/mm/dd/hh/`. Offering never waits: when the queue is full the record
/// is dropped and counted. Each drain writes new files under a temporary name and renames them, so a
/// reader only ever sees complete files with whole lines; `close()` drains what is left.
final class HourlyJSONLQueue<Record>: @unchecked Sendable {
    /// Appends one record's line (with its newline) to `out`; `iso` is its time as ISO-8601 bytes.
    typealias Encoder = (Record, _ iso: [UInt8], _ out: inout [UInt8]) -> Void

    let directory: String
    let capacity: Int
    let accepted = ManagedAtomic<UInt64>(0)
    let dropped: ManagedAtomic<UInt64>
    private let partition: (Record) -> (folder: String, time: Double)
    private let encode: Encoder
    /// Told of each file's records once the file is in place (readable), on the writer's thread.
    private let written: (([Record]) -> Void)?
    private let lock = NIOLock()
    private var pending: [Record] = []
    private let queue: DispatchQueue
    private var timer: DispatchSourceTimer?
    private var sequence = 0
    private var clock = TimeStrings(second: 0)

    init(label: String, directory: String, capacity: Int, dropped: ManagedAtomic<UInt64>,
         partition: @escaping (Record) -> (folder: String, time: Double), encode: @escaping Encoder,
         written: (([Record]) -> Void)? = nil) {
        self.written = written
        self.directory = directory
        self.capacity = capacity
        self.dropped = dropped
        self.partition = partition
        self.encode = encode
        queue = DispatchQueue(label: label)
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + 0.25, repeating: 0.25)
        timer.setEventHandler { [weak self] in self?.flush() }
        timer.resume()
        self.timer = timer
    }

    /// Never blocks for long: a short lock around an append.
    func offer(_ record: Record) {
        let ok = lock.withLock { () -> Bool in
            guard pending.count < capacity else { return false }
            pending.append(record)
            return true
        }
        (ok ? accepted : dropped).wrappingIncrement(ordering: .relaxed)
    }

    /// Drains the queue and stops; later offers are still queued but never written.
    func close() {
        timer?.cancel()
        queue.sync { flush() }
    }

    private func flush() {
        let records = lock.withLock { () -> [Record] in
            let r = pending
            pending.removeAll(keepingCapacity: true)
            return r
        }
        guard !records.isEmpty else { return }
        var files: [String: [UInt8]] = [:]
        var members: [String: [Record]] = [:]
        for r in records {
            let (folder, time) = partition(r)
            let second = Int(time)
            if second != clock.second { clock = TimeStrings(second: second) }
            let path = "\(directory)/\(folder)/\(clock.hourPath)"
            encode(r, clock.iso, &files[path, default: []])
            if written != nil { members[path, default: []].append(r) }
        }
        for (folder, bytes) in files {
            sequence += 1
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let name = "\(clock.stamp)-\(sequence).jsonl"
            let temp = "\(folder)/.\(name).tmp"
            guard FileManager.default.createFile(atPath: temp, contents: Data(bytes)), rename(temp, "\(folder)/\(name)") == 0 else {
                unlink(temp)
                dropped.wrappingIncrement(by: UInt64(bytes.lazy.filter { $0 == 10 }.count), ordering: .relaxed)
                continue
            }
            written?(members[folder] ?? [])
        }
    }
}

/// Time strings for one second, computed once per second rather than once per record.
struct TimeStrings {
    var second: Int
    var iso: [UInt8]
    var hourPath: String
    var stamp: String

    static let utc: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    init(second: Int) {
        self.second = second
        let c = Self.utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: Double(second)))
        iso = Array(String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!).utf8)
        hourPath = String(format: "%04d/%02d/%02d/%02d", c.year!, c.month!, c.day!, c.hour!)
        stamp = String(format: "%04d%02d%02dT%02d%02d%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }
}

/// Writes an endpoint's captured invocations as SageMaker data-capture JSONL under
/// `{environment}/capture/{endpoint}/{variant}/yyyy/mm/dd/hh/`. The router hands over records
/// whose body buffers are shared, not copied.
final class CaptureWriter: @unchecked Sendable {
    struct Record {
        var variant: String
        var time: Double
        var inferenceID: String?
        var inputType: String
        var input: [ByteBuffer]
        var outputType: String
        var output: [ByteBuffer]
    }

    let endpoint: String
    let config: CaptureConfiguration
    private var records: HourlyJSONLQueue<Record>!
    private var random = CaptureRandom()
    private var encodingOf: [String: Encoding] = [:]

    /// The environment's clock (moved by `clock advance`), so a monitor's window and the capture
    /// files' hours agree with the schedules that read them.
    private let clock: (any HostClock)?

    var captured: ManagedAtomic<UInt64> { records.accepted }
    var dropped: ManagedAtomic<UInt64> { records.dropped }

    init(endpoint: String, directory: String, config: CaptureConfiguration, dropped: ManagedAtomic<UInt64>, capacity: Int = 20_000,
         clock: (any HostClock)? = nil) {
        self.endpoint = endpoint
        self.clock = clock
        self.config = config
        // The encoder runs only on the queue's own thread, so the writer's caches need no lock.
        records = HourlyJSONLQueue(label: "mlgw.capture.\(endpoint)", directory: directory, capacity: capacity, dropped: dropped,
                                   partition: { ($0.variant, $0.time) },
                                   encode: { [unowned self] r, iso, out in self.line(r, iso: iso, into: &out) })
    }

    /// Whether this invocation is in the sample (`unit` uniform in [0, 1)).
    func samples(_ unit: Double) -> Bool { unit * 100 < config.samplePercent }

    func offer(_ record: Record) { records.offer(record) }

    /// Unix seconds on the environment's clock.
    func now() -> Double { (clock?.now() ?? Date()).timeIntervalSince1970 }

    func close() { records.close() }

    // The fixed parts of a record, as bytes once.
    static let recordStart = Array(#"{"captureData":{"#.utf8)
    static let inputKey = Array(#""endpointInput":"#.utf8)
    static let outputKey = Array(#""endpointOutput":"#.utf8)
    static let eventIDKey = Array(#"},"eventMetadata":{"eventId":""#.utf8)
    static let inferenceIDKey = Array(#","inferenceId":"#.utf8)
    static let inferenceTimeKey = Array(#","inferenceTime":""#.utf8)
    static let recordEnd = Array(#""},"eventVersion":"0"}"#.utf8)
    static let observedKey = Array(#"{"observedContentType":"#.utf8)
    static let modeInput = Array(#","mode":"INPUT","data":"#.utf8)
    static let modeOutput = Array(#","mode":"OUTPUT","data":"#.utf8)
    static let encodings: [Encoding: [UInt8]] = [.csv: Array(#","encoding":"CSV"}"#.utf8), .json: Array(#","encoding":"JSON"}"#.utf8),
                                                 .base64: Array(#","encoding":"BASE64"}"#.utf8)]
    static let hex = Array("0123456789abcdef".utf8)

    enum Encoding { case csv, json, base64 }

    func line(_ r: Record, iso: [UInt8], into out: inout [UInt8]) {
        out += Self.recordStart
        if config.captureInput {
            out += Self.inputKey
            payload(r.input, type: r.inputType, mode: "INPUT", into: &out)
        }
        if config.captureOutput {
            if config.captureInput { out.append(UInt8(ascii: ",")) }
            out += Self.outputKey
            payload(r.output, type: r.outputType, mode: "OUTPUT", into: &out)
        }
        out += Self.eventIDKey
        random.uuid(into: &out)
        out.append(UInt8(ascii: "\""))
        if let id = r.inferenceID {
            out += Self.inferenceIDKey
            appendJSONString(id.utf8, to: &out)
        }
        out += Self.inferenceTimeKey
        out += iso
        out += Self.recordEnd
        out.append(10)
    }

    func payload(_ parts: [ByteBuffer], type: String, mode: String) -> String {
        var out: [UInt8] = []
        payload(parts, type: type, mode: mode, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func payload(_ parts: [ByteBuffer], type: String, mode: String, into out: inout [UInt8]) {
        let encoding = encodingOf[type] ?? {
            let base = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            let e: Encoding = config.csvContentTypes.contains(base) ? .csv : config.jsonContentTypes.contains(base) ? .json : .base64
            encodingOf[type] = e
            return e
        }()
        out += Self.observedKey
        appendJSONString(type.utf8, to: &out)
        out += mode == "INPUT" ? Self.modeInput : Self.modeOutput
        switch encoding {
        case .csv, .json:
            out.append(UInt8(ascii: "\""))
            for p in parts { appendEscaped(p.readableBytesView, to: &out) }
            out.append(UInt8(ascii: "\""))
        case .base64:
            var bytes: [UInt8] = []
            for p in parts { bytes += p.readableBytesView }
            out.append(UInt8(ascii: "\""))
            out += Array(Data(bytes).base64EncodedString().utf8)
            out.append(UInt8(ascii: "\""))
        }
        out += Self.encodings[encoding]!
    }

    /// A JSON string literal of UTF-8 bytes.
    func appendJSONString<C: Collection>(_ bytes: C, to out: inout [UInt8]) where C.Element == UInt8 {
        out.append(UInt8(ascii: "\""))
        appendEscaped(bytes, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// UTF-8 bytes with quotes, backslashes and control bytes escaped for a JSON string.
    func appendEscaped<C: Collection>(_ bytes: C, to out: inout [UInt8]) where C.Element == UInt8 {
        out.reserveCapacity(out.count + bytes.count)
        for b in bytes {
            if b >= 32 && b != 34 && b != 92 {
                out.append(b)
                continue
            }
            out.append(92)
            switch b {
            case 34, 92: out.append(b)
            case 10: out.append(UInt8(ascii: "n"))
            case 13: out.append(UInt8(ascii: "r"))
            case 9: out.append(UInt8(ascii: "t"))
            default:
                out.append(UInt8(ascii: "u")); out.append(48); out.append(48)
                out.append(Self.hex[Int(b >> 4)]); out.append(Self.hex[Int(b & 15)])
            }
        }
    }

}

/// Random version-4 UUIDs for event ids, from a generator seeded once (Foundation's UUID() asks
/// the kernel for every one).
struct CaptureRandom {
    var state: UInt64 = UInt64.random(in: 1...UInt64.max)

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545F4914F6CDD1D
    }

    mutating func uuid(into out: inout [UInt8]) {
        var bytes = [UInt8](repeating: 0, count: 16)
        let a = next(), b = next()
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: a >> (8 * i))
            bytes[8 + i] = UInt8(truncatingIfNeeded: b >> (8 * i))
        }
        bytes[6] = (bytes[6] & 0x0f) | 0x40
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(CaptureWriter.hex[Int(byte >> 4)])
            out.append(CaptureWriter.hex[Int(byte & 15)])
        }
    }
}
