import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A model server for the built-in runtimes that honours SageMaker's container contract: it
/// listens on `SAGEMAKER_BIND_TO_PORT`, answers `GET /ping` and `POST /invocations`, and stops on
/// SIGTERM. One process serves one model; an endpoint variant runs N of them.
public struct ModelServer {
    public var model: any Predictor
    public var port: Int

    public init(model: any Predictor, port: Int) {
        self.model = model
        self.port = port
    }

    /// Serves until SIGTERM or SIGINT.
    public func run() throws -> Never {
        let model = self.model
        try serveUntilSignalled(port: port, name: "model server", detail: "\(model.summary), \(model.featureCount) features",
                                make: { ModelServerHandler(model: model) }, stopped: { "" })
    }
}

/// Binds a one-thread HTTP server on 127.0.0.1:`port`, logs a line, and serves until SIGTERM or
/// SIGINT; then closes the listener, logs `stopped()`, and exits.
func serveUntilSignalled(port: Int, name: String, detail: String, make: @escaping @Sendable () -> ChannelHandler,
                         stopped: @escaping @Sendable () -> String) throws -> Never {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let channel = try HTTPServer.bind(group: group, port: port) { _ in make() }
    print("\(name) listening on 127.0.0.1:\(port) (\(detail))")
    fflushStdout()
    waitForSignal {
        try? channel.close().wait()
        print("\(name) on port \(port) stopped\(stopped())")
        fflushStdout()
        _exit(0)  // cleanup is done; exit()'s teardown is slow with event loop threads running
    }
}

final class ModelServerHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let model: any Predictor
    var head: HTTPRequestHead?
    var body: ByteBuffer?

    init(model: any Predictor) { self.model = model }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let complete = collectRequest(unwrapInboundIn(data), head: &head, body: &body) { respond(context, complete) }
    }

    func respond(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let keepAlive = head.isKeepAlive
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        switch (head.method, path) {
        case (.GET, "/ping"):
            writeResponse(context, status: .ok, body: nil, keepAlive: keepAlive)
        case (.POST, "/invocations"):
            invoke(context, head, keepAlive: keepAlive)
        default:
            var b = context.channel.allocator.buffer(capacity: 32)
            b.writeString("not found: \(head.method) \(path)\n")
            writeResponse(context, status: .notFound, body: b, keepAlive: keepAlive)
        }
    }

    func invoke(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, keepAlive: Bool) {
        let contentType = head.headers.first(name: "content-type")?.lowercased() ?? "text/csv"
        let accept = head.headers.first(name: "accept")?.lowercased() ?? ""
        let width = model.featureCount
        let missing = model.acceptsMissingValues
        do {
            let values: [Double]
            let bytes = body ?? ByteBuffer()
            if contentType.hasPrefix("application/json") {
                values = try InferenceCodec.parseJSON(Data(bytes.readableBytesView), width: width, allowMissing: missing)
            } else if contentType.hasPrefix("text/csv") || contentType.isEmpty {
                values = try bytes.withUnsafeReadableBytes { try InferenceCodec.parseCSV($0, width: width, allowMissing: missing) }
            } else {
                throw InferenceCodec.BadInput(description: "content type '\(contentType)' is not supported; send text/csv or application/json")
            }
            let predictions = model.predict(values)
            let perRow = model.outputsPerRow
            let wantsJSON = accept.contains("application/json") || (!accept.contains("text/csv") && contentType.hasPrefix("application/json"))
            var out = context.channel.allocator.buffer(capacity: predictions.count * 20)
            var headers = HTTPHeaders()
            if wantsJSON {
                out.writeString(InferenceCodec.formatJSON(predictions, perRow: perRow))
                headers.add(name: "content-type", value: "application/json")
            } else {
                out.writeString(InferenceCodec.formatCSV(predictions, perRow: perRow))
                headers.add(name: "content-type", value: "text/csv; charset=utf-8")
            }
            writeResponse(context, status: .ok, headers: headers, body: out, keepAlive: keepAlive)
        } catch {
            var out = context.channel.allocator.buffer(capacity: 128)
            out.writeString("\(error)")
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "text/plain; charset=utf-8")
            writeResponse(context, status: .badRequest, headers: headers, body: out, keepAlive: keepAlive)
        }
    }
}

/// Blocks until SIGTERM or SIGINT, then runs `handler`, which must end the process.
func waitForSignal(_ handler: @escaping @Sendable () -> Void) -> Never {
    signal(SIGTERM, SIG_IGN)
    signal(SIGINT, SIG_IGN)
    let queue = DispatchQueue(label: "mlgw.signals")
    var sources: [DispatchSourceSignal] = []
    for sig in [SIGTERM, SIGINT] {
        let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
        source.setEventHandler(handler: handler)
        source.resume()
        sources.append(source)
    }
    while true {
        sleep(3600)
        _ = sources.count  // keeps the signal sources alive
    }
}

func fflushStdout() { fflush(nil) }
