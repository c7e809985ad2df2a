import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Spec

/// Reads and writes one environment's state with a lock (Terraform's statemgr).
///
/// Writes are atomic: a temp file is written and fsync'd, then renamed over the old one, and the
/// folder fsync'd, so a crash at any point leaves either the old or the new state, never a torn
/// file. The lock is an `flock` on a lock file, so the kernel drops it when the holder dies
/// (even by SIGKILL); the holder's pid, command and start time are written into the file so a
/// second command can say who holds it.
public actor StateStore {
    public nonisolated let directory: String
    public nonisolated var statePath: String { directory + "/state.json" }
    var lockPath: String { directory + "/lock" }
    var lockFD: Int32 = -1

    public init(directory: String) {
        self.directory = directory
    }

    /// The last written state, or nil for an environment never applied.
    public func read() throws(StateFileError) -> StackState? {
        guard let data = FileManager.default.contents(atPath: statePath) else { return nil }
        return try StateFile.decode(data, path: statePath)
    }

    /// SHA-256 of the state file's bytes ("" when there is none): what a saved plan checks.
    public func fingerprint() -> String {
        guard let data = FileManager.default.contents(atPath: statePath) else { return "" }
        return SHA256.hex(of: [UInt8](data))
    }

    public func write(_ state: StackState) throws(StateFileError) {
        var state = state
        state.serial += 1
        let data: Data
        do { data = try StateFile.encode(state) } catch { throw .io(path: statePath, detail: "\(error)") }
        try Self.ensureDirectory(directory)
        let temp = statePath + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: temp, detail: String(cString: strerror(errno))) }
        let ok = data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return fsync(fd) == 0
        }
        close(fd)
        guard ok else { unlink(temp); throw .io(path: temp, detail: String(cString: strerror(errno))) }
        // Keep the previous version as a backup, as Terraform does.
        if FileManager.default.fileExists(atPath: statePath) {
            _ = unlink(statePath + ".backup")
            _ = link(statePath, statePath + ".backup")
        }
        guard rename(temp, statePath) == 0 else { throw .io(path: statePath, detail: String(cString: strerror(errno))) }
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY)
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
        lastWritten = state
    }

    /// The state as last written by this store (serial included).
    public private(set) var lastWritten: StackState?

    /// Takes the environment's lock for `command`, waiting up to `timeout` seconds (0: fail at once).
    public func lock(command: String, timeout: Double) async throws(StateFileError) {
        try Self.ensureDirectory(directory)
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: lockPath, detail: String(cString: strerror(errno))) }
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

    static func ensureDirectory(_ path: String) throws(StateFileError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw .io(path: path, detail: "\(error)")
        }
    }
}
