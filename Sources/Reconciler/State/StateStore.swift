import EnvironmentAPI
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Spec

/// Reads and writes one environment's state with a lock (Terraform's statemgr).
///
/// Snapshots are atomic: a temp file is written and fsync'd, then renamed over the old one, and the
/// folder fsync'd, so a crash at any point leaves either the old or the new state, never a torn
/// file. During an apply each change is appended to `state.journal` as one fsync'd JSON line
/// instead of rewriting the whole file (rewriting made a 1,000-resource apply quadratic); `read`
/// replays the journal over the snapshot, ignoring a torn last line, and the next snapshot folds
/// it in. The lock is an `flock` on a lock file, so the kernel drops it when the holder dies
/// (even by SIGKILL); the holder's pid, command and start time are written into the file so a
/// second command can say who holds it.
public actor StateStore {
    public nonisolated let directory: String
    public nonisolated var statePath: String { directory + "/state.json" }
    var lockPath: String { directory + "/lock" }
    public nonisolated var journalPath: String { directory + "/state.journal" }
    var lockFD: Int32 = -1
    var journalFD: Int32 = -1

    public init(directory: String) {
        self.directory = directory
    }

    /// The last written state, or nil for an environment never applied.
    public func read() throws(StateFileError) -> StackState? {
        guard let data = FileManager.default.contents(atPath: statePath) else { return nil }
        var state = try StateFile.decode(data, path: statePath)
        if let journal = FileManager.default.contents(atPath: journalPath), !journal.isEmpty {
            let decoder = JSONDecoder()
            for line in journal.split(separator: UInt8(ascii: "\n")) {
                // Only the last line can be torn (a crash mid-append); that change is then not
                // recorded, and the provider's idempotent create makes the next apply converge.
                guard let entry = try? decoder.decode(JournalEntry.self, from: Data(line)) else { break }
                switch entry {
                case .set(let r): state.set(r)
                case .remove(let a): state.remove(a)
                }
                state.serial += 1
            }
        }
        return state
    }

    /// SHA-256 of the state's bytes, journal included ("" when there is none): what a saved plan checks.
    public func fingerprint() -> String {
        guard let data = FileManager.default.contents(atPath: statePath) else { return "" }
        let journal = FileManager.default.contents(atPath: journalPath) ?? Data()
        return SHA256.hex(of: [UInt8](data) + [UInt8](journal))
    }

    /// One change of an apply, as a journal line.
    public enum JournalEntry: Codable, Sendable {
        case set(ResourceState)
        case remove(ResourceAddress)
    }

    /// Appends one change and fsyncs it: durable as soon as this returns.
    public func append(_ entry: JournalEntry) throws(StateFileError) {
        if journalFD < 0 {
            journalFD = open(journalPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard journalFD >= 0 else { throw .io(path: journalPath, detail: StateFileError.reason(errno)) }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var line = try? encoder.encode(entry) else { throw .io(path: journalPath, detail: "cannot encode entry") }
        line.append(UInt8(ascii: "\n"))
        guard Self.writeAll(line, to: journalFD) else { throw .io(path: journalPath, detail: StateFileError.reason(errno)) }
    }

    public func write(_ state: StackState) throws(StateFileError) {
        var state = state
        state.serial += 1
        let data: Data
        do { data = try StateFile.encode(state) } catch { throw .io(path: statePath, detail: "\(error)") }
        try Self.ensureDirectory(directory)
        let temp = statePath + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: temp, detail: StateFileError.reason(errno)) }
        let ok = Self.writeAll(data, to: fd)
        close(fd)
        guard ok else { unlink(temp); throw .io(path: temp, detail: StateFileError.reason(errno)) }
        // Keep the previous version as a backup, as Terraform does.
        if FileManager.default.fileExists(atPath: statePath) {
            _ = unlink(statePath + ".backup")
            _ = link(statePath, statePath + ".backup")
        }
        guard rename(temp, statePath) == 0 else { throw .io(path: statePath, detail: StateFileError.reason(errno)) }
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY)
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
        // The snapshot now holds everything the journal said.
        if journalFD >= 0 { close(journalFD); journalFD = -1 }
        unlink(journalPath)
        lastWritten = state
    }

    /// The state as last written by this store (serial included).
    public private(set) var lastWritten: StackState?

    /// Takes the environment's lock for `command`, waiting up to `timeout` seconds (0: fail at once).
    public func lock(command: String, timeout: Double) async throws(StateFileError) {
        try Self.ensureDirectory(directory)
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: lockPath, detail: StateFileError.reason(errno)) }
        let deadline = Date().addingTimeInterval(timeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if Date() >= deadline {
                let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                close(fd)
                throw .locked(path: lockPath, holder: holder.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown holder")
            }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
        let since = ISO8601DateFormatter().string(from: Date())
        let info = "pid \(getpid()), command '\(command)', since \(since)\n"
        ftruncate(fd, 0)
        _ = info.withCString { Glibc.pwrite(fd, $0, strlen($0), 0) }
        lockFD = fd
    }

    public func unlock() {
        guard lockFD >= 0 else { return }
        ftruncate(lockFD, 0)
        flock(lockFD, LOCK_UN)
        close(lockFD)
        lockFD = -1
    }

    /// Writes every byte (retrying short writes and EINTR), then flushes it to disk.
    static func writeAll(_ data: Data, to fd: Int32) -> Bool {
        data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return fsync(fd) == 0
        }
    }

    /// `mkdir -p`, with the reason of a failure in the system's words (no Foundation error text).
    static func ensureDirectory(_ path: String) throws(StateFileError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .io(path: path, detail: StateFileError.reason(ENOTDIR)) }
            return
        }
        let parent = PathMath.directory(of: path)
        if parent != path, parent != "/" { try ensureDirectory(parent) }
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw .io(path: path, detail: StateFileError.reason(errno)) }
    }
}
