@testable import Export
import Testing

@Suite struct ExportTests {
    /// The CRC-32 check value of "123456789" (ISO-HDLC), and a stored archive's layout.
    @Test func storedZipHasTheStandardChecksumAndLayout() {
        #expect(StoredZip.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        let zip = StoredZip.archive([.init(path: "b.py", bytes: Array("x".utf8)), .init(path: "a.py", bytes: [])])
        #expect(Array(zip.prefix(4)) == [0x50, 0x4B, 0x03, 0x04])
        #expect(Array(zip.suffix(22).prefix(4)) == [0x50, 0x4B, 0x05, 0x06])
        // Sorted entries: a.py first.
        #expect(Array(zip[30..<34]) == Array("a.py".utf8))
    }

    struct ScheduleCase: CustomTestStringConvertible, Sendable {
        var local: String
        var sageMaker: String?
        var testDescription: String { local }
    }

    /// SageMaker's monitoring schedules run hourly, every N hours or daily.
    @Test(arguments: [
        ScheduleCase(local: "rate(1 hour)", sageMaker: "cron(0 * ? * * *)"),
        ScheduleCase(local: "rate(6 hours)", sageMaker: "cron(0 */6 ? * * *)"),
        ScheduleCase(local: "rate(1 day)", sageMaker: "cron(0 0 ? * * *)"),
        ScheduleCase(local: "rate(2 days)", sageMaker: "cron(0 0 ? * * *)"),
        ScheduleCase(local: "rate(30 minutes)", sageMaker: nil),
        ScheduleCase(local: "cron(0 * ? * * *)", sageMaker: "cron(0 * ? * * *)"),
        ScheduleCase(local: "at(2026-12-24T20:00:00)", sageMaker: nil),
    ])
    func monitorSchedules(_ c: ScheduleCase) {
        #expect(Builder.monitorSchedule(c.local) == c.sageMaker)
    }

    @Test func logicalIDsArePascalCase() {
        #expect(CFN.pascal("fraud-v1") == "FraudV1")
        #expect(CFN.pascal("score_with.features") == "ScoreWithFeatures")
    }
}
