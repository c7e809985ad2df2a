import EnvironmentAPI
import Foundation
import Spec
import Testing

/// Every stack in stacks/, mutated a few hundred times each with a fixed seed: values swapped for
/// extreme ones, lines dropped, doubled, swapped or re-indented, bytes and brackets inserted,
/// files cut short. Whatever comes out, loading never crashes or hangs, and every problem is an
/// error at a place, with no raw control character and no resource dropped without a reason.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Every file exists, every folder too: the fuzz is about the text, not about files.
struct EverythingExists: SpecFileSystem {
    func sha256(ofFileAt absolutePath: String) -> String? { SHA256.hex(of: absolutePath) }
    func isDirectory(_ absolutePath: String) -> Bool { true }
}

let stacksFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../stacks").standardizedFileURL

/// Each stack as its files' texts.
func exampleStacks() -> [(name: String, files: [(String, String)])] {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: stacksFolder.path)) ?? []).sorted()
    return names.compactMap { name in
        let url = stacksFolder.appendingPathComponent(name)
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        let files = isDirectory.boolValue
            ? ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted().map { url.appendingPathComponent($0) }
            : (name.hasSuffix(".yaml") ? [url] : [])
        let texts = files.compactMap { f in (try? String(contentsOf: f, encoding: .utf8)).map { (f.lastPathComponent, $0) } }
        return texts.isEmpty ? nil : (name, texts)
    }
}

enum Mutation: CaseIterable {
    case extremeNumber, dropLine, doubleLine, swapLines, reindent, insertBytes, truncate, misspellKey, deepNesting, hugeExpression, swapValueForMapping

    static let extremes = ["0", "-1", "1e309", ".nan", ".inf", "-.inf", "1e300", "-0.0", "99999999999999999999", "0x7fffffffffffffff",
                           "abc", "\"\"", "~", "[]", "{}", "1e300m", "-5s", "10x", "\"${1e300*1e300}\"", "\"${1/0}\""]

    func apply(to text: String, rng: inout SplitMix64) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return text }
        let i = Int.random(in: 0..<lines.count, using: &rng)
        switch self {
        case .extremeNumber:
            let candidates = lines.indices.filter { lines[$0].contains(where: \.isNumber) }
            guard let j = candidates.randomElement(using: &rng) else { return text }
            let line = lines[j]
            if let r = line.range(of: #"-?[0-9][0-9.]*(ms|s|m|h)?"#, options: .regularExpression) {
                lines[j] = line.replacingCharacters(in: r, with: Mutation.extremes.randomElement(using: &rng)!)
            }
        case .dropLine: lines.remove(at: i)
        case .doubleLine: lines.insert(lines[i], at: i)
        case .swapLines:
            let j = Int.random(in: 0..<lines.count, using: &rng)
            lines.swapAt(i, j)
        case .reindent: lines[i] = String(repeating: " ", count: Int.random(in: 0...9, using: &rng)) + lines[i].drop { $0 == " " }
        case .insertBytes:
            let junk = ["\u{0}", "\u{1}", "\u{7f}", "\"", "'", "[", "{", "}", ":", "&a", "*a", "\t", "\u{feff}", "${", "%", "!!str ", "- ", "---"]
            let line = lines[i]
            let at = line.index(line.startIndex, offsetBy: Int.random(in: 0...line.count, using: &rng))
            lines[i] = String(line[..<at]) + junk.randomElement(using: &rng)! + String(line[at...])
        case .truncate:
            let all = lines.joined(separator: "\n")
            return String(all.prefix(Int.random(in: 0...all.count, using: &rng)))
        case .misspellKey:
            let line = lines[i]
            guard let colon = line.firstIndex(of: ":"), line.distance(from: line.startIndex, to: colon) > 2 else { return text }
            var key = Array(line[..<colon])
            key.remove(at: Int.random(in: 0..<key.count, using: &rng))
            lines[i] = String(key) + String(line[colon...])
        case .deepNesting:
            let n = Int.random(in: 100...3000, using: &rng)
            lines.insert("deep: " + String(repeating: "[", count: n) + String(repeating: "]", count: n), at: i)
        case .hugeExpression:
            let n = Int.random(in: 60...5000, using: &rng)
            lines.insert("x: \"${" + String(repeating: "(", count: n) + "1" + String(repeating: ")", count: n) + "}\"", at: i)
        case .swapValueForMapping:
            let line = lines[i]
            guard let colon = line.lastIndex(of: ":") else { return text }
            lines[i] = String(line[...colon]) + " {a: {b: [1, {c: .nan}]}}"
        }
        return lines.joined(separator: "\n")
    }
}

@Test func mutatedStacksNeverCrashHangOrLoseAnError() throws {
    // MLGW_FUZZ_SEED and MLGW_FUZZ_ROUNDS explore further by hand; the suite runs the fixed seed.
    let environment = ProcessInfo.processInfo.environment
    var rng = SplitMix64(state: environment["MLGW_FUZZ_SEED"].flatMap(UInt64.init) ?? 20261202)
    let rounds = environment["MLGW_FUZZ_ROUNDS"].flatMap(Int.init) ?? 400
    let stacks = exampleStacks()
    #expect(stacks.count >= 8, "found \(stacks.map(\.name))")
    var loads = 0, failed = 0
    for stack in stacks {
        for _ in 0..<rounds {
            var sources = stack.files.map { StackSource(path: $0.0, absolutePath: stacksFolder.path + "/" + $0.0, text: $0.1) }
            let target = Int.random(in: 0..<sources.count, using: &rng)
            var text = sources[target].text
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                text = Mutation.allCases.randomElement(using: &rng)!.apply(to: text, rng: &rng)
            }
            sources[target].text = text
            let start = DispatchTime.now().uptimeNanoseconds
            let (loaded, diagnostics) = StackLoader.load(sources, variables: VariableInputs(environment: ["FRAUD_API_KEY": "k-0123456789abcdefghijklmnop"]),
                                                         files: EverythingExists())
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            loads += 1
            #expect(seconds < 5, "a load took \(seconds)s:\n\(text.prefix(500))")
            if loaded == nil { failed += 1 }
            #expect(loaded != nil || diagnostics.hasErrors, "no stack and no error")
            for d in diagnostics.all {
                #expect(d.location != nil || d.summary.contains("undeclared variable"), "an error without a place: \(d.summary)")
                #expect(!d.summary.contains("recorded no reason"), "a reader gave up silently:\n\(text.prefix(500))")
                #expect(!d.description.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "a raw control character: \(d.description)")
            }
        }
    }
    #expect(loads >= 8 * rounds && failed > loads / 3, "\(loads) loads, \(failed) failed")
}
