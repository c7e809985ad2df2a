import EnvironmentAPI
import Monitoring

/// What Spec needs to know about files a stack names. The caller supplies it, so Spec itself does
/// no file I/O and tests can pass a fake.
public protocol SpecFileSystem: Sendable {
    /// The SHA-256 of a regular file's content, hex-encoded; nil when there is no such file.
    func sha256(ofFileAt absolutePath: String) -> String?
    /// Whether a folder exists at the path.
    func isDirectory(_ absolutePath: String) -> Bool
    /// Regular files under a folder, recursively, as paths relative to it, sorted; hidden files
    /// and `__pycache__` are left out.
    func files(under absolutePath: String) -> [String]
    /// Why a built-in runtime cannot serve the artifact at the path (read with the runtime's own
    /// loader), or nil when it can.
    func artifactProblem(at absolutePath: String, runtime: ModelRuntime) -> String?
    /// A monitor's baseline CSV: its header's feature names, or where and why it cannot be one.
    func baselineColumns(at absolutePath: String) -> Result<[String], BaselineError>
}

extension SpecFileSystem {
    public func files(under absolutePath: String) -> [String] { [] }
    public func artifactProblem(at absolutePath: String, runtime: ModelRuntime) -> String? { nil }
    /// Without a way to read the file: no columns known, so none are checked.
    public func baselineColumns(at absolutePath: String) -> Result<[String], BaselineError> { .success([]) }

    /// One hash over every file under a folder: names and contents.
    public func sha256(ofDirectory absolutePath: String) -> String {
        let lines = files(under: absolutePath).map { "\($0)=\(sha256(ofFileAt: absolutePath + "/" + $0) ?? "")" }
        return SHA256.hex(of: lines.joined(separator: "\n"))
    }
}

/// Path arithmetic on `/`-separated paths; no file-system access.
public enum PathMath {
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `relative` resolved against `base` (a directory) and normalized (`.` and `..` removed).
    public static func resolve(_ relative: String, against base: String) -> String {
        let joined = relative.hasPrefix("/") ? relative : base + "/" + relative
        var out: [Substring] = []
        for part in joined.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { if !out.isEmpty { out.removeLast() }; continue }
            out.append(part)
        }
        return "/" + out.joined(separator: "/")
    }
}
