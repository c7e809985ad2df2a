import ArgumentParser
import EnvironmentAPI
import Events
import Foundation
import Monitoring
import Providers

/// `monitor run|report STACK NAME`: a monitor's runs from the command line.
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "monitor", abstract: "Run a monitor now, or show its latest report.",
                                                    subcommands: [Run.self, ReportCommand.self])

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
