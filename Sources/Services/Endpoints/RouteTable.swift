import Atomics
import NIOConcurrencyHelpers

/// One model-server instance as the router sees it. `inflight` lets a drain wait until the
/// instance has answered everything it was given before it is stopped.
public final class Upstream: Sendable {
    public let port: Int
    public let instanceID: String
    public let inflight = ManagedAtomic<Int>(0)
    /// Models the router loaded into this instance (a bring-your-own multi-model server), least
    /// recently used first.
    let loadedModels = NIOLockedValueBox<[String]>([])

    public init(port: Int, instanceID: String) {
        self.port = port
        self.instanceID = instanceID
    }
}

/// A variant's routing entry: its weight and its healthy instances, picked round-robin.
public final class VariantRoute: Sendable {
    public let name: String
    public let weight: Double
    public let upstreams: [Upstream]
    let next = ManagedAtomic<Int>(0)
    /// The variant's counters: the same object across route swaps.
    let metrics: VariantMetrics

    init(name: String, weight: Double, upstreams: [Upstream], metrics: VariantMetrics = VariantMetrics()) {
        self.name = name
        self.weight = weight
        self.upstreams = upstreams
        self.metrics = metrics
    }

    /// The instance a multi-model endpoint sends `model` to: always the same one while the
    /// instance set is unchanged, so each model is loaded on one instance, not all of them.
    func upstream(forModel model: String) -> Upstream? {
        guard !upstreams.isEmpty else { return nil }
        var hash: UInt64 = 14_695_981_039_346_656_037  // FNV-1a
        for b in model.utf8 { hash = (hash ^ UInt64(b)) &* 1_099_511_628_211 }
        return upstreams[Int(hash % UInt64(upstreams.count))]
    }

    func pickUpstream() -> Upstream? {
        guard !upstreams.isEmpty else { return nil }
        let i = next.loadThenWrappingIncrement(ordering: .relaxed)
        return upstreams[(i & Int.max) % upstreams.count]
    }
}

/// An endpoint's routing entry. Immutable: a change builds a new one and swaps it in whole, so a
/// request sees either the old or the new weights, never a mix.
public final class EndpointRoute: Sendable {
    public let name: String
    public let variants: [VariantRoute]
    let cumulative: [Double]
    let total: Double
    let refused: ManagedAtomic<UInt64>
    /// Where sampled invocations go, when the endpoint captures data.
    let capture: CaptureWriter?
    /// Shadow variants: they get copies of requests, never a caller.
    let shadows: [ShadowRoute]
    /// A multi-model endpoint: callers name a model; each model sticks to one instance.
    let multiModel: Bool
    /// Set when the multi-model server is the user's own: the router loads models into it.
    let loader: ModelLoading?

    /// `variants` are the production variants only.
    init(name: String, variants: [VariantRoute], refused: ManagedAtomic<UInt64> = ManagedAtomic(0), capture: CaptureWriter? = nil,
         shadows: [ShadowRoute] = [], multiModel: Bool = false, loader: ModelLoading? = nil) {
        self.loader = loader
        self.name = name
        self.variants = variants
        self.refused = refused
        self.capture = capture
        self.shadows = shadows
        self.multiModel = multiModel
        var sum = 0.0
        var c: [Double] = []
        for v in variants {
            sum += v.weight
            c.append(sum)
        }
        cumulative = c
        total = sum
    }

    func variant(named name: String) -> VariantRoute? {
        variants.first { $0.name == name }
    }

    /// Weighted choice: a variant's share is its weight over the sum, as SageMaker splits traffic.
    /// `unit` is uniform in [0, 1).
    func pick(unit: Double) -> VariantRoute? {
        guard total > 0 else { return nil }
        let x = unit * total
        for (i, c) in cumulative.enumerated() where x < c && variants[i].weight > 0 { return variants[i] }
        return variants.last { $0.weight > 0 }
    }
}

/// The routes of every endpoint in the environment, read on every request and swapped by the
/// controller. A lock around a dictionary of immutable entries: uncontended, tens of nanoseconds.
public final class RouteTable: Sendable {
    private let routes = NIOLockedValueBox<[String: EndpointRoute]>([:])

    public init() {}

    public func endpoint(_ name: String) -> EndpointRoute? {
        routes.withLockedValue { $0[name] }
    }

    public func set(_ route: EndpointRoute?, for name: String) {
        routes.withLockedValue { $0[name] = route }
    }
}

/// xorshift64*: a fast per-connection random source for weighted choice (no syscall per request).
struct FastRandom {
    var state: UInt64

    init() {
        var s: UInt64 = 0
        while s == 0 { s = UInt64.random(in: 1...UInt64.max) }
        state = s
    }

    mutating func unit() -> Double {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        let r = state &* 0x2545F4914F6CDD1D
        return Double(r >> 11) * (1.0 / 9007199254740992.0)
    }
}

/// How the router loads models into a bring-your-own multi-model server, as SageMaker's platform
/// does: `POST /models {"model_name", "url"}` when an invoke answers 404, unloading the least
/// recently used (`DELETE /models/{name}`) beyond `capacity` or when the server answers 507.
final class ModelLoading: Sendable {
    let directory: String
    let capacity: Int

    init(directory: String, capacity: Int) {
        self.directory = directory
        self.capacity = capacity
    }

    /// A relative model path that stays inside the folder.
    func url(for model: String) -> String? {
        guard !model.isEmpty, !model.hasPrefix("/"), !model.split(separator: "/").contains("..") else { return nil }
        return directory + "/" + model
    }

    /// Records a use; returns the model to unload when the instance holds more than `capacity`.
    func touch(_ model: String, on upstream: Upstream) -> String? {
        upstream.loadedModels.withLockedValue { list in
            list.removeAll { $0 == model }
            list.append(model)
            return list.count > capacity ? list.removeFirst() : nil
        }
    }

    func leastRecentlyUsed(on upstream: Upstream, except model: String) -> String? {
        upstream.loadedModels.withLockedValue { list in
            guard let i = list.firstIndex(where: { $0 != model }) else { return nil }
            return list.remove(at: i)
        }
    }
}
