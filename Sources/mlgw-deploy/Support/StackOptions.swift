import ArgumentParser
import EnvironmentAPI
import Foundation
import Monitoring
import Providers
import Reconciler
import Services
import Spec

/// Options every command that reads a stack shares. Commands that plan need the stack's files;
/// commands that read or tear down what is deployed (status, output, logs, state, graph,
/// destroy) work from the state alone, so they also take `--stack NAME` instead of a file.
struct StackOptions: ParsableArguments {
    @Argument(help: "The stack: a YAML file, or a folder whose *.yaml files form one stack (apply also takes a plan file from 'plan --out').")
    var stack: String?

    @Option(name: .customLong("stack"), help: ArgumentHelp("The stack's name, for commands that work from what is deployed (no file needed).", valueName: "name"))
    var stackName: String?

    @Option(name: .long, help: "The environment: each has its own state, processes and ports.")
    var env: String = "default"

    @Option(name: .customLong("var"), help: ArgumentHelp("Set a variable.", valueName: "name=value"))
    var variables: [String] = []

    @Option(name: .customLong("var-file"), help: ArgumentHelp("Read variables from a YAML or JSON file.", valueName: "file"))
    var variableFiles: [String] = []

    @Option(name: .customLong("state-dir"), help: "Where environments keep state, logs and data (default: $MLGW_STATE_DIR or ./.mlgw).")
    var stateDir: String?

    func validate() throws {
        if stack == nil && stackName == nil {
            throw ValidationError("name a stack: a stack file (or folder), or --stack NAME for what is deployed (mlgw-deploy env list shows them)")
        }
        guard isValidEnvironmentName(env) else {
            throw ValidationError("environment name '\(env)' is invalid: use lowercase letters, digits, '-' and '_'")
        }
        for v in variables where !v.contains("=") {
            throw ValidationError("--var '\(v)' is not name=value; write --var \(v)=VALUE")
        }
    }

    /// With `--stack NAME`, the first positional argument is the command's own (an output's
    /// name, a resource's address), not a stack file: moves it there.
    mutating func shiftingPositional(into extra: inout String?) {
        if stackName != nil, let first = stack, extra == nil {
            extra = first
            stack = nil
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

    /// Reads the whole CSV once: a header, unique names, every row as wide (with its line).
    func baselineColumns(at absolutePath: String) -> Result<[String], BaselineError> {
        Result { () throws(BaselineError) -> [String] in try BaselineCSV.header(path: absolutePath) }
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

/// What is deployed for one environment of one stack: its folder, state and provider.
struct DeployedStack {
    var name: String
    var environment: String
    var folder: EnvironmentFolder
    var store: StateStore
    var provider: LocalProvider
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
        guard let file = options.stack ?? paths?.first else {
            Console.err("error: this command plans, so it needs the stack's files, not only its name\n  hint: pass the stack file or folder (commands that work from what is deployed take --stack NAME: destroy, status, output, logs, state, graph)")
            throw ExitCode(1)
        }
        let sourcePaths = try paths ?? stackFiles(file)
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

    /// The name a `stack: NAME` line at the top level of one of the files declares, found without
    /// parsing the YAML (a guess the full load confirms).
    static func declaredName(in paths: [String]) -> String? {
        let key = Data("stack:".utf8)
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            // The key at the start of the file or of a line; the file is not split into lines.
            let at = data.starts(with: key) ? data.startIndex : data.range(of: Data("\nstack:".utf8)).map { $0.lowerBound + 1 }
            if let at {
                let rest = data[(at + key.count)...]
                let line = rest.prefix(while: { $0 != UInt8(ascii: "\n") })
                var value = String(decoding: line, as: UTF8.self)
                if let hash = value.firstIndex(of: "#") { value = String(value[..<hash]) }
                value = value.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                return StackLoader.isValidStackName(value) ? value : nil
            }
        }
        return nil
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
        try await readState(store, name: stack.name)
    }

    static func readState(_ store: StateStore, name: String) async throws -> StackState? {
        do {
            let state = try await store.read()
            if let state, state.stack != name {
                throw StateFileError.wrongStack(path: store.statePath, found: state.stack, expected: name)
            }
            return state
        } catch {
            Console.err("error: \(error)")
            throw ExitCode(1)
        }
    }

    /// What is deployed for the stack the options name, found without validating the stack: by
    /// `--stack NAME`, or by the `stack:` name its file declares (the file may not load: a
    /// sensitive variable unset, an error, even a file deleted since, given --stack).
    static func deployed(_ options: StackOptions) throws -> DeployedStack {
        if options.stack != nil && options.stackName != nil {
            Console.err("error: give a stack file or --stack NAME, not both")
            throw ExitCode(1)
        }
        var name = options.stackName
        if name == nil, let file = options.stack {
            let full = absolute(file)
            guard FileManager.default.fileExists(atPath: full) else {
                Console.err("error: stack '\(file)' does not exist\n  hint: to act on what is deployed, pass --stack NAME (mlgw-deploy env list shows the environments under \(options.stateDirectory))")
                throw ExitCode(1)
            }
            let paths = try stackFiles(file)
            let sources = paths.compactMap { path -> StackSource? in
                guard let data = FileManager.default.contents(atPath: path) else { return nil }
                return StackLoader.decode([UInt8](data), path: relativeToCurrent(path), absolutePath: path).source
            }
            name = StackLoader.stackName(of: sources)
            if name == nil {
                Console.err("error: stack '\(file)' declares no readable 'stack:' name\n  hint: pass --stack NAME to act on what is deployed (mlgw-deploy env list shows them)")
                throw ExitCode(1)
            }
        }
        guard let name, StackLoader.isValidStackName(name) else {
            Console.err("error: '\(options.stackName ?? "")' is not a stack name\n  hint: use the name the stack file declares with 'stack:' (mlgw-deploy env list shows them)")
            throw ExitCode(1)
        }
        let folder = EnvironmentFolder(stateDirectory: options.stateDirectory, stack: name, environment: options.env)
        return DeployedStack(name: name, environment: options.env, folder: folder, store: StateStore(directory: folder.path),
                             provider: LocalProvider(folder: folder, executable: selfExecutable))
    }
}
