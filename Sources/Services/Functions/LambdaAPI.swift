import Foundation
import NIOCore
import NIOHTTP1

/// Lambda's Invoke on the environment's AWS URL, as boto3's `lambda` client calls it:
/// `POST /2015-03-31/functions/{FunctionName}/invocations` with `X-Amz-Invocation-Type`
/// (RequestResponse, Event, DryRun) and `X-Amz-Log-Type: Tail`.
extension FrontDoorHandler {
    static let maxSyncPayload = 6_291_456
    static let maxAsyncPayload = 1_048_576

    func lambdaInvoke(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, path: Substring, requestID: String) {
        let keepAlive = head.isKeepAlive
        let rest = path.dropFirst(AWSAPI.lambdaPrefix.count).split(separator: "/")
        guard rest.count == 2, rest[1] == "invocations" else {
            awsError(context, status: .notFound, type: "UnknownOperationException",
                     message: "No Lambda operation matches \(head.method) \(path); this environment serves Invoke.", requestID: requestID, keepAlive: keepAlive)
            return
        }
        guard head.method == .POST else {
            awsError(context, status: .methodNotAllowed, type: "UnknownOperationException", message: "Invoke takes POST.", requestID: requestID, keepAlive: keepAlive)
            return
        }
        // A name, a name:qualifier, or an ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]).
        var name = String(rest[0].removingPercentEncoding)
        var qualifier: String?
        if name.hasPrefix("arn:"), let r = name.range(of: ":function:") { name = String(name[r.upperBound...]) }
        if let colon = name.firstIndex(of: ":") {
            qualifier = String(name[name.index(after: colon)...])
            name = String(name[..<colon])
        }
        if let q = head.uri.split(separator: "?", maxSplits: 1).dropFirst().first {
            for pair in q.split(separator: "&") where pair.hasPrefix("Qualifier=") { qualifier = String(pair.dropFirst(10).removingPercentEncoding) }
        }
        let functions = services.functions
        let arn = FunctionService.arn(name)
        guard functions.pool(name) != nil, qualifier == nil || qualifier == "$LATEST" else {
            awsError(context, status: .notFound, type: "ResourceNotFoundException",
                     message: "Function not found: \(arn)\(qualifier.map { ":\($0)" } ?? "")", requestID: requestID, keepAlive: keepAlive)
            return
        }
        let type = head.headers.first(name: "x-amz-invocation-type") ?? "RequestResponse"
        let limit = type == "Event" ? Self.maxAsyncPayload : Self.maxSyncPayload
        guard bodyLength <= limit else {
            awsError(context, status: .payloadTooLarge, type: "RequestTooLargeException",
                     message: "Request must be smaller than \(limit) bytes for the \(type) invocation type", requestID: requestID, keepAlive: keepAlive)
            return
        }
        var payload = context.channel.allocator.buffer(capacity: bodyLength)
        for part in body { var p = part; payload.writeBuffer(&p) }
        if payload.readableBytes > 0, (try? JSONSerialization.jsonObject(with: Data(payload.readableBytesView), options: .fragmentsAllowed)) == nil {
            awsError(context, status: .badRequest, type: "InvalidRequestContentException",
                     message: "Could not parse request body into json: the payload is not valid JSON", requestID: requestID, keepAlive: keepAlive)
            return
        }
        var headers = HTTPHeaders()
        headers.add(name: "x-amzn-requestid", value: requestID)
        switch type {
        case "DryRun":
            writeResponse(context, status: .noContent, headers: headers, body: nil, keepAlive: keepAlive)
        case "Event":
            functions.enqueue(name, payload: payload, requestID: requestID)
            writeResponse(context, status: .accepted, headers: headers, body: nil, keepAlive: keepAlive)
        case "RequestResponse":
            let tail = head.headers.first(name: "x-amz-log-type") == "Tail"
            let loop = context.eventLoop
            // The answer is written on this connection's loop; the handler and its context never leave it.
            let here = NIOLoopBound((handler: self, context: context), eventLoop: loop)
            let clientContext = head.headers.first(name: "x-amz-client-context")
            _ = functions.invoke(name, payload: payload, clientContext: clientContext.flatMap(Self.decodeBase64), requestID: requestID) { inv, result in
                let log: String?
                switch result {
                case .success(_, let path?), .functionError(_, let path?): log = tail ? FunctionService.logTail(path: path, from: inv.logOffset) : nil
                default: log = nil
                }
                loop.execute { here.value.handler.lambdaAnswer(here.value.context, result, log: log, requestID: requestID, keepAlive: keepAlive, name: name) }
            }
        default:
            awsError(context, status: .badRequest, type: "InvalidParameterValueException",
                     message: "InvocationType must be RequestResponse, Event or DryRun, not \(type)", requestID: requestID, keepAlive: keepAlive)
        }
    }

    func lambdaAnswer(_ context: ChannelHandlerContext, _ result: InvocationResult, log: String?, requestID: String, keepAlive: Bool, name: String) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "x-amzn-requestid", value: requestID)
        headers.add(name: "x-amz-executed-version", value: "$LATEST")
        if let log { headers.add(name: "x-amz-log-result", value: Data(log.utf8).base64EncodedString()) }
        switch result {
        case .success(let body, _):
            writeResponse(context, status: .ok, headers: headers, body: body, keepAlive: keepAlive)
        case .functionError(let body, _):
            headers.add(name: "x-amz-function-error", value: "Unhandled")
            writeResponse(context, status: .ok, headers: headers, body: body, keepAlive: keepAlive)
        case .throttled:
            let b = JSONBody.encode(ThrottledBody(Reason: "ReservedFunctionConcurrentInvocationLimitExceeded", Type: "User", message: "Rate Exceeded."))
            headers.replaceOrAdd(name: "x-amzn-errortype", value: "TooManyRequestsException")
            // As Lambda does: when to try again, in seconds (a worker frees up within an event's time).
            headers.add(name: "retry-after", value: "1")
            writeResponse(context, status: .tooManyRequests, headers: headers, body: b, keepAlive: keepAlive)
        case .unavailable(let reason):
            awsError(context, status: .badGateway, type: "ServiceException", message: "Function \(name) could not run: \(reason)",
                     requestID: requestID, keepAlive: keepAlive)
        }
    }

    static func decodeBase64(_ text: String) -> String? {
        Data(base64Encoded: text).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Lambda's TooManyRequestsException body.
struct ThrottledBody: Encodable {
    var Reason: String
    var `Type`: String
    var message: String
}
