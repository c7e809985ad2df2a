import Events
import Foundation
import Testing
@testable import Monitoring

/// Files written by SageMaker Model Monitor (Conformance/SOURCES.md says where each comes from).
let conformance = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Conformance")

/// Every key path of a JSON document, list items folded into `[]`.
func keyPaths(_ v: JSONValue, _ prefix: String = "") -> Set<String> {
    switch v {
    case .object(let members):
        return members.reduce(into: Set<String>()) { out, m in
            out.insert(prefix + m.key)
            out.formUnion(keyPaths(m.value, prefix + m.key + "."))
        }
    case .array(let items): return items.reduce(into: Set<String>()) { $0.formUnion(keyPaths($1, prefix + "[].")) }
    default: return []
    }
}

func conformanceFile(_ path: String) throws -> JSONValue {
    try JSONParser.parse(String(decoding: try Data(contentsOf: conformance.appendingPathComponent(path)), as: UTF8.self))
}

@Suite struct FilesTests {
    @Test(arguments: [(0.0, "0.0"), (1.0, "1.0"), (23432.0, "23432.0"), (3.8e7, "3.8E7"), (1.14e7, "1.14E7"), (1.4402689218907343E10, "1.4402689218907343E10"),
                      (614658.9799806821, "614658.9799806821"), (0.001, "0.001"), (0.0001, "1.0E-4"), (-2.5, "-2.5"), (9999999.0, "9999999.0"),
                      (1234.5, "1234.5"), (0.064, "0.064")])
    func javaDoubleText(_ value: Double, _ text: String) {
        #expect(JacksonJSON.javaDouble(value) == text)
    }

    @Test func jacksonLayoutMatchesTheAnalyzersFiles() throws {
        let v = JSONValue.object([.init("version", JacksonJSON.double(0)), .init("features", .array([.object([.init("name", .string("a"))])])),
                                  .init("empty", .array([]))])
        #expect(JacksonJSON.text(v) == "{\n  \"version\" : 0.0,\n  \"features\" : [ {\n    \"name\" : \"a\"\n  } ],\n  \"empty\" : [ ]\n}\n")
        #expect(JacksonJSON.double(.nan) == .string("NaN"))
    }

    @Test(arguments: [("12", 12.0, true), ("-3.25", -3.25, false), ("1e3", 1000.0, false), ("0.1", 0.1, false), ("+7", 7.0, true),
                      ("123456789012345678901234", 1.2345678901234568e23, true), ("2.2250738585072014e-308", 2.2250738585072014e-308, false),
                      ("0.000000000000000000000000001", 1e-27, false)])
    func numbersParseExactly(_ text: String, _ value: Double, _ integral: Bool) throws {
        let parsed = try #require(Array(text.utf8).withUnsafeBufferPointer { NumberParser.parse($0) })
        #expect(parsed.0 == value && parsed.1 == integral)
    }

    @Test(arguments: ["", "-", "1.2.3", "abc", "1e", "NaN", "inf", "1,5", "1e999"])
    func nonNumbersAreRefused(_ text: String) {
        #expect(Array(text.utf8).withUnsafeBufferPointer { NumberParser.parse($0) } == nil)
    }

    @Test func csvCellsUnquoteAndTrim() {
        var cells: [Range<Int>] = []
        var scratch: [UInt8] = []
        Array(#" 1.5 ,"a, ""b""",,x"#.utf8).withUnsafeBufferPointer { CSV.split($0, into: &cells, scratch: &scratch) }
        #expect(cells.map { String(decoding: scratch[$0], as: UTF8.self) } == ["1.5", #"a, "b""#, "", "x"])
        Array("a,".utf8).withUnsafeBufferPointer { CSV.split($0, into: &cells, scratch: &scratch) }
        #expect(cells.count == 2)
    }

    @Test(arguments: [
        ("", 1, 1, "the file is empty"),
        ("1,2\n3,4\n", 1, 1, "the first line holds a number ('1'), not a feature name: the file has no header"),
        ("a,,c\n1,2,3\n", 1, 3, "column 2 of the header has no name"),
        ("a,b\n1,2\n1,2,3\n", 3, 1, "row has 3 cells, the header names 2 features"),
        ("a,b\n", 2, 1, "the baseline has a header but no rows"),
    ])
    func badBaselinesAreLocated(_ text: String, _ line: Int, _ column: Int, _ message: String) throws {
        let path = NSTemporaryDirectory() + "baseline-\(UUID().uuidString).csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: BaselineError.self) { _ = try Baseline.fromCSV(path: path) }
        do { _ = try Baseline.fromCSV(path: path) } catch {
            #expect(error.line == line && error.column == column && error.message == message, "\(error)")
        }
    }

    @Test func baselineTypesAndStatisticsFollowTheAnalyzer() throws {
        let path = NSTemporaryDirectory() + "baseline-\(UUID().uuidString).csv"
        try "n,x,s\n1,1.5,a\n2,2.5,b\n3,,a\n4,4,\"c,d\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (baseline, statistics, constraints) = try Baseline.fromCSV(path: path)
        #expect(baseline.features.map(\.type) == [.integral, .fractional, .string])
        let x = try #require(baseline.features[1].profile)
        #expect(x.present == 3 && x.missing == 1 && x.sum == 8 && x.min == 1.5 && x.max == 4)
        #expect(abs(x.std - (((1.5 - 8.0 / 3) * (1.5 - 8.0 / 3) + (2.5 - 8.0 / 3) * (2.5 - 8.0 / 3) + (4 - 8.0 / 3) * (4 - 8.0 / 3)) / 3).squareRoot()) < 1e-12)
        #expect(baseline.features[1].completeness == 0.75)
        #expect(baseline.features[2].categories == ["a": 2, "b": 1, "c,d": 1])
        // The same key paths as the analyzer's own files.
        let real = try conformanceFile("statistics/aai540_statistics.json")
        let extra = keyPaths(statistics).subtracting(keyPaths(real))
        #expect(extra.isEmpty, "\(extra)")
        let realConstraints = try conformanceFile("constraints/aai540_constraints.json")
        #expect(keyPaths(constraints).subtracting(keyPaths(realConstraints)).isEmpty, "\(keyPaths(constraints).subtracting(keyPaths(realConstraints)))")
    }

    @Test func baselineFromTheAnalyzersFilesReadsTheirBucketsAndThresholds() throws {
        let b = try Baseline.fromFiles(statistics: conformance.appendingPathComponent("statistics/aai540_statistics.json").path,
                                       constraints: conformance.appendingPathComponent("constraints/aai540_constraints.json").path)
        #expect(b.itemCount == 23432 && !b.hasSamples)
        let price = try #require(b.features.first { $0.name == "price" })
        #expect(price.type == .fractional && price.buckets.count == 10 && price.buckets[0].count == 23191)
        let state = try #require(b.features.first { $0.name == "state" })
        #expect(state.domain?.contains("Texas") == true)
        #expect(b.comparisonThreshold == 0.1 && b.datatypeThreshold == 1)
    }

    @Test func violationsHaveTheRealFilesShape() throws {
        let real = try conformanceFile("violations/sdk_monitor_constraint_violations.json")
        let ours = Evaluation.violationsJSON([Violation("a", "data_type_check", "x")])
        #expect(keyPaths(ours) == keyPaths(real))
    }
}

@Suite struct EvaluationTests {
    func column(_ name: String, _ type: InferredType, _ cells: [String]) -> Column {
        var c = Column(name: name, type: type)
        for cell in cells { Array(cell.utf8).withUnsafeBufferPointer { c.add($0) } }
        return c
    }

    func baseline(_ columns: [Column]) -> Baseline {
        let features = columns.map { c -> BaselineFeature in
            let p = FeatureProfile(c)
            return BaselineFeature(name: c.name, type: c.type, completeness: p.completeness,
                                   domain: c.type == .string ? Set(c.categories.keys) : nil, profile: p)
        }
        return Baseline(features: features, itemCount: columns.first?.present ?? 0, hasSamples: true)
    }

    @Test func eachCheckTypeFiresOnItsOwnProblem() {
        let ref = baseline([column("n", .integral, (0..<50).map { String($0 % 10) }), column("k", .string, (0..<50).map { ["a", "b"][$0 % 2] })])
        var window = Dataset(columns: [column("n", .integral, (0..<40).map { String($0 % 10) } + ["x", "", "2.5"]),
                                       column("k", .string, (0..<40).map { ["a", "b"][$0 % 2] } + ["a", "zzz", "b"])])
        window.rows = 43
        window.shortRows = 2
        window.longRows = 1
        let e = Evaluation.evaluate(baseline: ref, window: window, rules: [:], defaultRule: FeatureRule())
        let checks = Set(e.violations.map { "\($0.constraint_check_type) \($0.feature_name)" })
        #expect(checks.isSuperset(of: ["data_type_check n", "completeness_check n", "categorical_values_check k", "missing_column_check ", "extra_column_check "]))
        #expect(!checks.contains("baseline_drift_check n"))
        let typeCheck = e.violations.first { $0.constraint_check_type == "data_type_check" }!
        #expect(typeCheck.description.contains("Expected data type: Integral") && typeCheck.description.contains("95.2%"))
    }

    @Test func theDefaultRuleIsEvidentlys() {
        func profile(_ n: Int, distinct: Int) -> FeatureProfile { FeatureProfile(column("x", .fractional, (0..<n).map { String($0 % distinct) })) }
        func feature(_ p: FeatureProfile) -> BaselineFeature { BaselineFeature(name: "x", type: .fractional, completeness: 1, domain: nil, profile: p) }
        #expect(Drift.defaultMethod(feature(profile(1000, distinct: 50)), window: profile(10, distinct: 10)) == .ks)
        #expect(Drift.defaultMethod(feature(profile(1000, distinct: 3)), window: profile(10, distinct: 3)) == .chiSquare)
        #expect(Drift.defaultMethod(feature(profile(1000, distinct: 2)), window: profile(10, distinct: 2)) == .zTest)
        #expect(Drift.defaultMethod(feature(profile(1001, distinct: 50)), window: profile(10, distinct: 10)) == .wasserstein)
        #expect(Drift.defaultMethod(feature(profile(1001, distinct: 4)), window: profile(10, distinct: 4)) == .jensenShannon)
        let files = BaselineFeature(name: "x", type: .fractional, completeness: 1, domain: nil, profile: nil)
        #expect(Drift.defaultMethod(files, window: profile(10, distinct: 10)) == .lInfinity)
    }

    @Test func thresholdsDecideTheVerdictOnTheRightSide() {
        #expect(DriftMethod.ks.drifted(0.05, threshold: 0.05) && !DriftMethod.ks.drifted(0.051, threshold: 0.05))
        #expect(!DriftMethod.chiSquare.drifted(0.05, threshold: 0.05))
        #expect(DriftMethod.wasserstein.drifted(0.1, threshold: 0.1) && !DriftMethod.lInfinity.drifted(0.1, threshold: 0.1))
    }
}

@Suite struct CaptureReaderTests {
    @Test func readsTheWindowsCsvRowsAndCountsTheRest() throws {
        let dir = NSTemporaryDirectory() + "capture-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hour = dir + "/v/2026/12/03/07"
        try FileManager.default.createDirectory(atPath: hour, withIntermediateDirectories: true)
        func line(_ data: String, _ time: String, encoding: String = "CSV") -> String {
            #"{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"\#(data)","encoding":"\#(encoding)"}},"eventMetadata":{"eventId":"e","inferenceTime":"\#(time)"},"eventVersion":"0"}"#
        }
        let lines = [line("1.5,a", "2026-12-03T07:10:00Z"), line("2.5,b\\n3.5,\\\"c\\\"", "2026-12-03T07:20:00Z"), line("e30=", "2026-12-03T07:20:00Z", encoding: "BASE64"),
                     line("9,z", "2026-12-03T07:59:59Z"), line("4,a,extra", "2026-12-03T07:30:00Z"), "not json"]
        try (lines.joined(separator: "\n") + "\n").write(toFile: hour + "/a.jsonl", atomically: true, encoding: .utf8)
        try "hidden".write(toFile: hour + "/.b.jsonl.tmp", atomically: true, encoding: .utf8)
        let start = Double(CivilDate.epochSeconds(year: 2026, month: 12, day: 3, hour: 7)), end = start + 3000
        let files = CaptureReader.files(in: dir, variant: nil, start: start, end: end)
        #expect(files == [hour + "/a.jsonl"])
        let (data, summary) = CaptureReader.read(files: files, template: [Column(name: "x", type: .fractional), Column(name: "k", type: .string)], start: start, end: end)
        #expect(summary.records == 4)
        #expect(data.rows == 3 && data.longRows == 1 && data.unreadableRecords == 1)
        #expect(data.columns[0].numbers.sorted() == [1.5, 2.5, 3.5] && data.columns[1].categories == ["a": 1, "b": 1, "c": 1])
        #expect(CaptureReader.files(in: dir, variant: nil, start: start + 3600, end: end + 3600).isEmpty)
    }

    @Test func civilDatesRoundTrip() {
        for t in [0.0, 951_782_400, 1_796_342_400, 4_102_444_799] {
            let iso = CivilDate.iso(t)
            let parsed = Array(iso.utf8).withUnsafeBufferPointer { CivilDate.parseISO($0) }
            #expect(parsed == t, "\(iso)")
        }
    }
}
