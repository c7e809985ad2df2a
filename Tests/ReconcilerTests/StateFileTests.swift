import Foundation
@testable import Reconciler
import Spec
import Testing

/// The state file's fast reader and `JSONDecoder` agree on what the encoder writes.
@Suite struct StateFileTests {
    static func sample() -> StackState {
        var s = StackState(stack: "demo", environment: "pr-7", lineage: "5f0c-lineage")
        s.serial = 42
        s.environmentAttributes = ["aws_endpoint_url": "http://127.0.0.1:4566", "host_pid": "123"]
        s.outputs = ["url": OutputValue(value: "http://x/é \"q\" \\ \n", sensitive: false),
                     "key": OutputValue(value: nil, sensitive: true), "later": OutputValue(value: nil, sensitive: false, knownAfterApply: true)]
        s.set(ResourceState(address: ResourceAddress(.endpoint, "fraud"),
                            attributes: ["variants.a.weight": .number(0.1), "variants.a.instances": .number(3), "big": .number(1796306499.089783),
                                         "negative": .number(-2.5e-7), "flag": .bool(true), "off": .bool(false), "text": .string("tab\tand ☃"),
                                         "secret": .sensitive(fingerprint: "sha256:abc")],
                            dependencies: [ResourceAddress(.model, "m1"), ResourceAddress(.model, "m2")],
                            outputs: ["url": "http://127.0.0.1:1/endpoints/fraud"],
                            processes: [ProcessRecord(role: "model-server", variant: "a", pid: 77, port: 40001, startedAt: 1796306499.123456),
                                        ProcessRecord(role: "environment", variant: nil, pid: 70, port: 40000, startedAt: 0)]))
        s.set(ResourceState(address: ResourceAddress(.model, "m1"), attributes: [:], dependencies: []))
        return s
    }

    @Test func theFastReaderAgreesWithJSONDecoder() throws {
        let data = try StateFile.encode(Self.sample())
        let fast = try #require(StateFile.fastDecode(data))
        let codable = try JSONDecoder().decode(StateFile.Envelope.self, from: data).state
        #expect(fast.version == StateFile.formatVersion)
        #expect(fast.state == codable)
        #expect(fast.state == Self.sample())
        #expect(try StateFile.decode(data, path: "state.json") == Self.sample())
    }

    @Test func anUnexpectedShapeFallsBackToTheDecoderAndItsMessage() throws {
        let odd = Data(#"{"format_version": 1, "state": {"stack": 3}}"#.utf8)
        #expect(StateFile.fastDecode(odd) == nil)
        #expect(throws: StateFileError.self) { try StateFile.decode(odd, path: "state.json") }
        let newer = Data(#"{"format_version": 9, "state": {}}"#.utf8)
        #expect(throws: StateFileError.tooNew(path: "state.json", version: 9)) { try StateFile.decode(newer, path: "state.json") }
    }
}
