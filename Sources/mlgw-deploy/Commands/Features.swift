import ArgumentParser
import EnvironmentAPI
import Foundation
import Providers
import Services

/// `ingest STACK GROUP FILE`: a bulk load into a running feature group, in chunks the host stores
/// one transaction each.
struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a CSV (with a header) or JSON-lines file into a feature group of the running environment.",
        discussion: """
        Rows are sent in chunks; the host stores each chunk's valid rows in one transaction, so a chunk is \
        stored whole or not at all. A row whose event time is not newer than the stored record's goes to the \
        offline store only (as PutRecord). Bad rows are reported as FILE:LINE: column 'x': ... (the first 20, \
        then a count). Exit codes: 0 every row stored, 1 some rows rejected or an error.
        """)

    @OptionGroup var options: StackOptions

    @Argument(help: "The feature group.")
    var group: String?

    @Argument(help: "The file: .csv with a header row, or .jsonl.")
    var file: String?

    @Option(name: .customLong("chunk-rows"), help: "Rows per chunk (one transaction each).")
    var chunkRows = 20_000

    func validate() throws {
        guard (1...1_000_000).contains(chunkRows) else { throw ValidationError("--chunk-rows must be from 1 to 1000000") }
    }

    func run() async throws {
        var options = self.options, group = self.group, file = self.file
        if options.stackName != nil, let first = options.stack { (file, group) = (group, first); options.stack = nil }
        guard let group, let file else { throw ValidationError("give the feature group and the file: mlgw-deploy ingest STACK GROUP FILE") }
        let deployed = try StackLoading.deployed(options)
        let g = try await FeatureCommands.runningGroup(group, deployed, env: options.env)
        let path = absolute(file)
        guard let data = FileManager.default.contents(atPath: path) else {
            Console.err("error: cannot read '\(file)'\n  hint: give a CSV file with a header row, or JSON lines")
            throw ExitCode(1)
        }
        let csv = path.hasSuffix(".csv")
        let bytes = [UInt8](data)
        var chunks = RowChunks(bytes: bytes, csv: csv)
        let progress = IngestProgress(totalBytes: bytes.count, file: file)
        let started = Date()
        // Two chunks in flight: the host reads and checks the next while it writes this one.
        // Results are kept by chunk, so the first 20 errors are the file's first 20.
        var results: [Int: FeatureLoadResult] = [:]
        var failure: String?
        let provider = deployed.provider, name = g.name
        struct Answer: Sendable {
            var firstLine: Int
            var result: FeatureLoadResult?
            var error: String?
        }
        func chunk() -> FeatureRowsChunk? {
            guard let next = chunks.next(rows: chunkRows) else { return nil }
            return FeatureRowsChunk(file: file, csv: csv, header: chunks.header, firstLine: next.0, text: next.1)
        }
        @Sendable func send(_ c: FeatureRowsChunk) async -> Answer {
            do { return Answer(firstLine: c.firstLine, result: try await provider.ingest(c, into: name)) } catch {
                return Answer(firstLine: c.firstLine, error: "\(error)")
            }
        }
        await withTaskGroup(of: Answer.self) { tasks in
            var inFlight = 0
            for _ in 0..<2 {
                guard let c = chunk() else { break }
                inFlight += 1
                tasks.addTask { await send(c) }
            }
            while inFlight > 0, let answer = await tasks.next() {
                inFlight -= 1
                if let r = answer.result { results[answer.firstLine] = r } else { failure = failure ?? answer.error }
                let done = results.values.reduce(0) { $0 + $1.loaded + $1.older + $1.rejected }
                progress.update(bytes: chunks.offset, rows: done, since: started)
                if failure == nil, let c = chunk() {
                    inFlight += 1
                    tasks.addTask { await send(c) }
                }
            }
        }
        var total = FeatureLoadResult()
        for i in results.keys.sorted() { total.add(results[i]!) }
        progress.finish()
        if let failure {
            Console.err("error: \(failure)\n  stored before it: \(total.summary)")
            throw ExitCode(1)
        }
        total.seconds = Date().timeIntervalSince(started)
        for e in total.errors { Console.err(e) }
        if total.rejected > total.errors.count { Console.err("… and \(FeatureLoadResult.grouped(total.rejected - total.errors.count)) more rejected rows") }
        let rate = total.seconds > 0 ? Double(total.loaded + total.older + total.rejected) / total.seconds : 0
        Console.out("feature group '\(g.name)': \(total.summary) (\(FeatureLoadResult.grouped(Int(rate))) rows/s)")
        if total.rejected > 0 { throw ExitCode(1) }
    }
}

/// A file cut into chunks at the ends of rows (a quoted CSV cell may hold a newline).
struct RowChunks {
    let bytes: [UInt8]
    let csv: Bool
    var offset = 0
    var line = 1
    var header: String?

    init(bytes: [UInt8], csv: Bool) {
        self.bytes = bytes
        self.csv = csv
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { offset = 3 }
        if csv, let end = rowEnd(from: offset, rows: 1) {
            header = String(decoding: bytes[offset..<end], as: UTF8.self).trimmingCharacters(in: .newlines)
            offset = end
            line = 2
        }
    }

    /// The index after the `rows`-th row's newline from `start` (or the end).
    func rowEnd(from start: Int, rows: Int) -> Int? {
        guard start < bytes.count else { return nil }
        var i = start, quoted = false, seen = 0
        while i < bytes.count {
            let b = bytes[i]
            i += 1
            if csv && b == 34 { quoted.toggle() }
            if b == 10 && !quoted {
                seen += 1
                if seen == rows { return i }
            }
        }
        return i
    }

    mutating func next(rows: Int) -> (Int, String)? {
        guard let end = rowEnd(from: offset, rows: rows) else { return nil }
        let slice = bytes[offset..<end]
        let first = line
        line += slice.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
        offset = end
        return (first, String(decoding: slice, as: UTF8.self))
    }
}

/// A progress line: on a terminal rewritten in place (rows, rows/s, ETA); otherwise a plain line
/// at every tenth of the file, as CI logs want.
final class IngestProgress {
    let totalBytes: Int
    let file: String
    let terminal = isatty(2) == 1
    var nextTenth = 1
    var drew = false

    init(totalBytes: Int, file: String) {
        self.totalBytes = max(1, totalBytes)
        self.file = file
    }

    func update(bytes: Int, rows: Int, since started: Date) {
        let elapsed = max(0.001, Date().timeIntervalSince(started))
        let fraction = Double(bytes) / Double(totalBytes)
        let rate = Double(rows) / elapsed
        let eta = fraction > 0 ? elapsed / fraction - elapsed : 0
        let text = "\(file): \(FeatureLoadResult.grouped(rows)) rows, \(Int(fraction * 100))%, \(FeatureLoadResult.grouped(Int(rate))) rows/s, ETA \(String(format: "%.0f", eta))s"
        if terminal {
            Console.err("\r\u{1B}[2K" + text, terminator: "")
            drew = true
        } else if fraction * 10 >= Double(nextTenth) {
            Console.err(text)
            nextTenth = Int(fraction * 10) + 1
        }
    }

    func finish() {
        if drew { Console.err("") }
        drew = false
    }
}

/// `features get`: a quick look at a record.
struct Features: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Look at feature groups of the running environment.", subcommands: [Get.self, Export.self, Query.self])

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a record of the online store, as GetRecord returns it (exit 3 when there is none).")

        @OptionGroup var options: StackOptions

        @Argument(help: "The feature group.")
        var group: String?

        @Argument(help: "The record identifier.")
        var id: String?

        @Flag(name: .long, help: "Print GetRecord's JSON answer.")
        var json = false

        func run() async throws {
            var options = self.options, group = self.group, id = self.id
            if options.stackName != nil, let first = options.stack { (id, group) = (group, first); options.stack = nil }
            guard let group, let id else { throw ValidationError("give the feature group and the record identifier: mlgw-deploy features get STACK GROUP ID") }
            let deployed = try StackLoading.deployed(options)
            let g = try await FeatureCommands.runningGroup(group, deployed, env: options.env)
            guard let snapshot = await deployed.provider.snapshot() else { throw ExitCode(1) }
            var query = "RecordIdentifierValueAsString=" + (id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id)
            query += "&ExpirationTimeResponse=Enabled"
            let answer = try await LoopbackHTTP.send("GET", port: snapshot.awsPort, path: "/FeatureGroup/\(g.name)?\(query)", timeout: 10)
            guard answer.status == 200 else {
                Console.err("error: GetRecord answered HTTP \(answer.status): \(answer.text)")
                throw ExitCode(1)
            }
            struct Answer: Decodable { var Record: [FeatureValue]?; var ExpiresAt: String? }
            let decoded = try JSONDecoder().decode(Answer.self, from: Data(answer.body))
            if json { Console.out(answer.text) }
            guard let record = decoded.Record else {
                if !json { Console.out("no record '\(id)' in feature group '\(g.name)' (never written, deleted, or expired)") }
                throw ExitCode(3)
            }
            if json { return }
            let width = record.map(\.FeatureName.count).max() ?? 0
            for v in record {
                let value = v.ValueAsString ?? "[" + (v.ValueAsStringList ?? []).joined(separator: ", ") + "]"
                Console.out(v.FeatureName + String(repeating: " ", count: width - v.FeatureName.count) + "  " + value)
            }
            if let at = decoded.ExpiresAt { Console.out("(expires at \(at))") }
        }
    }
}

extension Features {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a point-in-time-correct training set from the offline store.",
            discussion: """
            For each row of the entity file (CSV with a header), and each group named by --features, the group's             latest record whose event time is at or before the row's --as-of time, unless it is a deletion or has             expired by the group's TTL by then: what Feast's get_historical_features computes. The entity file             holds each group's record identifier column. Example:             mlgw-deploy features export stacks/enterprise --entities labels.csv --as-of label_time             --features customers:age,spend_30d --out train.csv
            """)

        @OptionGroup var options: StackOptions

        @Option(name: .long, help: "CSV of entity rows: each group's identifier column and the time column.")
        var entities: String

        @Option(name: .customLong("as-of"), help: "The entity file's time column (Unix seconds or ISO-8601 UTC).")
        var asOf: String

        @Option(name: .long, parsing: .upToNextOption, help: "GROUP:feature,feature ... (one argument per group).")
        var features: [String]

        @Option(name: .long, help: "The CSV file to write; - for standard output.")
        var out: String = "-"

        func run() async throws {
            let deployed = try StackLoading.deployed(options)
            var requests: [PointInTimeJoin.Request] = []
            for spec in features {
                let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[1].isEmpty else { throw ValidationError("--features takes GROUP:feature,feature, found '\(spec)'") }
                let g = try await FeatureCommands.runningGroup(parts[0], deployed, env: options.env)
                try await deployed.provider.flushOffline(g.name)
                let rows = try OfflineStore.rows(in: OfflineStore.folder(data: deployed.folder.data, group: g.name))
                requests.append(PointInTimeJoin.Request(group: g, features: parts[1].split(separator: ",").map(String.init), rows: rows))
            }
            guard let data = FileManager.default.contents(atPath: absolute(entities)) else {
                Console.err("error: cannot read entity file '\(entities)'")
                throw ExitCode(1)
            }
            var reader = CSVRecords(bytes: [UInt8](data))
            guard let header = reader.next() else {
                Console.err("error: entity file '\(entities)' is empty: it starts with a header row")
                throw ExitCode(1)
            }
            var rows: [[String]] = []
            while let r = reader.next() { if !(r.count == 1 && r[0].isEmpty) { rows.append(r) } }
            let joined: (header: [String], rows: [[String]])
            do {
                joined = try PointInTimeJoin.join(header: header, rows: rows, asOf: asOf, requests: requests)
            } catch {
                Console.err("error: \(error)")
                throw ExitCode(1)
            }
            let text = ([joined.header] + joined.rows).map { $0.map(CSVRecords.quoted).joined(separator: ",") }.joined(separator: "\n") + "\n"
            if out == "-" { Console.out(text, terminator: "") } else {
                try Data(text.utf8).write(to: URL(fileURLWithPath: absolute(out)))
                Console.err("wrote \(joined.rows.count) rows with \(joined.header.count - header.count) features to \(out)")
            }
        }
    }

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "SQL over the offline store: each group is a table of every row it wrote.",
            discussion: """
            Each group's table has its features, then api_invocation_time, write_time and is_deleted; SQLite's             dialect. Example: mlgw-deploy features query stacks/enterprise \
            "SELECT country, count(*), avg(spend_30d) FROM customers GROUP BY country"
            """)

        @OptionGroup var options: StackOptions

        @Argument(help: "The query.")
        var sql: String?

        @Flag(name: .long, help: "Print CSV instead of a table.")
        var csv = false

        func run() async throws {
            var options = self.options, sql = self.sql
            options.shiftingPositional(into: &sql)
            guard let sql else { throw ValidationError("give the query: mlgw-deploy features query STACK \"SELECT ...\"") }
            let deployed = try StackLoading.deployed(options)
            guard let snapshot = await deployed.provider.snapshot() else {
                Console.err("error: environment '\(options.env)' of stack '\(deployed.name)' is not running\n  hint: apply the stack first")
                throw ExitCode(1)
            }
            var groups: [(FeatureGroupConfiguration, [[String: Any]])] = []
            for g in snapshot.featureGroups.map(\.configuration) where g.offline {
                try await deployed.provider.flushOffline(g.name)
                groups.append((g, try OfflineStore.rows(in: OfflineStore.folder(data: deployed.folder.data, group: g.name))))
            }
            let result: (columns: [String], rows: [[String]])
            do { result = try OfflineQuery.run(sql, groups: groups) } catch {
                Console.err("error: \(error)\n  hint: tables: \(groups.map(\.0.name).joined(separator: ", "))")
                throw ExitCode(1)
            }
            if csv {
                Console.out(([result.columns] + result.rows).map { $0.map(CSVRecords.quoted).joined(separator: ",") }.joined(separator: "\n"))
            } else {
                Console.table([result.columns] + result.rows)
                Console.out("(\(result.rows.count) row\(result.rows.count == 1 ? "" : "s"))")
            }
        }
    }
}

enum FeatureCommands {
    /// The group's configuration as the running environment has it.
    static func runningGroup(_ name: String, _ deployed: DeployedStack, env: String) async throws -> FeatureGroupConfiguration {
        guard let snapshot = await deployed.provider.snapshot() else {
            Console.err("error: environment '\(env)' of stack '\(deployed.name)' is not running\n  hint: apply the stack first")
            throw ExitCode(1)
        }
        guard let g = snapshot.featureGroups.first(where: { $0.configuration.name == name }) else {
            let names = snapshot.featureGroups.map(\.configuration.name)
            Console.err("error: no feature group '\(name)' runs in environment '\(env)' of stack '\(deployed.name)'"
                        + "\n  hint: " + (names.isEmpty ? "the stack declares none under 'feature_groups:'" : "running: \(names.joined(separator: ", "))"))
            throw ExitCode(1)
        }
        return g.configuration
    }
}
