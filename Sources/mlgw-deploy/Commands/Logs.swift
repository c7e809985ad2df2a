import ArgumentParser
import Foundation

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a resource's process logs (or the environment host's with 'environment').")

    @OptionGroup var options: StackOptions

    @Argument(help: "A resource address such as endpoints.fraud, or 'environment'.")
    var resource: String?

    @Flag(name: .shortAndLong, help: "Keep printing new lines as they are written.")
    var follow = false

    func run() async throws {
        var options = self.options, given = self.resource
        options.shiftingPositional(into: &given)
        guard let resource = given else {
            Console.err("error: name the resource whose logs to print, such as endpoints.NAME, functions.NAME, gateway or environment")
            throw ExitCode(1)
        }
        let loaded = try StackLoading.deployed(options)
        let files: [String]
        if resource == "environment" {
            files = [loaded.folder.hostLog]
        } else {
            let dir = loaded.folder.logFolder(for: resource)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            files = names.filter { $0.hasSuffix(".log") }.sorted().map { dir + "/" + $0 }
            if files.isEmpty {
                let known = ((try? FileManager.default.contentsOfDirectory(atPath: loaded.folder.logs)) ?? [])
                    .filter { !$0.hasSuffix(".log") }.sorted() + ["environment"]
                Console.err("error: no logs for '\(resource)' in \(loaded.folder.logs)\n  hint: logs are kept for: \(known.joined(separator: ", ")) (models run no process of their own)")
                throw ExitCode(1)
            }
        }
        var offsets: [String: UInt64] = [:]
        func drain() {
            for file in files {
                guard let handle = FileHandle(forReadingAtPath: file) else { continue }
                defer { try? handle.close() }
                try? handle.seek(toOffset: offsets[file] ?? 0)
                let data = handle.readDataToEndOfFile()
                guard !data.isEmpty else { continue }
                offsets[file] = (offsets[file] ?? 0) + UInt64(data.count)
                let prefix = files.count > 1 ? "[\((file as NSString).lastPathComponent.replacingOccurrences(of: ".log", with: ""))] " : ""
                for line in String(decoding: data, as: UTF8.self).split(separator: "\n") { Console.out(prefix + line) }
            }
        }
        drain()
        while follow {
            try await Task.sleep(nanoseconds: 200_000_000)
            drain()
        }
    }
}
