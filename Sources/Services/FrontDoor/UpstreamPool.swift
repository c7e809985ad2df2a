import NIOCore
import NIOHTTP1
import NIOPosix

/// Keep-alive connections to model-server instances, one pool per event loop so that a request
/// and its upstream connection share a thread: no locks and no hops on the data path.
final class UpstreamPool {
    let loop: EventLoop
    var idle: [Int: [UpstreamConnection]] = [:]
    let maxIdlePerPort = 128

    init(loop: EventLoop) { self.loop = loop }

    func acquire(port: Int) -> EventLoopFuture<UpstreamConnection> {
        while var list = idle[port], let connection = list.popLast() {
            idle[port] = list
            if connection.channel.isActive { return loop.makeSucceededFuture(connection) }
        }
        let handler = UpstreamHandler()
        return ClientBootstrap(group: loop)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(2))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .map { channel in
                let connection = UpstreamConnection(channel: channel, handler: handler, port: port)
                handler.connection = connection
                handler.pool = self
                return connection
            }
    }

    func release(_ connection: UpstreamConnection) {
        guard connection.channel.isActive else { return }
        var list = idle[connection.port] ?? []
        if list.count >= maxIdlePerPort {
            connection.channel.close(promise: nil)
            return
        }
        list.append(connection)
        idle[connection.port] = list
    }

    func forget(_ connection: UpstreamConnection) {
        idle[connection.port]?.removeAll { $0 === connection }
    }
}

final class UpstreamConnection {
    let channel: Channel
    let handler: UpstreamHandler
    let port: Int
    init(channel: Channel, handler: UpstreamHandler, port: Int) {
        self.channel = channel
        self.handler = handler
        self.port = port
    }
}

/// The answer of one upstream exchange: the response head and its body parts, uncopied.
struct UpstreamResponse {
    var head: HTTPResponseHead
    var body: [ByteBuffer]
}

enum UpstreamFailure: Error {
    /// The connection broke before any byte of the response arrived: safe to try elsewhere.
    case beforeResponse(String)
    /// The connection broke part-way through the response.
    case duringResponse(String)
}

/// Reads one response at a time off an upstream connection and hands it to the waiting request.
final class UpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// Strong on purpose: nothing else holds the connection while a request is in flight. The
    /// cycle with `UpstreamConnection.handler` is broken when the channel goes inactive.
    var connection: UpstreamConnection?
    weak var pool: UpstreamPool?
    var completion: ((Result<UpstreamResponse, UpstreamFailure>) -> Void)?
    /// For a streamed answer: called with each body part of a 2xx response as it arrives (the
    /// head first, with no parts); `completion` then gets the head and no body at the end.
    var onPart: ((HTTPResponseHead, ByteBuffer?) -> Void)?
    var head: HTTPResponseHead?
    var body: [ByteBuffer] = []

    var streaming: Bool { onPart != nil && (head.map { (200..<300).contains($0.status.code) } ?? false) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            if streaming { onPart?(h, nil) }
        case .body(let b):
            if streaming, let head { onPart?(head, b) } else { body.append(b) }
        case .end:
            onPart = nil
            guard let head, let completion else { return }
            let response = UpstreamResponse(head: head, body: body)
            self.head = nil
            body = []
            self.completion = nil
            if head.isKeepAlive, let connection, let pool { pool.release(connection) } else { context.close(promise: nil) }
            completion(.success(response))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let connection { pool?.forget(connection) }
        connection = nil
        fail(head == nil ? .beforeResponse("connection closed") : .duringResponse("connection closed mid-response"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(head == nil ? .beforeResponse("\(error)") : .duringResponse("\(error)"))
        context.close(promise: nil)
    }

    func fail(_ failure: UpstreamFailure) {
        onPart = nil
        guard let completion else { return }
        self.completion = nil
        head = nil
        body = []
        completion(.failure(failure))
    }
}
