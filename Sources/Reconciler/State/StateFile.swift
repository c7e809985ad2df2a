import Foundation
import Spec

/// The versioned on-disk encoding of a `StackState` (Terraform's statefile): a JSON object whose
/// `format_version` says how to read the rest.
public enum StateFile {
    public static let formatVersion = 1

    struct Envelope: Codable {
        var format_version: Int
        var state: StackState
    }

    struct VersionProbe: Decodable { var format_version: Int }

    public static func encode(_ state: StackState) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(Envelope(format_version: formatVersion, state: state))
    }

    /// One parse of the document when it reads (the no-op plan reads the state on every run);
    /// only a file that does not is parsed again, for its version, to say why.
    public static func decode(_ data: Data, path: String) throws(StateFileError) -> StackState {
        if let fast = fastDecode(data) {
            guard fast.version <= formatVersion else { throw .tooNew(path: path, version: fast.version) }
            return fast.state
        }
        let decoder = JSONDecoder()
        if let envelope = try? decoder.decode(Envelope.self, from: data) {
            guard envelope.format_version <= formatVersion else { throw .tooNew(path: path, version: envelope.format_version) }
            return envelope.state
        }
        guard let probe = try? decoder.decode(VersionProbe.self, from: data) else {
            throw .unreadable(path: path, detail: "not a state file (no 'format_version')")
        }
        guard probe.format_version <= formatVersion else {
            throw .tooNew(path: path, version: probe.format_version)
        }
        do {
            return try decoder.decode(Envelope.self, from: data).state
        } catch {
            throw .unreadable(path: path, detail: "\(error)")
        }
    }
}

public enum StateFileError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, detail: String)
    case tooNew(path: String, version: Int)
    case locked(path: String, holder: String)
    case io(path: String, detail: String)
    case wrongStack(path: String, found: String, expected: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let detail):
            return "state file '\(path)' cannot be read: \(detail)\n  hint: restore it from a backup ('\(path).backup' holds the previous version)"
        case .tooNew(let path, let version):
            return "state file '\(path)' has format version \(version), newer than this mlgw-deploy understands (\(StateFile.formatVersion))\n  hint: use a newer mlgw-deploy"
        case .locked(let path, let holder):
            return "the environment is locked by another mlgw-deploy: \(holder) (lock file '\(path)')\n  hint: wait for it to finish, or pass --lock-timeout 60s to wait"
        case .io(let path, let detail):
            return "cannot write state '\(path)': \(detail)\n  hint: \(Self.hint(forWriting: path, detail: detail))"
        case .wrongStack(let path, let found, let expected):
            return "state '\(path)' belongs to stack '\(found)', not '\(expected)'\n  hint: pass a different --env or --state-dir"
        }
    }
}

extension StateFileError {
    /// The system's reason for `code`, as a person reads it.
    public static func reason(_ code: Int32) -> String {
        switch code {
        case ENOSPC: return "the disk is full (no space left on device)"
        case EROFS: return "the file system is read-only"
        case EACCES, EPERM: return "permission denied"
        case EDQUOT: return "the disk quota is exhausted"
        case ENOTDIR: return "a file stands where a folder should be"
        default: return String(cString: strerror(code))
        }
    }

    /// What to do about a state folder that cannot be written.
    static func hint(forWriting path: String, detail: String) -> String {
        if detail.hasPrefix("the disk is full") || detail.hasPrefix("the disk quota") {
            let folder = PathMath.directory(of: path)
            var fs = statvfs()
            let free = statvfs(folder, &fs) == 0 ? " (\(UInt64(fs.f_bavail) * UInt64(fs.f_frsize) / 1024) KB free there)" : ""
            return "free space on the disk holding \(folder)\(free), or pass --state-dir (or MLGW_STATE_DIR) on another disk; nothing was changed that the state does not record"
        }
        if detail.hasPrefix("the file system is read-only") || detail.hasPrefix("permission denied") {
            return "pass --state-dir (or set MLGW_STATE_DIR) to a folder you can write; nothing was changed that the state does not record"
        }
        return "check the state folder, then run the command again"
    }
}
