import ArgumentParser
import EnvironmentAPI
import Foundation
import Providers
import Reconciler
import Services
import Spec

/// Options every command that reads a stack shares.
struct StackOptions: ParsableArguments {
    @Argument(help: "The stack: a YAML file, or a folder whose *.yaml files form one stack.")
    var stack: String

    @Option(name: .long, help: "The environment: each has its own state, processes and ports.")
    var env: String = "default"

    @Option(name: .customLong("var"), help: ArgumentHelp("Set a variable.", valueName: "name=value"))
    var variables: [String] = []

    @Option(name: .customLong("var-file"), help: ArgumentHelp("Read variables from a YAML or JSON file.", valueName: "file"))
    var variableFiles: [String] = []

    @Option(name: .customLong("state-dir"), help: "Where environments keep state, logs and data (default: $MLGW_STATE_DIR or ./.mlgw).")
    var stateDir: String?

    func validate() throws {
        guard isValidEnvironmentName(env) else {
            throw ValidationError("environment name '\(env)' is invalid: use lowercase letters, digits, '-' and '_'")
        }
        for v in variables where !v.contains("=") {
            throw ValidationError("--var '\(v)' is not name=value; write --var \(v)=VALUE")
        }
    }

    var stateDirectory: String {
        let dir = stateDir ?? ProcessInfo.processInfo.environment["MLGW_STATE_DIR"] ?? ".mlgw"
        return absolute(dir)
    }

    var assignments: [String: String] {
        var out: [String: String] = [:]
        for v in variables {
            let parts = v.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            out[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return out
    }
}

func isValidEnvironmentName(_ name: String) -> Bool {
    guard let first = name.unicodeScalars.first, !name.isEmpty, name.count <= 63,
          ("a"..."z").contains(first) || ("0"..."9").contains(first) else { return false }
    return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
}

func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? PathMath.resolve(path, against: "/") : PathMath.resolve(path, against: FileManager.default.currentDirectoryPath)
}

/// Spec's view of the file system: content hashes of files the stack names, each file read and
/// hashed once per command however many models name it.
final class LocalFiles: SpecFileSystem, @unchecked Sendable {
    private let lock = NSLock()
    private var hashes: [String: String?] = [:]
    /// What the runtime's loader said of each artifact, by runtime, path and content hash.
    private var problems: [String: String?] = [:]

    func artifactProblem(at absolutePath: String, runtime: ModelRuntime) -> String? {
        let key = "\(runtime.rawValue)\u{0}\(absolutePath)\u{0}\(sha256(ofFileAt: absolutePath) ?? "")"
        lock.lock()
        if let known = problems[key] { lock.unlock(); return known }
        lock.unlock()
        var problem: String?
        do { _ = try Runtimes.load(runtime, path: absolutePath) } catch { problem = "\(error)" }
        lock.lock()
        problems[key] = problem
        lock.unlock()
        return problem
    }

    func sha256(ofFileAt absolutePath: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        if let known = hashes[absolutePath] { return known }
        var isDirectory: ObjCBool = false
        var hash: String?
        if FileManager.default.fileExists(atPath: absolutePath, isDirectory: &isDirectory), !isDirectory.boolValue,
           let data = FileManager.default.contents(atPath: absolutePath) {
            hash = SHA256.hex(of: [UInt8](data))
        }
        hashes[absolutePath] = hash
        return hash
    }

    func isDirectory(_ absolutePath: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: absolutePath, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    func files(under absolutePath: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: absolutePath) else { return [] }
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
}

/// A stack loaded from disk, with what the commands need around it.
struct LoadedStack {
    var stack: Stack
    var sourcePaths: [String]
    var folder: EnvironmentFolder
    var store: StateStore
    var provider: LocalProvider
}

enum StackLoading {
    /// Reads the stack files; prints every diagnostic and throws ExitCode(1) on errors.
    static func load(_ options: StackOptions, paths: [String]? = nil, assignments: [String: String]? = nil,
                     variableFiles: [String]? = nil) throws -> LoadedStack {
        let sourcePaths = try paths ?? stackFiles(options.stack)
        var sources: [StackSource] = []
        var diagnostics = Diagnostics()
        for path in sourcePaths {
            guard let data = FileManager.default.contents(atPath: path) else {
                Console.err("error: cannot read stack file '\(path)'")
                throw ExitCode(1)
            }
            let (source, problem) = StackLoader.decode([UInt8](data), path: relativeToCurrent(path), absolutePath: path)
            if let source { sources.append(source) }
            if let problem { diagnostics.append(problem) }
        }
        var inputs = VariableInputs(assignments: assignments ?? options.assignments, environment: ProcessInfo.processInfo.environment)
        for file in variableFiles ?? options.variableFiles {
            guard let data = FileManager.default.contents(atPath: file) else {
                Console.err("error: cannot read variable file '\(file)'")
                throw ExitCode(1)
            }
            let (source, problem) = StackLoader.decode([UInt8](data), path: file, absolutePath: absolute(file))
            if let problem { diagnostics.append(problem) }
            if let source { inputs.addVariableFile(path: file, text: source.text, into: &diagnostics) }
        }
        let (loaded, loadDiagnostics) = StackLoader.load(sources, variables: inputs, environment: options.env, files: LocalFiles())
        diagnostics.append(contentsOf: loadDiagnostics)
        if let loaded {
            for d in ResourceGraph(stack: loaded).cycleDiagnostics(in: loaded) { diagnostics.append(d) }
        }
        for d in diagnostics.sorted { Console.err(d.description) }
        guard let stack = loaded, !diagnostics.hasErrors else {
            let n = diagnostics.errors.count
            Console.err("\(n) error\(n == 1 ? "" : "s") in the stack; nothing was changed.")
            throw ExitCode(1)
        }
        let folder = EnvironmentFolder(stateDirectory: options.stateDirectory, stack: stack.name, environment: options.env)
        return LoadedStack(stack: stack, sourcePaths: sourcePaths, folder: folder, store: StateStore(directory: folder.path),
                           provider: LocalProvider(folder: folder, executable: selfExecutable))
    }

    /// A file, or every *.yaml / *.yml file of a folder in name order.
    static func stackFiles(_ path: String) throws -> [String] {
        let full = absolute(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) else {
            Console.err("error: stack '\(path)' does not exist\n  hint: pass a stack file such as stacks/quickstart.yaml, or a folder of them")
            throw ExitCode(1)
        }
        guard isDirectory.boolValue else { return [full] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: full)) ?? []
        let files = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { full + "/" + $0 }
        guard !files.isEmpty else {
            Console.err("error: folder '\(path)' holds no .yaml files")
            throw ExitCode(1)
        }
        return files
    }

    static func relativeToCurrent(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        return path.hasPrefix(cwd + "/") ? String(path.dropFirst(cwd.count + 1)) : path
    }

    static func readState(_ store: StateStore, stack: Stack) async throws -> StackState? {
        do {
            let state = try await store.read()
            if let state, state.stack != stack.name {
                throw StateFileError.wrongStack(path: store.statePath, found: state.stack, expected: stack.name)
            }
            return state
        } catch {
            Console.err("error: \(error)")
            throw ExitCode(1)
        }
    }
}
