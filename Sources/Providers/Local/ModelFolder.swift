import CShim
import EnvironmentAPI
import Foundation
import Reconciler
import Spec

/// A server model's folder inside the environment, as SageMaker prepares `/opt/ml/model`: the
/// artifact copied into it (a file), copied whole (a folder: its regular files but hidden ones and
/// `__pycache__`, the files its hash covers) or unpacked (`.tar.gz`, `.tgz`). Content-addressed:
/// `data/models/NAME/SHA256/`, made once in a temporary folder and renamed into place, so a
/// running server never sees a half-written folder or its source edited.
enum ModelFolder {
    static func isArchive(_ path: String) -> Bool { path.hasSuffix(".tar.gz") || path.hasSuffix(".tgz") }

    /// The folder for the artifact at `source`; throws, saying why, when it cannot be made.
    static func prepare(_ source: String, sha256: String, model: String, under data: String) async throws -> String {
        let parent = "\(data)/models/\(model)"
        let final = "\(parent)/\(sha256)"
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: final, isDirectory: &isFolder), isFolder.boolValue { return final }
        let temp = "\(parent)/.\(sha256).tmp-\(getpid())"
        try? FileManager.default.removeItem(atPath: temp)
        func fail(_ why: String) -> ProviderError {
            try? FileManager.default.removeItem(atPath: temp)
            return ProviderError("cannot prepare the model folder of model '\(model)' from '\(source)': \(why)", terminal: true)
        }
        do { try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true) } catch {
            throw fail("cannot create \(temp): \(StateFileError.reason(errno))")
        }
        if FileManager.default.fileExists(atPath: source, isDirectory: &isFolder), isFolder.boolValue {
            for relative in regularFiles(under: source) {
                if let problem = FileCopy.copy(source + "/" + relative, to: temp + "/" + relative) { throw fail("\(relative): \(problem)") }
            }
        } else if isArchive(source) {
            if let problem = await unpack(source, into: temp) { throw fail(problem) }
        } else if let problem = FileCopy.copy(source, to: temp + "/" + (source as NSString).lastPathComponent) {
            throw fail(problem)
        }
        if rename(temp, final) != 0 {
            let e = errno
            // Another apply made the same folder first: it holds the same content.
            if FileManager.default.fileExists(atPath: final) { try? FileManager.default.removeItem(atPath: temp); return final }
            throw fail(StateFileError.reason(e))
        }
        return final
    }

    /// What `SpecFileSystem.files(under:)` hashes: regular files, hidden ones and `__pycache__` left out.
    static func regularFiles(under folder: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        var out: [String] = []
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") || name == "__pycache__" {
                walker.skipDescendants()
                continue
            }
            if walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular { out.append(relative) }
        }
        return out.sorted()
    }

    /// Unpacks with the system's `tar` (which refuses members outside the folder); nil when done,
    /// else what tar said.
    static func unpack(_ archive: String, into folder: String) async -> String? {
        let candidates: [String] = ["/usr/bin/tar", "/bin/tar"]
        guard let tar = candidates.first(where: { access($0, X_OK) == 0 }) else {
            return "unpacking a .tar.gz needs tar, which is not in /usr/bin or /bin"
        }
        let errors = folder + ".unpack-errors"
        let fd = open(errors, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return "cannot write \(errors): \(StateFileError.reason(errno))" }
        defer { unlink(errors) }
        let arguments = [tar, "-xzf", archive, "-C", folder, "--no-same-owner", "--no-same-permissions"]
        let pid = withCStrings(arguments) { argv in
            withCStrings(["PATH=/usr/bin:/bin", "LANG=C"]) { envp in mlgw_spawn(tar, argv, envp, nil, fd, 0, 1, 0) }
        }
        close(fd)
        guard pid > 0 else { return "cannot run tar: \(String(cString: strerror(-pid)))" }
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { return "tar's exit could not be read: \(StateFileError.reason(errno))" }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        let exited = (status & 0x7f) == 0
        guard exited && (status >> 8) & 0xff == 0 else {
            let said = (try? String(contentsOfFile: errors, encoding: .utf8))?
                .split(separator: "\n").prefix(3).joined(separator: "; ") ?? ""
            return "it is not a readable .tar.gz (tar: \(said.isEmpty ? "exit status \((status >> 8) & 0xff)" : printableTail(said)))"
        }
        return nil
    }

    private static func printableTail(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }.prefix(300).map(Character.init))
    }
}
