import Foundation
import NIOCore
import NIOHTTP1

/// sagemaker-runtime on the front door: picks a variant (the caller's
/// `X-Amzn-SageMaker-Target-Variant`, else by weight) or, on a multi-model endpoint, the
/// `TargetModel`, forwards, and answers with `x-Amzn-Invoked-Production-Variant`. Errors use the
/// shapes botocore parses (`x-amzn-ErrorType` plus a JSON body).
extension FrontDoorHandler {
    /// InvokeEndpoint and InvokeEndpointWithResponseStream: `POST /endpoints/{name}/invocations[-response-stream]`.
    func invokeEndpoint(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, path: Substring, requestID: String) {
        let keepAlive = head.isKeepAlive
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[0] == "endpoints", parts[2] == "invocations" || parts[2] == "invocations-response-stream" else {
            awsError(context, status: .notFound, type: "UnknownOperationException",
                     message: "No sagemaker-runtime operation matches \(head.method) \(path).", requestID: requestID, keepAlive: keepAlive)
            return
        }
        guard head.method == .POST else {
            awsError(context, status: .methodNotAllowed, type: "UnknownOperationException",
                     message: "InvokeEndpoint takes POST.", requestID: requestID, keepAlive: keepAlive)
            return
        }
        guard bodyLength <= Self.maxBody else {
            awsError(context, status: .payloadTooLarge, type: "ValidationError",
                     message: "Request body of \(bodyLength) bytes exceeds the limit of \(Self.maxBody) bytes.", requestID: requestID, keepAlive: keepAlive)
            return
        }
        let name = String(parts[1].removingPercentEncoding)
        guard let endpoint = services.table.endpoint(name) else {
            awsError(context, status: .badRequest, type: "ValidationError",
                     message: "Endpoint \(name) of account \(Self.accountID) not found.", requestID: requestID, keepAlive: keepAlive)
            return
        }
        let variant: VariantRoute
        var targetModel: String?
        if endpoint.multiModel {
            guard let model = head.headers.first(name: "x-amzn-sagemaker-target-model"), !model.isEmpty, let v = endpoint.variants.first else {
                endpoint.refused.wrappingIncrement(ordering: .relaxed)
                awsError(context, status: .badRequest, type: "ValidationError",
                         message: "Endpoint \(name) is a multi-model endpoint: name a model with TargetModel (X-Amzn-SageMaker-Target-Model).",
                         requestID: requestID, keepAlive: keepAlive)
                return
            }
            targetModel = model
            variant = v
        } else if let target = head.headers.first(name: "x-amzn-sagemaker-target-variant") {
            guard let v = endpoint.variant(named: target) else {
                endpoint.refused.wrappingIncrement(ordering: .relaxed)
                if endpoint.shadows.contains(where: { $0.variant.name == target }) {
                    awsError(context, status: .badRequest, type: "ValidationError",
                             message: "Variant \(target) of endpoint \(name) is a shadow variant and cannot be invoked directly.",
                             requestID: requestID, keepAlive: keepAlive)
                    return
                }
                awsError(context, status: .badRequest, type: "ValidationError",
                         message: "The variant(s) \"[\(target)]\" is/are not found for endpoint \(name).", requestID: requestID, keepAlive: keepAlive)
                return
            }
            variant = v
        } else {
            guard let v = endpoint.pick(unit: random.unit()) else {
                endpoint.refused.wrappingIncrement(ordering: .relaxed)
                awsError(context, status: .badRequest, type: "ValidationError",
                         message: "Endpoint \(name) has no variant with a positive weight.", requestID: requestID, keepAlive: keepAlive)
                return
            }
            variant = v
        }
        variant.metrics.invocations.wrappingIncrement(ordering: .relaxed)
        var capture: CaptureWriter?
        if let writer = endpoint.capture, writer.samples(random.unit()) { capture = writer }
        var exchange = Exchange(head: head, endpoint: name, variant: variant, requestID: requestID, keepAlive: keepAlive,
                                start: DispatchTime.now().uptimeNanoseconds, capture: capture, body: body)
        exchange.targetModel = targetModel
        exchange.loader = endpoint.loader
        if parts[2] == "invocations-response-stream" {
            exchange.stream = true
            // The stream API carries Accept as X-Amzn-SageMaker-Accept.
            if let accept = head.headers.first(name: "x-amzn-sagemaker-accept") { exchange.head.headers.replaceOrAdd(name: "accept", value: accept) }
            streamStarted = false
        }
        // Shadows get a copy once the caller's answer is on its way (see `releaseShadows`), so their
        // model servers never compete with the production one for the caller's time.
        if !exchange.stream { exchange.pairs = shadowPairs(endpoint, head, body: body) }
        forward(context, exchange, attempt: 1, avoid: nil)
    }

    /// The model's answer in sagemaker-runtime's terms: 200 with its body, or a 424 ModelError.
    func relay(_ context: ChannelHandlerContext, _ exchange: Exchange, _ response: UpstreamResponse, modelError: Bool) {
        let code = response.head.status.code
        let variant = exchange.variant.name
        guard !modelError else {
            var text = ""
            for part in response.body { text += String(buffer: part) }
            if text.count > 1024 { text = String(text.prefix(1024)) }
            let message = "Received \(code < 500 ? "client" : "server") error (\(code)) from \(variant) with message \"\(text)\". See the model server's log for details."
            let b = JSONBody.encode(ModelErrorBody(ErrorCode: "\(code < 500 ? "CLIENT" : "SERVER")_ERROR_FROM_MODEL", Message: message,
                                                  OriginalStatusCode: Int(code), OriginalMessage: text,
                                                  LogStreamArn: "arn:aws:logs:local:\(Self.accountID):log-group:/aws/sagemaker/Endpoints/\(exchange.endpoint)"))
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "x-amzn-errortype", value: "ModelError")
            headers.add(name: "x-amzn-requestid", value: exchange.requestID)
            headers.add(name: "x-amzn-invoked-production-variant", value: variant)
            writeResponse(context, status: .failedDependency, headers: headers, body: b, keepAlive: exchange.keepAlive)
            return
        }
        var headers = HTTPHeaders()
        headers.reserveCapacity(5)
        headers.add(name: "content-type", value: response.head.headers.first(name: "content-type") ?? "application/octet-stream")
        headers.add(name: "x-amzn-invoked-production-variant", value: variant)
        headers.add(name: "x-amzn-requestid", value: exchange.requestID)
        if let custom = response.head.headers.first(name: "x-amzn-sagemaker-custom-attributes") {
            headers.add(name: "x-amzn-sagemaker-custom-attributes", value: custom)
        }
        headers.add(name: "content-length", value: String(bodyLengthOf(response.body)))
        if !exchange.keepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        for part in response.body { context.write(wrapOutboundOut(.body(.byteBuffer(part))), promise: nil) }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !exchange.keepAlive { done.whenComplete { _ in context.close(promise: nil) } }
    }

    func refuse(_ context: ChannelHandlerContext, _ exchange: Exchange, status: HTTPResponseStatus, type: String, message: String) {
        awsError(context, status: status, type: type, message: message, requestID: exchange.requestID, keepAlive: exchange.keepAlive)
    }
}

/// sagemaker-runtime's ModelError body.
struct ModelErrorBody: Encodable {
    var ErrorCode: String
    var Message: String
    var OriginalStatusCode: Int
    var OriginalMessage: String
    var LogStreamArn: String
}
