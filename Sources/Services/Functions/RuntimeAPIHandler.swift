import Foundation
import NIOCore
import NIOHTTP1

/// The Lambda Runtime API for one worker process, on a loopback port of its own (the worker's
/// `AWS_LAMBDA_RUNTIME_API`), so every call is known to come from that worker:
///
///     GET  /2018-06-01/runtime/invocation/next            long poll: the next event
///     POST /2018-06-01/runtime/invocation/{id}/response   the handler's result
///     POST /2018-06-01/runtime/invocation/{id}/error      the handler's error
///     POST /2018-06-01/runtime/init/error                 the runtime could not start
final class RuntimeAPIHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let prefix = "/2018-06-01/runtime/"

    let worker: Worker
    var head: HTTPRequestHead?
    var body: ByteBuffer?

    init(worker: Worker) {
        self.worker = worker
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let head = collectRequest(unwrapInboundIn(data), head: &head, body: &body) else { return }
        let keepAlive = head.isKeepAlive
        var path = Substring(head.uri)
        if let q = path.firstIndex(of: "?") { path = path[..<q] }
        guard path.hasPrefix(Self.prefix) else { return notFound(context, head, keepAlive) }
        let rest = path.dropFirst(Self.prefix.count).split(separator: "/")
        let payload = body ?? context.channel.allocator.buffer(capacity: 0)
        switch (head.method, rest.count) {
        case (.GET, 2) where rest[0] == "invocation" && rest[1] == "next":
            let loop = context.eventLoop
            worker.pool.next(worker) { invocation in
                loop.execute { self.deliver(context, invocation, keepAlive: keepAlive) }
            }
        case (.POST, 3) where rest[0] == "invocation" && (rest[2] == "response" || rest[2] == "error"):
            let accepted = worker.pool.finish(worker, requestID: String(rest[1]), body: payload, failed: rest[2] == "error",
                                              errorType: head.headers.first(name: "lambda-runtime-function-error-type"))
            if accepted {
                accept(context, keepAlive)
            } else {
                error(context, .badRequest, "InvalidRequestID", "request id \(rest[1]) is not this worker's current invocation", keepAlive)
            }
        case (.POST, 2) where rest[0] == "init" && rest[1] == "error":
            worker.pool.initFailed(worker, body: payload, errorType: head.headers.first(name: "lambda-runtime-function-error-type"))
            accept(context, keepAlive)
        default:
            notFound(context, head, keepAlive)
        }
    }

    func deliver(_ context: ChannelHandlerContext, _ invocation: Invocation, keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(7)
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "lambda-runtime-aws-request-id", value: invocation.requestID)
        headers.add(name: "lambda-runtime-deadline-ms", value: String(invocation.deadlineEpochMs))
        headers.add(name: "lambda-runtime-invoked-function-arn", value: worker.pool.arn)
        headers.add(name: "lambda-runtime-trace-id", value: invocation.traceID)
        if let c = invocation.clientContext { headers.add(name: "lambda-runtime-client-context", value: c) }
        writeResponse(context, status: .ok, headers: headers, body: invocation.payload, keepAlive: keepAlive)
    }

    func accept(_ context: ChannelHandlerContext, _ keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        writeResponse(context, status: .accepted, headers: headers, body: JSONBody.encode(["status": "OK"]), keepAlive: keepAlive)
    }

    func notFound(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ keepAlive: Bool) {
        error(context, .notFound, "NotFound", "no Runtime API call \(head.method) \(head.uri)", keepAlive)
    }

    func error(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ type: String, _ message: String, _ keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        writeResponse(context, status: status, headers: headers,
                      body: JSONBody.encode(LambdaErrorBody(errorType: type, errorMessage: message)), keepAlive: keepAlive)
    }
}
