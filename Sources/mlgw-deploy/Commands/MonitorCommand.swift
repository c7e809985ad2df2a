import ArgumentParser
import EnvironmentAPI
import Events
import Foundation
import Monitoring
import Providers

/// `monitor run|report STACK NAME`: a monitor's runs from the command line.
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "monitor", abstract: "Run a monitor now, or show its latest report.",
                                                    subcommands: [Run.self, ReportCommand.self, GroundTruthCommand.self])

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a monitor now: its window ends now on the environment's clock. Prints the verdict per feature.",
            discussion: "Exit status 0 when the run completed without violations, 2 with violations, 1 when it failed or was skipped.")

        @OptionGroup var options: StackOptions

        @Argument(help: "The monitor's name (monitors.NAME in the stack).")
        var name: String

        @Flag(help: "Print the run's summary as JSON.")
        var json = false

        func run() async throws {
            let deployed = try StackLoading.deployed(options)
            try await EventsCommand.requireRunning(deployed, env: options.env)
            let summary: MonitorRunSummary
            do { summary = try await deployed.provider.runMonitor(name) } catch {
                Console.err("error: \(error)")
                throw ExitCode(1)
            }
            if json {
                let e = JSONEncoder()
                e.outputFormatting = [.prettyPrinted, .sortedKeys]
                Console.out(String(decoding: try e.encode(summary), as: UTF8.self))
            } else {
                MonitorCommand.printSummary(summary, name: name)
            }
            switch summary.status {
            case "Completed": return
            case "CompletedWithViolations": throw ExitCode(2)
            default: throw ExitCode(1)
            }
        }
    }

    struct ReportCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "report", abstract: "Print where a monitor's latest report is, and its summary table.")

        @OptionGroup var options: StackOptions

        @Argument(help: "The monitor's name.")
        var name: String

        func run() async throws {
            let deployed = try StackLoading.deployed(options)
            let store = RunStore(folder: deployed.folder.path + "/data/monitors/" + name)
            guard let last = store.history(limit: 1).last else {
                Console.err("error: monitor '\(name)' has no runs in environment '\(options.env)'\n  hint: wait for its schedule, or run it now: mlgw-deploy monitor run STACK \(name)")
                throw ExitCode(1)
            }
            MonitorCommand.printSummary(last, name: name)
        }
    }

    struct GroundTruthCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ground-truth",
            abstract: "Upload labels for a model-quality monitor: JSON lines in SageMaker's merge format, checked line by line.",
            discussion: """
            Each line: {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "ID"}, "eventVersion": "0"}, \
            where ID is the captured record's inferenceId (or eventId). The file is written whole into the monitor's ground_truth \
            folder, or not at all when a line is wrong.
            """)

        @OptionGroup var options: StackOptions

        @Argument(help: "The model-quality monitor's name.")
        var name: String

        @Argument(help: "A JSON-lines file of ground truth.")
        var file: String

        func run() async throws {
            let deployed = try StackLoading.deployed(options)
            try await EventsCommand.requireRunning(deployed, env: options.env)
            guard let snapshot = await deployed.provider.snapshot(),
                  let monitor = snapshot.monitors.first(where: { $0.configuration.name == name }) else {
                Console.err("error: no monitor '\(name)' runs in environment '\(options.env)'\n  hint: mlgw-deploy status shows the monitors")
                throw ExitCode(1)
            }
            guard monitor.configuration.checkType == "model_quality", let folder = monitor.configuration.groundTruth else {
                Console.err("error: monitor '\(name)' is a \(monitor.configuration.checkType) monitor; ground truth is for model_quality monitors")
                throw ExitCode(1)
            }
            guard let data = FileManager.default.contents(atPath: file) else {
                Console.err("error: cannot read \(file)")
                throw ExitCode(1)
            }
            var errors: [String] = []
            var count = 0
            for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.isEmpty { continue }
                guard let v = try? JSONParser.parse(String(text)), case .object = v else {
                    errors.append("\(file):\(i + 1): not a JSON object")
                    continue
                }
                guard v["eventMetadata"]?["eventId"]?.stringValue?.isEmpty == false else {
                    errors.append("\(file):\(i + 1): no eventMetadata.eventId (the captured inferenceId or eventId)")
                    continue
                }
                guard v["groundTruthData"]?["data"]?.stringValue != nil else {
                    errors.append("\(file):\(i + 1): no groundTruthData.data (the label, as a string)")
                    continue
                }
                count += 1
            }
            if !errors.isEmpty {
                for e in errors.prefix(20) { Console.err("error: " + e) }
                if errors.count > 20 { Console.err("... and \(errors.count - 20) more") }
                Console.err("\(errors.count) bad \(errors.count == 1 ? "line" : "lines"); nothing was written")
                throw ExitCode(1)
            }
            let now = snapshot.clock?.now ?? Date().timeIntervalSince1970
            let stamp = CivilDate.stamp(now)
            let target = folder + "/" + String(stamp.prefix(4)) + "/" + String(stamp.dropFirst(4).prefix(2)) + "/" + String(stamp.dropFirst(6).prefix(2))
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            let path = target + "/upload-\(stamp)-\(getpid()).jsonl"
            let temp = target + "/.upload-\(getpid()).tmp"
            guard FileManager.default.createFile(atPath: temp, contents: data), rename(temp, path) == 0 else {
                unlink(temp)
                Console.err("error: cannot write \(path)")
                throw ExitCode(1)
            }
            Console.out("\(count) ground-truth records written to \(path)")
        }
    }

    static func printSummary(_ s: MonitorRunSummary, name: String) {
        Console.out("monitor \(name): run \(s.id) \(s.status): \(s.rows) rows from \(s.records) captured records, window \(CivilDate.iso(s.windowStart)) to \(CivilDate.iso(s.windowEnd))")
        if let m = s.message { Console.out("  \(m)") }
        if let metrics = s.metrics, !metrics.isEmpty {
            Console.table([["METRIC", "VALUE"]] + metrics.keys.sorted().map { [$0, Evaluation.fmt(metrics[$0]!)] })
        }
        if let folder = s.folder {
            let decoder = JSONDecoder()
            if let data = FileManager.default.contents(atPath: folder + "/drift.json"), let drift = try? decoder.decode([DriftResult].self, from: data), !drift.isEmpty {
                var rows: [[String]] = [["FEATURE", "METHOD", "STATISTIC", "THRESHOLD", "VERDICT"]]
                for d in drift {
                    rows.append([d.feature, d.method.rawValue, Evaluation.fmt(d.statistic), Evaluation.fmt(d.threshold), d.drifted ? "drift" : "ok"])
                }
                Console.table(rows)
            }
            if let data = FileManager.default.contents(atPath: folder + "/constraint_violations.json"),
               case .object(let top)? = try? JSONParserBridge.parse(data), let list = top.first(where: { $0.key == "violations" }),
               case .array(let items) = list.value, !items.isEmpty {
                Console.out("violations (\(items.count)):")
                for item in items {
                    Console.out("  \(item["constraint_check_type"]?.stringValue ?? "?") \(item["feature_name"]?.stringValue ?? ""): \(item["description"]?.stringValue ?? "")")
                }
            }
            Console.out("report: \(folder)/report.html")
        }
    }
}

/// `baseline STACK NAME`: computes a monitor's baseline again from its files.
struct BaselineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "baseline",
                                                    abstract: "Compute a monitor's baseline again (statistics.json and constraints.json) from its training CSV.")

    @OptionGroup var options: StackOptions

    @Argument(help: "The monitor's name.")
    var name: String

    func run() async throws {
        let deployed = try StackLoading.deployed(options)
        try await EventsCommand.requireRunning(deployed, env: options.env)
        do {
            let status = try await deployed.provider.rebaseline(name)
            Console.out("monitor \(name): baseline of \(status.baselineRows) rows, features \(status.baselineFeatures.joined(separator: ", "))")
            Console.out("files: \(deployed.folder.path)/data/monitors/\(name)/baseline/")
        } catch {
            Console.err("error: \(error)")
            throw ExitCode(1)
        }
    }
}

enum JSONParserBridge {
    static func parse(_ data: Data) throws -> JSONValue { try JSONParser.parse(String(decoding: data, as: UTF8.self)) }
}
