import EnvironmentAPI
import Foundation
import NIOConcurrencyHelpers

/// The offline store's queue: rows written but not yet in the offline store's files, kept in an
/// append-only log (`offline-queue/queue-N.log`, one line per row: group, event time, the row's
/// JSON). A write appends its rows with one `write(2)` before it is acknowledged, so they survive a
/// kill -9 of the host as the online store's commit does. A flush seals the current log
/// (`sealed-N.log`) and starts the next; each sealed log becomes files named `part-N.jsonl`, one
/// per group and hour of event time, written aside and renamed; then the log is deleted. A crash
/// anywhere repeats the same log into the same names.
final class OfflineQueue: @unchecked Sendable {
    let folder: String
    private let lock = NIOLock()
    private var fd: Int32 = -1
    private var number: Int
    private var size: Int = 0
    /// Rows per group in the logs (current and sealed).
    private var pending: [String: Int] = [:]

    /// `firstNumber`: above every log already turned into files (their names must not repeat).
    init(folder: String, firstNumber: Int) throws {
        self.folder = folder
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // The log a host was writing when it stopped is sealed as it is: the next flush writes it out.
        for log in Self.logs(in: folder) where log.name.hasPrefix("queue-") {
            rename(folder + "/" + log.name, folder + "/sealed-\(log.number).log")
        }
        let existing = Self.logs(in: folder)
        number = max(firstNumber, (existing.map(\.number).max() ?? 0) + 1)
        // Rows left by a host that stopped before flushing them.
        for log in existing {
            for line in Self.lines(of: folder + "/" + log.name) { pending[line.group, default: 0] += 1 }
        }
        try open()
    }

    deinit { if fd >= 0 { close(fd) } }

    private func open() throws {
        fd = Glibc.open(folder + "/queue-\(number).log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FeatureStoreError(kind: .internalFailure, message: "cannot open the offline queue: \(String(cString: strerror(errno)))") }
        var st = stat()
        size = fstat(fd, &st) == 0 ? Int(st.st_size) : 0
    }

    /// A line of the log.
    static func line(group: String, eventTime: Double, row: String) -> [UInt8] {
        Array(group.utf8) + [9] + Array(String(eventTime).utf8) + [9] + Array(row.utf8) + [10]
    }

    /// Appends rows, then runs `commit` (the online write); when `commit` throws, the rows are
    /// taken back. Appends are serialised with each other and with their commits, so taking back
    /// cuts only this write's rows.
    func append<T>(_ lines: [UInt8], rows: [String: Int], commit: () throws -> T) throws -> T {
        try lock.withLock {
            let before = size
            if !lines.isEmpty {
                var written = 0
                while written < lines.count {
                    let n = lines.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, lines.count - written) }
                    if n < 0 {
                        if errno == EINTR { continue }
                        let reason = String(cString: strerror(errno))
                        _ = ftruncate(fd, off_t(before))
                        throw FeatureStoreError(kind: .internalFailure, message: "cannot write the offline queue: \(reason)")
                    }
                    written += n
                }
                size += lines.count
            }
            do {
                let value = try commit()
                for (g, n) in rows { pending[g, default: 0] += n }
                return value
            } catch {
                if size != before {
                    _ = ftruncate(fd, off_t(before))
                    size = before
                }
                throw error
            }
        }
    }

    /// Rows of `group` waiting for a flush.
    func pendingRows(_ group: String) -> Int { lock.withLock { pending[group] ?? 0 } }
    var pendingTotal: Int { lock.withLock { pending.values.reduce(0, +) } }

    /// Seals the current log if it holds rows; returns the sealed logs to turn into files, oldest first.
    func seal() throws -> [(number: Int, name: String)] {
        try lock.withLock {
            if size > 0 {
                close(fd)
                fd = -1
                guard rename(folder + "/queue-\(number).log", folder + "/sealed-\(number).log") == 0 else {
                    throw FeatureStoreError(kind: .internalFailure, message: "cannot seal the offline queue: \(String(cString: strerror(errno)))")
                }
                number += 1
                try open()
            }
        }
        return Self.logs(in: folder).filter { $0.name.hasPrefix("sealed-") }
    }

    /// A sealed log is in the offline store's files: its rows are no longer pending.
    func done(_ log: (number: Int, name: String), rows: [String: Int]) {
        unlink(folder + "/" + log.name)
        lock.withLock { for (g, n) in rows { pending[g] = max(0, (pending[g] ?? 0) - n) } }
    }

    /// Forgets a deleted group's pending rows (a flush before the delete wrote them).
    func forget(_ group: String) { lock.withLock { pending[group] = nil } }

    static func logs(in folder: String) -> [(number: Int, name: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasSuffix(".log"), let dash = name.lastIndex(of: "-"),
                  let n = Int(name[name.index(after: dash)...].dropLast(4)) else { return nil }
            return (n, name)
        }.sorted { $0.0 < $1.0 }
    }

    struct Line {
        var group: String
        var eventTime: Double
        /// The row's JSON object.
        var row: ArraySlice<UInt8>
    }

    /// The complete lines of a log (a line cut short by a crash mid-write is not a row).
    static func lines(of path: String) -> [Line] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let bytes = [UInt8](data)
        var out: [Line] = []
        var start = 0
        while start < bytes.count {
            guard let end = bytes[start...].firstIndex(of: 10) else { break }
            let line = bytes[start..<end]
            start = end + 1
            guard let t1 = line.firstIndex(of: 9), let t2 = line[(t1 + 1)...].firstIndex(of: 9),
                  let time = Double(String(decoding: line[(t1 + 1)..<t2], as: UTF8.self)) else { continue }
            out.append(Line(group: String(decoding: line[..<t1], as: UTF8.self), eventTime: time, row: line[(t2 + 1)...]))
        }
        return out
    }
}
