import NIOCore
import NIOHTTP1
import NIOPosix

/// Binds an HTTP/1.1 server on 127.0.0.1 whose connections each get a fresh handler from `make`.
enum HTTPServer {
    static func bind(group: EventLoopGroup, port: Int, make: @escaping @Sendable (Channel) -> ChannelHandler) throws -> Channel {
        try bindLater(group: group, port: port, make: make).wait()
    }

    /// `bind` without waiting: for callers on an event loop.
    static func bindLater(group: EventLoopGroup, port: Int, make: @escaping @Sendable (Channel) -> ChannelHandler) -> EventLoopFuture<Channel> {
        ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(make(channel))
                }
            }
            .bind(host: "127.0.0.1", port: port)
    }
}

/// Collects a request's parts; returns its head once the whole request is in (then `body` holds
/// it until the next request starts). For servers that answer whole requests.
func collectRequest(_ part: HTTPServerRequestPart, head: inout HTTPRequestHead?, body: inout ByteBuffer?) -> HTTPRequestHead? {
    switch part {
    case .head(let h):
        head = h
        body = nil
        return nil
    case .body(var b):
        if body == nil { body = b } else { body!.writeBuffer(&b) }
        return nil
    case .end:
        defer { head = nil }
        return head
    }
}

/// Writes a whole response and flushes; closes the connection afterwards unless keep-alive.
func writeResponse(_ context: ChannelHandlerContext, status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(),
                   body: ByteBuffer?, keepAlive: Bool) {
    var headers = headers
    headers.replaceOrAdd(name: "content-length", value: String(body?.readableBytes ?? 0))
    if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
    let head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
    context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
    if let body, body.readableBytes > 0 { context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil) }
    let done = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
    if !keepAlive { done.whenComplete { _ in context.close(promise: nil) } }
}

/// A JSON string literal for `text` (quotes and escapes), for small hand-built bodies.
func jsonString(_ text: String) -> String {
    var out = "\""
    for c in text.unicodeScalars {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if c.value < 0x20 { out += "\\u" + String(repeating: "0", count: 4 - String(c.value, radix: 16).count) + String(c.value, radix: 16) }
            else { out.unicodeScalars.append(c) }
        }
    }
    return out + "\""
}
