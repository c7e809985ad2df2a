import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The models a multi-model server keeps loaded: least recently used goes first beyond `capacity`
/// models or `memoryBytes` (each model counted at its artifact's size on disk, an estimate of what
/// it holds in memory). Touched only from the server's one event loop.
final class ModelCache {
    let directory: String
    let runtime: String
    let capacity: Int
    let memoryBytes: Int?
    private var loaded: [String: (model: any Predictor, bytes: Int)] = [:]
    private var order: [String] = []  // least recently used first
    private(set) var bytes = 0
    private(set) var loads = 0
    private(set) var evictions = 0
    private(set) var hits = 0

    init(directory: String, runtime: String, capacity: Int, memoryBytes: Int? = nil) {
        self.directory = directory
        self.runtime = runtime
        self.capacity = capacity
        self.memoryBytes = memoryBytes
    }

    enum Failure: Error { case notFound(String), invalid(String) }

    /// The model for a caller's TargetModel (a path relative to the folder), loaded if need be.
    func model(_ name: String) throws -> any Predictor {
        if let m = loaded[name] {
            hits += 1
            if order.last != name, let i = order.firstIndex(of: name) {
                order.remove(at: i)
                order.append(name)
            }
            return m.model
        }
        // A relative path that stays inside the folder.
        guard !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else { throw Failure.notFound(name) }
        let path = directory + "/" + name
        guard FileManager.default.fileExists(atPath: path) else { throw Failure.notFound(name) }
        let model: any Predictor
        do { model = try Runtimes.load(runtime: runtime, path: path) } catch { throw Failure.invalid("\(error)") }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
        loads += 1
        loaded[name] = (model, size)
        order.append(name)
        bytes += size
        // Evict down to both bounds, but never the model just loaded.
        while order.count > 1, order.count > capacity || (memoryBytes.map { bytes > $0 } ?? false) {
            let evicted = order.removeFirst()
            bytes -= loaded.removeValue(forKey: evicted)?.bytes ?? 0
            evictions += 1
        }
        return model
    }

    var loadedNames: [String] { order }
}

/// A model server for a multi-model endpoint, with the SageMaker multi-model container API's
/// invoke path: `POST /models/{name}/invoke` runs the named model (loading it on first use),
/// `GET /models` lists what is loaded, `GET /ping` answers when the server is up.
public struct MultiModelServer {
    public var directory: String
    public var runtime: String
    public var cacheModels: Int
    public var cacheMemoryBytes: Int?
    public var port: Int

    public init(directory: String, runtime: String, cacheModels: Int, cacheMemoryBytes: Int? = nil, port: Int) {
        self.directory = directory
        self.runtime = runtime
        self.cacheModels = cacheModels
        self.cacheMemoryBytes = cacheMemoryBytes
        self.port = port
    }

    public func run() throws -> Never {
        let cache = ModelCache(directory: directory, runtime: runtime, capacity: cacheModels, memoryBytes: cacheMemoryBytes)
        try serveUntilSignalled(port: port, name: "multi-model server", detail: "\(runtime) models under \(directory), cache \(cacheModels)",
                                make: { MultiModelHandler(cache: cache) },
                                stopped: { " after \(cache.loads) loads, \(cache.evictions) evictions, \(cache.hits) hits" })
    }
}

final class MultiModelHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let cache: ModelCache
    var head: HTTPRequestHead?
    var body: ByteBuffer?

    init(cache: ModelCache) { self.cache = cache }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let complete = collectRequest(unwrapInboundIn(data), head: &head, body: &body) { respond(context, complete) }
    }

    func respond(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let keepAlive = head.isKeepAlive
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        if head.method == .GET, path == "/ping" {
            writeResponse(context, status: .ok, body: nil, keepAlive: keepAlive)
            return
        }
        if head.method == .GET, path == "/models" {
            let b = JSONBody.encode(ModelListing(models: cache.loadedNames.map { ModelListing.Loaded(modelName: $0) },
                                                 loads: cache.loads, evictions: cache.evictions, hits: cache.hits, bytes: cache.bytes))
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            writeResponse(context, status: .ok, headers: headers, body: b, keepAlive: keepAlive)
            return
        }
        guard head.method == .POST, path.hasPrefix("/models/"), path.hasSuffix("/invoke") else {
            text(context, .notFound, "not found: \(head.method) \(path)", keepAlive)
            return
        }
        let encoded = Substring(path.dropFirst("/models/".count).dropLast("/invoke".count))
        let name = String(encoded.removingPercentEncoding)
        let model: any Predictor
        do {
            model = try cache.model(name)
        } catch ModelCache.Failure.notFound(let n) {
            text(context, .notFound, "model '\(n)' is not in the endpoint's artifact folder", keepAlive)
            return
        } catch {
            text(context, .badRequest, "model '\(name)' cannot be loaded: \(error)", keepAlive)
            return
        }
        let handler = ModelServerHandler(model: model)
        handler.body = body
        handler.invoke(context, head, keepAlive: keepAlive)
    }

    func text(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ message: String, _ keepAlive: Bool) {
        var b = context.channel.allocator.buffer(capacity: message.utf8.count)
        b.writeString(message)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        writeResponse(context, status: status, headers: headers, body: b, keepAlive: keepAlive)
    }
}

/// `GET /models` of the multi-model container API, with the cache's counters.
struct ModelListing: Encodable {
    struct Loaded: Encodable { var modelName: String }
    var models: [Loaded]
    var loads: Int
    var evictions: Int
    var hits: Int
    var bytes: Int
}
