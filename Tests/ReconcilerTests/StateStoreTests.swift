import Foundation
import Reconciler
import Spec
import Testing

@Test func stateRoundTripsAndKeepsABackup() async throws {
    let dir = temporaryDirectory()
    let store = StateStore(directory: dir)
    #expect(try await store.read() == nil)
    var state = recordedState(of: try loadStack(twoModels))
    try await store.write(state)
    let read = try #require(try await store.read())
    #expect(read.serial == 1)
    #expect(read.resources == state.resources)
    state = read
    state.remove(ResourceAddress(.endpoint, "e"))
    try await store.write(state)
    #expect(try await store.read()?.serial == 2)
    #expect(FileManager.default.fileExists(atPath: dir + "/state.json.backup"))
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp") }
    #expect(leftovers.isEmpty)
}

@Test func aSecondLockFailsAtOnceNamingTheHolder() async throws {
    let dir = temporaryDirectory()
    let first = StateStore(directory: dir)
    try await first.lock(command: "apply", timeout: 0)
    let second = StateStore(directory: dir)
    do {
        try await second.lock(command: "apply", timeout: 0)
        Issue.record("second lock should fail")
    } catch {
        #expect(error.description.contains("pid \(getpid()), command 'apply'"))
    }
    await first.unlock()
    try await second.lock(command: "apply", timeout: 0)
    await second.unlock()
}

@Test func unreadableAndFutureStateFilesAreClearErrors() async throws {
    let dir = temporaryDirectory()
    try "{nonsense".write(toFile: dir + "/state.json", atomically: true, encoding: .utf8)
    await #expect(throws: StateFileError.self) { _ = try await StateStore(directory: dir).read() }
    try "{\"format_version\": 99, \"state\": {}}".write(toFile: dir + "/state.json", atomically: true, encoding: .utf8)
    do {
        _ = try await StateStore(directory: dir).read()
        Issue.record("should fail")
    } catch {
        #expect(error.description.contains("format version 99"))
    }
}

@Test func savedPlanFingerprintsNameWhatChanged() {
    let a = SavedPlan.Fingerprints(stack: "s", variables: "v", state: "t", observation: "o")
    var b = a
    #expect(a.differences(from: b).isEmpty)
    b.stack = "s2"
    b.observation = "o2"
    #expect(a.differences(from: b) == ["the stack files changed", "what runs changed (a resource started, stopped or changed outside this plan)"])
}

@Test func aStaleSavedPlanSaysWhatRunsDifferently() {
    let e = ResourceAddress(.endpoint, "churn"), f = ResourceAddress(.function, "score"), m = ResourceAddress(.model, "m")
    let then = Observation(resources: [e: ObservedResource(attributes: ["variants.a.weight": .number(50), "variants.a.instances": .number(1)]),
                                       f: ObservedResource(attributes: [:])])
    let now = Observation(resources: [e: ObservedResource(attributes: ["variants.a.weight": .number(30), "variants.a.instances": .number(1)]),
                                      m: ObservedResource(attributes: [:])])
    // In address order, as plans list resources.
    #expect(now.differences(since: then) == ["models.m started running", "endpoints.churn: variants.a.weight is 30, was 50",
                                             "functions.score is no longer running"])
    #expect(now.differences(since: then, limit: 1) == ["models.m started running", "and 2 more"])
    #expect(then.differences(since: then).isEmpty)

    let prints = SavedPlan.Fingerprints(stack: "s", variables: "v", state: "t", observation: then.fingerprint)
    var current = prints
    current.observation = now.fingerprint
    let plan = Planner.destroyPlan(stack: "x", environment: "default", prior: nil)
    let saved = SavedPlan(stackPaths: [], variableAssignments: [:], variableFiles: [], stateDirectory: "/s", fingerprints: prints, plan: plan, observed: then)
    #expect(saved.staleness(now: prints, observed: then).isEmpty)
    #expect(saved.staleness(now: current, observed: now) == ["what runs changed since the plan: models.m started running; endpoints.churn: variants.a.weight is 30, was 50; functions.score is no longer running"])
    // A file without what ran says it generally.
    let old = SavedPlan(stackPaths: [], variableAssignments: [:], variableFiles: [], stateDirectory: "/s", fingerprints: prints, plan: plan)
    #expect(old.staleness(now: current, observed: now) == ["what runs changed (a resource started, stopped or changed outside this plan)"])
}

@Test func journalLinesReplayOverTheSnapshotAndATornLastLineIsIgnored() async throws {
    let dir = temporaryDirectory()
    let store = StateStore(directory: dir)
    let full = recordedState(of: try loadStack(twoModels))
    var empty = full
    empty.resources = [:]
    try await store.write(empty)
    for r in full.sortedResources.prefix(2) { try await store.append(.set(r)) }
    try await store.append(.remove(ResourceAddress(.model, "m1")))
    // A crash in the middle of the next append leaves half a line.
    let handle = try #require(FileHandle(forWritingAtPath: store.journalPath))
    handle.seekToEndOfFile()
    handle.write(Data("{\"set\":{\"_0\":{\"addr".utf8))
    try handle.close()
    let read = try #require(try await StateStore(directory: dir).read())
    #expect(read.resources.keys.map(\.description) == ["models.m2"])
    #expect(read.serial == 1 + 3)
    // The next snapshot folds the journal in and removes it.
    try await store.write(read)
    #expect(!FileManager.default.fileExists(atPath: store.journalPath))
    #expect(try await store.read()?.resources.keys.map(\.description) == ["models.m2"])
}
