import Atomics
import Foundation
import NIOCore
import NIOHTTP1

/// The environment's AWS URL: one connection's handler. It collects a request, asks `AWSAPI`
/// which API the request calls and hands it to that API's handler (sagemaker-runtime, Lambda;
/// JSON 1.1 APIs by their `X-Amz-Target`). Requests to endpoints go down the shared forwarding
/// path (`EndpointForwarding`), whose answers this handler writes in AWS's terms.
final class FrontDoorHandler: ChannelInboundHandler, EndpointForwarding {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let maxBody = 6_291_456
    static let accountID = "000000000000"

    let services: FrontDoorServices
    let pool: UpstreamPool
    var streamStarted = false
    var random = FastRandom()
    var head: HTTPRequestHead?
    var body: [ByteBuffer] = []
    var bodyLength = 0

    init(services: FrontDoorServices, pool: UpstreamPool) {
        self.services = services
        self.pool = pool
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.removeAll(keepingCapacity: true)
            bodyLength = 0
        case .body(let b):
            bodyLength += b.readableBytes
            // Larger requests are refused once their size is known; nothing past the limit is kept.
            if bodyLength <= Self.maxBody { body.append(b) }
        case .end:
            guard let head else { return }
            self.head = nil
            dispatch(context, head)
        }
    }

    func dispatch(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let requestID = services.requestIDs.next()
        var path = Substring(head.uri)
        if let q = path.firstIndex(of: "?") { path = path[..<q] }
        switch AWSAPI.of(method: head.method, path: path, headers: head.headers) {
        case .sageMakerRuntime:
            invokeEndpoint(context, head, path: path, requestID: requestID)
        case .lambda:
            lambdaInvoke(context, head, path: path, requestID: requestID)
        case .featureStore:
            featureStore(context, head, path: path, requestID: requestID)
        case .json("AWSEvents", let operation) where services.events != nil:
            events(context, head, operation: operation, requestID: requestID)
        case .json(let service, let operation):
            awsError(context, status: .badRequest, type: "UnknownOperationException",
                     message: "This environment does not serve \(service).\(operation).", requestID: requestID, keepAlive: head.isKeepAlive)
        case .metrics:
            var b = context.channel.allocator.buffer(capacity: 4096)
            b.writeString(services.metrics.prometheus(routes: services.table))
            b.writeString(services.gateway.prometheus())
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "text/plain; version=0.0.4; charset=utf-8")
            writeResponse(context, status: .ok, headers: headers, body: b, keepAlive: head.isKeepAlive)
        case .ping:
            writeResponse(context, status: .ok, body: nil, keepAlive: head.isKeepAlive)
        case .unknown:
            awsError(context, status: .notFound, type: "UnknownOperationException",
                     message: "No operation matches \(head.method) \(path).", requestID: requestID, keepAlive: head.isKeepAlive)
        }
    }

    func awsError(_ context: ChannelHandlerContext, status: HTTPResponseStatus, type: String, message: String,
                  requestID: String, keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "x-amzn-errortype", value: type)
        headers.add(name: "x-amzn-requestid", value: requestID)
        writeResponse(context, status: status, headers: headers, body: JSONBody.encode(AWSErrorBody(type: type, message: message)), keepAlive: keepAlive)
    }
}

/// Request ids: a random per-process prefix and a counter, formatted like a UUID. Cheaper than a
/// random UUID per request, and still unique across environments.
final class RequestIDs: Sendable {
    let prefix: String
    let counter = ManagedAtomic<UInt64>(0)

    init() {
        let r = UInt64.random(in: 0...UInt64.max)
        let hex = String(r, radix: 16)
        let padded = String(repeating: "0", count: 16 - hex.count) + hex
        prefix = "\(padded.prefix(8))-\(padded.dropFirst(8).prefix(4))-\(padded.dropFirst(12).prefix(4))"
    }

    func next() -> String {
        let n = counter.loadThenWrappingIncrement(ordering: .relaxed)
        let hex = String(n, radix: 16)
        return prefix + "-0000-" + String(repeating: "0", count: max(0, 12 - hex.count)) + hex
    }
}

extension Substring {
    /// Percent-decoding for path segments (boto3 quotes endpoint names).
    var removingPercentEncoding: Substring {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var it = utf8.makeIterator()
        while let b = it.next() {
            if b == 37, let h = it.next(), let l = it.next(), let v = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16) {
                bytes.append(v)
            } else {
                bytes.append(b)
            }
        }
        return Substring(String(decoding: bytes, as: UTF8.self))
    }
}
