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

    public static func decode(_ data: Data, path: String) throws(StateFileError) -> StackState {
        let decoder = JSONDecoder()
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
            return "cannot write state '\(path)': \(detail)"
        case .wrongStack(let path, let found, let expected):
            return "state '\(path)' belongs to stack '\(found)', not '\(expected)'\n  hint: pass a different --env or --state-dir"
        }
    }
}
