import Atomics
import EnvironmentAPI
import Foundation
import NIOCore
@testable import Services
import Testing

@Test func anInstanceThatDiesAfterBeingHealthyRestartsWithGrowingBackoff() {
    var l = InstanceLifecycle()
    l.becameHealthy()
    #expect(l.processExited() == .restart(after: 0.1))
    l.relaunched()
    #expect(l.processExited() == .restart(after: 0.2))
    l.relaunched()
    #expect(l.processExited() == .restart(after: 0.4))
    l.relaunched()
    l.becameHealthy()
    #expect(l.consecutiveFailures == 0)
    #expect(l.restarts == 3)
    #expect(l.processExited() == .restart(after: 0.1))
    #expect(InstanceLifecycle.backoff(failures: 50) == 10)
}

@Test func aFirstLaunchThatDiesIsReportedNotRetried() {
    var l = InstanceLifecycle()
    #expect(l.processExited() == .launchFailed)
    #expect(l.state == .failed)
    #expect(l.processExited() == .none)
}

@Test func aRequestedStopEndsTheLifecycle() {
    var l = InstanceLifecycle()
    l.becameHealthy()
    l.stopRequested()
    #expect(l.processExited() == .stopped)
    #expect(l.state == .stopped)
}

@Test func weightedPickFollowsSharesAndSkipsZeroWeights() {
    let route = EndpointRoute(name: "e", variants: [
        VariantRoute(name: "a", weight: 90, upstreams: []), VariantRoute(name: "z", weight: 0, upstreams: []),
        VariantRoute(name: "b", weight: 10, upstreams: []),
    ])
    var counts: [String: Int] = [:]
    var random = FastRandom()
    for _ in 0..<100_000 { counts[route.pick(unit: random.unit())!.name, default: 0] += 1 }
    #expect(counts["z"] == nil)
    #expect(abs(counts["b"]! - 10_000) < 600)
    #expect(route.pick(unit: 0.95)?.name == "b")
    #expect(EndpointRoute(name: "e", variants: [VariantRoute(name: "a", weight: 0, upstreams: [])]).pick(unit: 0.5) == nil)
}

@Test func instancesArePickedRoundRobin() {
    let v = VariantRoute(name: "a", weight: 1, upstreams: [Upstream(port: 1, instanceID: "a-1"), Upstream(port: 2, instanceID: "a-2")])
    #expect((0..<4).map { _ in v.pickUpstream()!.port } == [1, 2, 1, 2])
}

@Test func csvRowsParseAndBadRowsSayWhere() throws {
    let ok = try Array("1,2,3\n4, 5.5 ,6\r\n\n".utf8).withUnsafeBytes { try InferenceCodec.parseCSV($0, width: 3) }
    #expect(ok == [1, 2, 3, 4, 5.5, 6])
    #expect(throws: InferenceCodec.BadInput.self) { try Array("1,2\n".utf8).withUnsafeBytes { try InferenceCodec.parseCSV($0, width: 3) } }
    do {
        _ = try Array("1,2,3\n1,x,3".utf8).withUnsafeBytes { try InferenceCodec.parseCSV($0, width: 3) }
    } catch {
        #expect("\(error)" == "row 2 holds a value that is not a number: 'x'")
    }
}

@Test func jsonInstancesParse() throws {
    #expect(try InferenceCodec.parseJSON(Data(#"{"instances": [[1, 2], [3, 4]]}"#.utf8), width: 2) == [1, 2, 3, 4])
    #expect(try InferenceCodec.parseJSON(Data("[5, 6]".utf8), width: 2) == [5, 6])
    #expect(throws: InferenceCodec.BadInput.self) { try InferenceCodec.parseJSON(Data(#"{"rows": []}"#.utf8), width: 2) }
}

@Test func logisticModelAnswersProbabilities() throws {
    let model = try LinearModel.load(data: Data(#"{"objective": "logistic", "coefficients": [1, -1], "intercept": 0}"#.utf8), path: "m.json")
    let p = [2.0, 2.0].withUnsafeBufferPointer { model.predict($0) }
    #expect(p == 0.5)
    let q = [3.0, 1.0].withUnsafeBufferPointer { model.predict($0) }
    #expect(abs(q - 1 / (1 + exp(-2.0))) < 1e-12)
    #expect(model.probeCSV == "0,0")
    #expect(throws: LinearModel.LoadError.self) { try LinearModel.load(data: Data("{}".utf8), path: "bad.json") }
}

/// One tree: x0 < 0.5 (missing goes right) -> leaf 1.0, else x1 < 2 (missing goes left) -> -1.0 / 3.0.
let tinyXGBoost = #"""
{"learner": {
  "learner_model_param": {"base_score": "[5E-1]", "num_class": "0", "num_feature": "2", "num_target": "1"},
  "objective": {"name": "reg:squarederror"},
  "gradient_booster": {"name": "gbtree", "model": {"tree_info": [0], "trees": [{
    "left_children": [1, -1, 3, -1, -1], "right_children": [2, -1, 4, -1, -1],
    "split_indices": [0, 0, 1, 0, 0], "split_conditions": [0.5, 1.0, 2.0, -1.0, 3.0],
    "default_left": [0, 0, 1, 0, 0], "categories_nodes": []}]}}}}
"""#

@Test func xgboostTreesSplitInFloat32AndFollowDefaultDirections() throws {
    let model = try XGBoostModel.load(data: Data(tinyXGBoost.utf8), path: "tiny.json")
    #expect(model.featureCount == 2 && model.treeCount == 1)
    let nan = Double.nan
    // base margin 0.5 plus the leaf.
    #expect(model.predict([0.2, 0, 0.7, 1, 0.7, 5, nan, 1, nan, nan]) == [1.5, -0.5, 3.5, -0.5, -0.5])
    // 0.5000000001 rounds to 0.5 in float32, which is not < 0.5: it goes right, as in XGBoost.
    #expect(model.predict([0.5000000001, 1]) == [-0.5])
}

@Test func xgboostRejectsWhatItCannotPredict() {
    let dart = tinyXGBoost.replacingOccurrences(of: #""name": "gbtree""#, with: #""name": "dart""#)
    #expect(throws: XGBoostModel.LoadError.self) { try XGBoostModel.load(data: Data(dart.utf8), path: "dart.json") }
    let rank = tinyXGBoost.replacingOccurrences(of: "reg:squarederror", with: "rank:pairwise")
    #expect(throws: XGBoostModel.LoadError.self) { try XGBoostModel.load(data: Data(rank.utf8), path: "rank.json") }
}

@Test func captureRecordsNameTheirEncoding() {
    let writer = CaptureWriter(endpoint: "e", directory: NSTemporaryDirectory() + "mlgw-capture-\(UUID().uuidString)",
                               config: .init(samplePercent: 100, captureInput: true, captureOutput: true,
                                             csvContentTypes: ["text/csv"], jsonContentTypes: ["application/json"]),
                               dropped: .init(0))
    defer { writer.close() }
    let csv = writer.payload([ByteBuffer(string: "1,2\n"), ByteBuffer(string: "3,4")], type: "text/csv; charset=utf-8", mode: "INPUT")
    #expect(csv == #"{"observedContentType":"text/csv; charset=utf-8","mode":"INPUT","data":"1,2\n3,4","encoding":"CSV"}"#)
    let binary = writer.payload([ByteBuffer(bytes: [0, 255, 7])], type: "application/x-npy", mode: "OUTPUT")
    #expect(binary == #"{"observedContentType":"application/x-npy","mode":"OUTPUT","data":"AP8H","encoding":"BASE64"}"#)
    #expect(writer.samples(0.999) && !CaptureWriter(endpoint: "f", directory: "/nonexistent", config: .init(samplePercent: 0, captureInput: true,
        captureOutput: false, csvContentTypes: [], jsonContentTypes: []), dropped: .init(0)).samples(0))
}

@Test func aFullCaptureQueueDropsAndCountsInsteadOfWaiting() {
    let dropped = ManagedAtomic<UInt64>(0)
    let writer = CaptureWriter(endpoint: "e", directory: NSTemporaryDirectory() + "mlgw-capture-\(UUID().uuidString)",
                               config: .init(samplePercent: 100, captureInput: true, captureOutput: true, csvContentTypes: ["text/csv"], jsonContentTypes: []),
                               dropped: dropped, capacity: 3)
    defer { writer.close() }
    let record = CaptureWriter.Record(variant: "a", time: 0, inferenceID: nil, inputType: "text/csv", input: [], outputType: "text/csv", output: [])
    for _ in 0..<5 { writer.offer(record) }
    // The first flush is 250 ms away: the queue holds 3 and the other 2 are dropped.
    #expect(writer.captured.load(ordering: .relaxed) == 3)
    #expect(dropped.load(ordering: .relaxed) == 2)
}

@Test func eventStreamMessagesCarryLengthsAndChecksums() {
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    var m = EventStream.payloadPart(ByteBuffer(string: "hi"), allocator: ByteBufferAllocator())
    let bytes = Array(m.readableBytesView)
    let total = Int(m.readInteger(as: UInt32.self)!), headers = Int(m.readInteger(as: UInt32.self)!)
    #expect(total == bytes.count)
    #expect(m.readInteger(as: UInt32.self) == CRC32.checksum(bytes[0..<8]))
    #expect(Array(bytes[(12 + headers)..<(total - 4)]) == Array("hi".utf8))
    let tail = UInt32(bytes[total - 4]) << 24 | UInt32(bytes[total - 3]) << 16 | UInt32(bytes[total - 2]) << 8 | UInt32(bytes[total - 1])
    #expect(tail == CRC32.checksum(bytes[0..<(total - 4)]))
}

let rolloutSettings = RolloutConfiguration(steps: [10, 50, 100], bakeSeconds: 30, maxErrorRate: 0.05, maxP99LatencyMs: 50, minRequests: 20)

@Test func aHealthyRolloutStepsThroughAfterEachBakeAndCompletes() {
    var r = RolloutProgress(config: rolloutSettings, now: 0)
    #expect(r.share == 10)
    #expect(r.evaluate(now: 29, requests: 100, errors: 1, p99Ms: 1) == .none)
    #expect(r.evaluate(now: 30, requests: 100, errors: 1, p99Ms: 1) == .advanced(toStep: 1))
    #expect(r.share == 50)
    #expect(r.evaluate(now: 60, requests: 20, errors: 0, p99Ms: nil) == .advanced(toStep: 2))
    #expect(r.evaluate(now: 90, requests: 25, errors: 0, p99Ms: nil) == .completed)
    #expect(r.share == 100 && r.status == .completed)
    #expect(r.evaluate(now: 200, requests: 100, errors: 100, p99Ms: 900) == .none)
}

@Test func aRolloutRollsBackOnErrorsOrLatencyOnceItHasSeenEnoughRequests() {
    var r = RolloutProgress(config: rolloutSettings, now: 0)
    #expect(r.evaluate(now: 1, requests: 10, errors: 10, p99Ms: nil) == .none)  // too few to judge
    guard case .rolledBack(let why) = r.evaluate(now: 2, requests: 20, errors: 2, p99Ms: 1) else {
        Issue.record("expected a rollback")
        return
    }
    #expect(why.contains("error rate 0.1 over 20 requests at step 1 (10%)"))
    #expect(r.share == 0 && r.status == .rolledBack)
    var slow = RolloutProgress(config: rolloutSettings, now: 0)
    guard case .rolledBack(let reason) = slow.evaluate(now: 1, requests: 40, errors: 0, p99Ms: 100) else {
        Issue.record("expected a rollback")
        return
    }
    #expect(reason.contains("p99 model latency 100.0 ms"))
}

/// A step is judged only on enough traffic: with too little, it waits up to `max_wait`, then does
/// what the stack says. It never advances on silence.
struct TrafficCase: CustomTestStringConvertible, Sendable {
    var name: String
    var policy: RolloutConfiguration.TooLittleTraffic
    var expected: RolloutStatus.State
    var share: Double
    var testDescription: String { name }
}

@Test(arguments: [
    TrafficCase(name: "rolls back by default", policy: .rollBack, expected: .rolledBack, share: 0),
    TrafficCase(name: "halts where it is", policy: .halt, expected: .halted, share: 10),
    TrafficCase(name: "stays and keeps waiting", policy: .stay, expected: .progressing, share: 10),
])
func aStepWithTooLittleTrafficWaitsThenDoesWhatTheStackSays(_ c: TrafficCase) {
    var settings = rolloutSettings
    settings.maxWaitSeconds = 60
    settings.onTooLittleTraffic = c.policy
    var r = RolloutProgress(config: settings, now: 0)
    // The bake time is over, 5 of 20 requests: the step waits, and says so once.
    guard case .waitingForTraffic(let why) = r.evaluate(now: 30, requests: 5, errors: 0, p99Ms: nil) else {
        Issue.record("expected the step to wait")
        return
    }
    #expect(why.contains("step 1 (10%) has seen 5 of the 20 requests"))
    #expect(r.evaluate(now: 60, requests: 5, errors: 0, p99Ms: nil) == .none)
    #expect(r.status == .progressing && r.share == 10 && r.reason == why)
    // Past max_wait: the stack's choice.
    let decision = r.evaluate(now: 91, requests: 6, errors: 0, p99Ms: nil)
    #expect(r.status == c.expected && r.share == c.share, "\(decision)")
    if c.policy == .stay {
        #expect(decision == .none)
        // Traffic arrives late: the step is judged and advances.
        #expect(r.evaluate(now: 1_000, requests: 20, errors: 0, p99Ms: nil) == .advanced(toStep: 1))
    } else {
        #expect(r.reason?.contains("after waiting 60s beyond its bake time") == true)
        #expect(r.evaluate(now: 2_000, requests: 1_000, errors: 0, p99Ms: nil) == .none)
    }
}

@Test func rolloutWeightsGiveTheRestToTheOthersByTheirWeights() {
    var r = RolloutProgress(config: rolloutSettings, now: 0)
    #expect(r.weights(declared: [("a", 3), ("b", 1), ("new", 0)], rollingOut: "new") == ["new": 10, "a": 67.5, "b": 22.5])
    _ = r.evaluate(now: 1, requests: 50, errors: 50, p99Ms: nil)
    #expect(r.weights(declared: [("a", 3), ("new", 0)], rollingOut: "new") == ["new": 0, "a": 100])
}

@Test func theModelCacheEvictsLeastRecentlyUsedByCountAndBySize() throws {
    let dir = NSTemporaryDirectory() + "mlgw-cache-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    for name in ["a", "b", "c"] {
        try #"{"objective": "regression", "coefficients": [1], "intercept": 0}"#.write(toFile: "\(dir)/\(name).json", atomically: true, encoding: .utf8)
    }
    let byCount = ModelCache(directory: dir, runtime: "linear", capacity: 2)
    _ = try byCount.model("a.json"); _ = try byCount.model("b.json"); _ = try byCount.model("a.json"); _ = try byCount.model("c.json")
    #expect(byCount.loadedNames == ["a.json", "c.json"] && byCount.evictions == 1 && byCount.hits == 1)
    let size = try FileManager.default.attributesOfItem(atPath: "\(dir)/a.json")[.size] as! Int
    let bySize = ModelCache(directory: dir, runtime: "linear", capacity: 100, memoryBytes: size * 2 - 1)
    _ = try bySize.model("a.json"); _ = try bySize.model("b.json")
    #expect(bySize.loadedNames == ["b.json"] && bySize.bytes == size)
    #expect(throws: ModelCache.Failure.self) { try bySize.model("../etc/passwd") }
}
