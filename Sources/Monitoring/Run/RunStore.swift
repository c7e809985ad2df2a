import EnvironmentAPI
import Events
import Foundation

/// A monitor's folder, `data/monitors/NAME/`: `baseline/` (the statistics and constraints in use)
/// and `runs/STAMP/` per run (statistics.json, constraint_violations.json, drift.json, run.json,
/// report.html). A run is written in a hidden folder and renamed into place whole, so a run
/// killed midway leaves nothing a reader could take for a report; the next run clears it.
public struct RunStore: Sendable {
    public var folder: String

    public init(folder: String) { self.folder = folder }

    public var runsFolder: String { folder + "/runs" }
    public var baselineFolder: String { folder + "/baseline" }

    /// Writes files into a folder atomically: a hidden temporary folder, then a rename.
    public static func writeFolder(_ path: String, files: [(String, String)]) throws {
        let fm = FileManager.default
        let parent = (path as NSString).deletingLastPathComponent
        try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let temp = parent + "/." + (path as NSString).lastPathComponent + ".partial"
        try? fm.removeItem(atPath: temp)
        try fm.createDirectory(atPath: temp, withIntermediateDirectories: true)
        for (name, text) in files {
            guard fm.createFile(atPath: temp + "/" + name, contents: Data(text.utf8)) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temp + "/" + name])
            }
        }
        if fm.fileExists(atPath: path) {
            let old = parent + "/." + (path as NSString).lastPathComponent + ".old"
            try? fm.removeItem(atPath: old)
            try fm.moveItem(atPath: path, toPath: old)
            try fm.moveItem(atPath: temp, toPath: path)
            try? fm.removeItem(atPath: old)
        } else {
            try fm.moveItem(atPath: temp, toPath: path)
        }
    }

    /// Leftovers of runs that did not finish (hidden folders).
    public func clearPartial() {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: runsFolder)) ?? [] where name.hasPrefix(".") {
            try? fm.removeItem(atPath: runsFolder + "/" + name)
        }
    }

    /// Past runs, oldest first (their `run.json`).
    public func history(limit: Int = 50) -> [MonitorRunSummary] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: runsFolder)) ?? []).filter { !$0.hasPrefix(".") }.sorted().suffix(limit)
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: runsFolder + "/" + name + "/run.json") else { return nil }
            return try? JSONDecoder().decode(MonitorRunSummary.self, from: data)
        }
    }

    /// Every feature's drift results of past runs, oldest first (for the report's trend).
    public func driftHistory(limit: Int = 20) -> [(String, [DriftResult])] {
        history(limit: limit).compactMap { run in
            guard let data = FileManager.default.contents(atPath: runsFolder + "/" + run.id + "/drift.json"),
                  let results = try? JSONDecoder().decode([DriftResult].self, from: data) else { return (run.id, []) }
            return (run.id, results)
        }
    }

    /// A unique folder name for a run at `time`.
    public func newRunID(at time: Double) -> String {
        var id = CivilDate.stamp(time)
        var n = 1
        while FileManager.default.fileExists(atPath: runsFolder + "/" + id) {
            n += 1
            id = CivilDate.stamp(time) + "-\(n)"
        }
        return id
    }

    public func write(run summary: MonitorRunSummary, statistics: JSONValue?, violations: [Violation], drift: [DriftResult], report: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var files: [(String, String)] = []
        if let s = statistics { files.append(("statistics.json", JacksonJSON.text(s))) }
        files.append(("constraint_violations.json", JacksonJSON.text(Evaluation.violationsJSON(violations))))
        files.append(("drift.json", String(decoding: try encoder.encode(drift), as: UTF8.self)))
        files.append(("report.html", report))
        // run.json last in the list, but the folder appears whole in one rename.
        files.append(("run.json", String(decoding: try encoder.encode(summary), as: UTF8.self)))
        try Self.writeFolder(runsFolder + "/" + summary.id, files: files)
    }
}
