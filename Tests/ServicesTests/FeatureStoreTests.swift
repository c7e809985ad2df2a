import EnvironmentAPI
import Foundation
@testable import Services
import Testing

let customers = FeatureGroupConfiguration(
    name: "customers", recordIdentifier: "id", eventTime: "at",
    features: [FeatureDefinition(name: "id", type: .string), FeatureDefinition(name: "at", type: .fractional),
               FeatureDefinition(name: "age", type: .integral), FeatureDefinition(name: "spend", type: .fractional),
               FeatureDefinition(name: "tags", type: .string, collection: .set),
               FeatureDefinition(name: "v", type: .fractional, collection: .vector, dimension: 2)],
    online: true, ttlSeconds: 100, offline: true, load: [], description: nil)

func record(_ id: String, _ at: String, _ more: [FeatureValue] = []) -> [FeatureValue] {
    [FeatureValue("id", id), FeatureValue("at", at)] + more
}

// MARK: values

struct RecordCase: CustomTestStringConvertible, Sendable {
    var name: String
    var record: [FeatureValue]
    /// nil: valid.
    var error: String?
    var testDescription: String { name }
}

let recordCases: [RecordCase] = [
    .init(name: "valid", record: record("a", "1700000000.5", [FeatureValue("age", "41"), FeatureValue("spend", "-1e3")]), error: nil),
    .init(name: "integral with a point", record: record("a", "1", [FeatureValue("age", "41.0")]), error: "feature 'age': '41.0' is not an Integral"),
    .init(name: "integral beyond 64 bits", record: record("a", "1", [FeatureValue("age", "9223372036854775808")]), error: "is not an Integral"),
    .init(name: "fractional nan", record: record("a", "1", [FeatureValue("spend", "nan")]), error: "feature 'spend': 'nan' is not a Fractional"),
    .init(name: "fractional infinity", record: record("a", "1", [FeatureValue("spend", "1e999")]), error: "is not a Fractional"),
    .init(name: "unknown feature", record: record("a", "1", [FeatureValue("colour", "red")]), error: "feature 'colour': feature group 'customers' has no such feature"),
    .init(name: "feature twice", record: record("a", "1", [FeatureValue("age", "1"), FeatureValue("age", "2")]), error: "feature 'age': the feature appears twice"),
    .init(name: "no identifier", record: [FeatureValue("at", "1")], error: "feature 'id': the record identifier is missing"),
    .init(name: "empty identifier", record: record("", "1"), error: "the record identifier must not be empty"),
    .init(name: "no event time", record: [FeatureValue("id", "a")], error: "feature 'at': the event time is missing"),
    .init(name: "event time not a number", record: record("a", "yesterday"), error: "feature 'at': 'yesterday' is not a Fractional"),
    .init(name: "event time negative", record: record("a", "-5"), error: "'-5' is not an event time"),
    .init(name: "event time beyond year 9999", record: record("a", "253402300800"), error: "is not an event time"),
    .init(name: "list for a single value", record: record("a", "1", [FeatureValue("age", list: ["1"])]), error: "feature 'age': the feature is a single Integral: use ValueAsString"),
    .init(name: "single value for a set", record: record("a", "1", [FeatureValue("tags", "x")]), error: "the feature is a String Set: use ValueAsStringList"),
    .init(name: "a set repeats a value", record: record("a", "1", [FeatureValue("tags", list: ["x", "x"])]), error: "a set holds each value once"),
    .init(name: "vector of the wrong length", record: record("a", "1", [FeatureValue("v", list: ["1"])]), error: "a vector of 2 values was expected, found 1"),
    .init(name: "vector of bad numbers", record: record("a", "1", [FeatureValue("v", list: ["1", "x"])]), error: "'x' is not a Fractional"),
    .init(name: "value too long", record: record(String(repeating: "x", count: 358_401), "1"), error: "a value holds at most 358400 characters"),
    .init(name: "empty record", record: [], error: "Record must contain at least one feature"),
]

@Test(arguments: recordCases)
func recordsAreCheckedAgainstTheSchema(_ c: RecordCase) {
    switch FeatureRecords.check(c.record, against: customers) {
    case .success: #expect(c.error == nil, "accepted, expected: \(c.error ?? "")")
    case .failure(let e):
        guard let expected = c.error else { Issue.record("rejected: \(e)"); return }
        #expect(e.description.contains(expected), "\(e)")
    }
}

@Test(arguments: [
    ("2020-10-30T03:43:21Z", 1_604_029_401.0), ("2020-10-30T03:43:21.250Z", 1_604_029_401.25), ("1970-01-01T00:00:00Z", 0),
    ("2024-02-29T23:59:59Z", 1_709_251_199), ("2023-02-29T00:00:00Z", -1), ("2020-10-30 03:43:21Z", -1), ("2020-13-01T00:00:00Z", -1),
    ("2020-10-30T03:43:21+01:00", -1), ("2020-10-30T24:00:00Z", -1),
])
func isoEventTimesParseAsSageMakerWritesThem(_ text: String, _ seconds: Double) {
    let parsed = FeatureRecords.iso8601(text)
    if seconds < 0 { #expect(parsed == nil, "\(text)") } else {
        #expect(parsed == seconds, "\(text)")
        #expect(FeatureRecords.iso8601(seconds) == text)
    }
}

@Test func csvRowsKeepQuotedCommasAndNewlinesAndTheirLines() throws {
    let text = "id,at,age,tags\nr1,1,5,\n\"r,2\",2,,\"[\"\"a\"\",\"\"b\"\"]\"\n\"r\n3\",3,7,\nr4,4\n"
    var reader = FeatureFileReader(bytes: Array(text.utf8), format: .csv, group: customers)
    var rows: [(Int, Result<[FeatureValue], FeatureRecordError>)] = []
    while let r = reader.next() { rows.append((r.line, r.result)) }
    #expect(rows.map(\.0) == [2, 3, 4, 6])
    #expect(try rows[0].1.get() == record("r1", "1", [FeatureValue("age", "5")]))
    #expect(try rows[1].1.get() == record("r,2", "2", [FeatureValue("tags", list: ["a", "b"])]))
    #expect(try rows[2].1.get() == record("r\n3", "3", [FeatureValue("age", "7")]))
    guard case .failure(let e) = rows[3].1 else { Issue.record("a short row was read"); return }
    #expect(e.message == "the row has 2 cells, the header 4")
}

@Test func aHeaderNamingAnUnknownFeatureReadsNoRow() {
    var reader = FeatureFileReader(bytes: Array("id,at,colour\na,1,red\n".utf8), format: .csv, group: customers)
    #expect(reader.next() == nil)
    #expect(reader.fileError == "header: column 3 'colour' is not a feature of group 'customers'")
}

@Test func jsonLinesTakeNumbersAsWrittenAndNullAsAbsent() throws {
    let text = "{\"id\": \"a\", \"at\": 1.5, \"age\": 3, \"spend\": null}\n\n{\"id\": 7, \"at\": 2, \"tags\": [\"x\"]}\nnot json\n"
    var reader = FeatureFileReader(bytes: Array(text.utf8), format: .jsonLines, group: customers)
    let first = reader.next(), second = reader.next(), third = reader.next()
    let a = try #require(first)
    #expect(try a.result.get() == [FeatureValue("id", "a"), FeatureValue("at", "1.5"), FeatureValue("age", "3")])
    let b = try #require(second)
    #expect(b.line == 3)
    #expect(try b.result.get() == [FeatureValue("id", "7"), FeatureValue("at", "2"), FeatureValue("tags", list: ["x"])])
    let c = try #require(third)
    #expect(c.line == 4)
    if case .success = c.result { Issue.record("a line that is not JSON was read") }
}

// MARK: the store

final class TestClock: @unchecked Sendable {
    var now = 1_700_000_000.0
}

func withStore(_ body: (FeatureStore, TestClock, String) throws -> Void) throws {
    let folder = NSTemporaryDirectory() + "mlgw-fs-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let clock = TestClock()
    let store = try FeatureStore(folder: folder, clock: { clock.now })
    try store.put(customers)
    try body(store, clock, folder)
}

func get(_ store: FeatureStore, _ id: String) throws -> String? { try store.read(customers, id: id)?.record }

@Test func aNewerEventTimeWinsOnlineAndAnOlderOneGoesOfflineOnly() throws {
    try withStore { store, _, _ in
        try store.putRecord("customers", record("a", "1700000000", [FeatureValue("age", "1")]), targets: nil, ttl: nil)
        try store.putRecord("customers", record("a", "1699999999", [FeatureValue("age", "2")]), targets: nil, ttl: nil)
        #expect(try get(store, "a")?.contains("\"age\",\"ValueAsString\":\"1\"") == true)
        // As old as the stored record is "historic" too (SageMaker writes online only a greater event time).
        try store.putRecord("customers", record("a", "1700000000", [FeatureValue("age", "3")]), targets: nil, ttl: nil)
        #expect(try get(store, "a")?.contains("\"age\",\"ValueAsString\":\"1\"") == true)
        // PutRecord replaces the whole record: age is gone.
        try store.putRecord("customers", record("a", "1700000001", [FeatureValue("spend", "3.5")]), targets: nil, ttl: nil)
        let now = try #require(try get(store, "a"))
        #expect(!now.contains("age") && now.contains("3.5"))
        #expect(try store.status("customers")?.offlineRows == 4)
        #expect(try store.status("customers")?.onlineRecords == 1)
    }
}

@Test func recordsExpireByTheirOwnTTLOrTheGroupsAndSayWhen() throws {
    try withStore { store, clock, _ in
        try store.putRecord("customers", record("g", "1700000000"), targets: nil, ttl: nil)
        try store.putRecord("customers", record("own", "1700000000"), targets: nil, ttl: 10)
        #expect(try store.read(customers, id: "g")?.expiresAt == 1_700_000_100)
        #expect(try store.read(customers, id: "own")?.expiresAt == 1_700_000_010)
        clock.now += 10
        #expect(try get(store, "own") == nil)
        #expect(try get(store, "g") != nil)
        clock.now += 90
        #expect(try get(store, "g") == nil)
        #expect(try store.read(customers, ids: ["g", "own"]).isEmpty)
    }
}

@Test func deletesFollowTheEventTimeRule() throws {
    try withStore { store, _, _ in
        try store.putRecord("customers", record("a", "1700000000"), targets: nil, ttl: nil)
        // A soft delete older than the record leaves it, but still writes its marker.
        try store.deleteRecord("customers", id: "a", eventTime: "1699999000", hard: false, targets: nil)
        #expect(try get(store, "a") != nil)
        // A hard delete older than the record fails and writes nothing.
        #expect(throws: FeatureStoreError.self) { try store.deleteRecord("customers", id: "a", eventTime: "1699999000", hard: true, targets: nil) }
        try store.deleteRecord("customers", id: "a", eventTime: "2023-11-14T22:13:21Z", hard: false, targets: nil)
        #expect(try get(store, "a") == nil)
        // After a soft delete, only a later write brings the record back.
        try store.putRecord("customers", record("a", "1700000000"), targets: nil, ttl: nil)
        #expect(try get(store, "a") == nil)
        try store.putRecord("customers", record("a", "1700000002"), targets: nil, ttl: nil)
        #expect(try get(store, "a") != nil)
        // After a hard delete, a historic record can be written and read again.
        try store.deleteRecord("customers", id: "a", eventTime: "1700000003", hard: true, targets: nil)
        #expect(try get(store, "a") == nil)
        try store.putRecord("customers", record("a", "1600000000"), targets: nil, ttl: 1e9)
        #expect(try get(store, "a") != nil)
        #expect(try store.status("customers")?.offlineRows == 7)
    }
}

@Test func targetStoresLimitWhereARecordGoes() throws {
    try withStore { store, _, _ in
        try store.putRecord("customers", record("off", "1700000000"), targets: [.offline], ttl: nil)
        #expect(try get(store, "off") == nil)
        try store.putRecord("customers", record("on", "1700000000"), targets: [.online], ttl: nil)
        #expect(try get(store, "on") != nil)
        #expect(try store.status("customers")?.offlineRows == 1)
    }
}

@Test func theOfflineStoreIsPartitionedByEventTimeAndFlushedWhole() throws {
    try withStore { store, _, folder in
        try store.putRecord("customers", [FeatureValue("id", "a"), FeatureValue("at", "1604029401")], targets: nil, ttl: nil)
        try store.putRecord("customers", [FeatureValue("id", "b"), FeatureValue("at", "1604032000"), FeatureValue("tags", list: ["x"])], targets: nil, ttl: nil)
        try store.flushOffline()
        let base = folder + "/offline/customers/year=2020/month=10/day=30"
        let three = try String(contentsOfFile: base + "/hour=03/part-1.jsonl", encoding: .utf8)
        let four = try String(contentsOfFile: base + "/hour=04/part-1.jsonl", encoding: .utf8)
        let row = try #require(try JSONSerialization.jsonObject(with: Data(three.utf8)) as? [String: Any])
        #expect(row["id"] as? String == "a" && row["at"] as? Double == 1_604_029_401 && row["age"] is NSNull)
        #expect(row["is_deleted"] as? Bool == false && row["write_time"] is String && row["api_invocation_time"] is String)
        #expect(four.contains("\"tags\":[\"x\"]"))
        #expect(store.queuedRows() == 0)
        #expect(try store.status("customers")?.offlineRows == 2)
    }
}

@Test func aFlushCutShortIsRedoneIntoTheSameFiles() throws {
    try withStore { store, _, folder in
        try store.putRecord("customers", [FeatureValue("id", "a"), FeatureValue("at", "1604029401")], targets: nil, ttl: nil)
        // As if the host died after sealing the log and writing its file, before recording it.
        _ = try store.queue.seal()
        let path = folder + "/offline/customers/year=2020/month=10/day=30/hour=03/part-1.jsonl"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try "{\"id\":\"a\"}\n".write(toFile: path, atomically: true, encoding: .utf8)
        try store.putRecord("customers", [FeatureValue("id", "b"), FeatureValue("at", "1604029402")], targets: nil, ttl: nil)
        try store.flushOffline()
        // The log of row 1 is not written twice; row 2 is the next log's.
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"id\":\"a\"}\n")
        #expect(FileManager.default.fileExists(atPath: folder + "/offline/customers/year=2020/month=10/day=30/hour=03/part-2.jsonl"))
        #expect(store.queuedRows() == 0)
        #expect(OfflineQueue.logs(in: folder + "/feature-store-missing").isEmpty)
    }
}

@Test func rowsQueuedByAStoppedHostAreFlushedByTheNextAndTheirNamesNeverRepeat() throws {
    let folder = NSTemporaryDirectory() + "mlgw-fs-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let clock = TestClock()
    do {
        let store = try FeatureStore(folder: folder, clock: { clock.now })
        try store.put(customers)
        try store.putRecord("customers", [FeatureValue("id", "a"), FeatureValue("at", "1604029401")], targets: nil, ttl: nil)
        try store.flushOffline()
        try store.putRecord("customers", [FeatureValue("id", "b"), FeatureValue("at", "1604029402")], targets: nil, ttl: nil)
        // A partial line, as a kill in the middle of a write leaves: not a row.
        let log = try #require(OfflineQueue.logs(in: folder + "/offline-queue").last)
        let handle = try #require(FileHandle(forWritingAtPath: folder + "/offline-queue/" + log.name))
        handle.seekToEndOfFile()
        handle.write(Data("customers\t16040".utf8))
        try handle.close()
    }
    let again = try FeatureStore(folder: folder, clock: { clock.now })
    #expect(again.queuedRows() == 1)
    #expect(try again.status("customers")?.offlineRows == 2)
    try again.flushOffline()
    let hour = folder + "/offline/customers/year=2020/month=10/day=30/hour=03"
    #expect(try FileManager.default.contentsOfDirectory(atPath: hour).sorted() == ["part-1.jsonl", "part-2.jsonl"])
    #expect(try String(contentsOfFile: hour + "/part-2.jsonl", encoding: .utf8).contains("\"id\":\"b\""))
    #expect(again.queuedRows() == 0)
    #expect(try again.status("customers")?.offlineRows == 2)
}

@Test func aFailedOnlineWriteTakesItsOfflineRowsBack() throws {
    try withStore { store, _, _ in
        try store.putRecord("customers", record("a", "1700000000"), targets: nil, ttl: nil)
        // A hard delete older than the record fails: its marker must not stay in the queue.
        #expect(throws: FeatureStoreError.self) { try store.deleteRecord("customers", id: "a", eventTime: "1", hard: true, targets: nil) }
        #expect(store.queuedRows() == 1)
        try store.flushOffline()
        #expect(try store.status("customers")?.offlineRows == 1)
    }
}

@Test func groupsAndRecordsSurviveANewStoreOnTheSameFolder() throws {
    let folder = NSTemporaryDirectory() + "mlgw-fs-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let clock = TestClock()
    do {
        let store = try FeatureStore(folder: folder, clock: { clock.now })
        try store.put(customers)
        try store.putRecord("customers", record("a", "1700000000"), targets: nil, ttl: nil)
    }
    let again = try FeatureStore(folder: folder, clock: { clock.now })
    #expect(again.group("customers") == customers)
    #expect(try again.read(customers, id: "a") != nil)
    // A schema that cannot keep the records is refused while they are there.
    var retyped = customers
    retyped.features[2].type = .fractional
    #expect(throws: ControlError.self) { try again.put(retyped) }
    var added = customers
    added.features.append(FeatureDefinition(name: "country", type: .string))
    try again.put(added)
    try again.delete("customers")
    try again.put(retyped)
    #expect(try again.status("customers")?.onlineRecords == 0)
}

@Test func aChunkIsCutAtTheEndsOfRowsWithTheLinesBeforeEachPart() {
    var text = ""
    for i in 0..<20_000 { text += i == 7_000 ? "\"a\nb\",1\n" : "r\(i),1\n" }
    let bytes = Array(text.utf8)
    let parts = FeatureStoreService.split(bytes, csv: true, into: 3)
    #expect(parts.count == 3)
    #expect(parts.first?.0.lowerBound == 0 && parts.last?.0.upperBound == bytes.count)
    for (k, part) in parts.enumerated() {
        // Every part starts a row, and counts the newlines before it.
        if part.0.lowerBound > 0 { #expect(bytes[part.0.lowerBound - 1] == 10) }
        #expect(part.1 == bytes[0..<part.0.lowerBound].filter { $0 == 10 }.count)
        if k > 0 { #expect(parts[k - 1].0.upperBound == part.0.lowerBound) }
    }
    #expect(FeatureStoreService.split(Array("a\nb\n".utf8), csv: true, into: 2).count == 1)
}
