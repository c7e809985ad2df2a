import Atomics
import Foundation
import NIOCore
import NIOHTTP1

/// The forwarding path to endpoints, shared by the AWS front door and the gateway: an instance
/// of the chosen variant (round-robin, or the instance a multi-model target sticks to), a pooled
/// keep-alive connection on the same event loop, one retry on another instance when nothing
/// reached the model yet, metrics, data capture, shadow copies after the caller's answer, and
/// loading models into a user's multi-model server. How an answer is written is the listener's:
/// `relay` and `refuse`.
protocol EndpointForwarding: ChannelInboundHandler where OutboundOut == HTTPServerResponsePart {
    var services: FrontDoorServices { get }
    /// Connections to instances, for this handler's event loop.
    var pool: UpstreamPool { get }
    /// Whether a streamed answer's head has gone out (errors then travel as exception events).
    var streamStarted: Bool { get set }
    /// Weighted picks and sampling, per connection.
    var random: FastRandom { get set }
    /// The model's answer: a success, or (`modelError`) a non-2xx status the model returned.
    func relay(_ context: ChannelHandlerContext, _ exchange: Exchange, _ response: UpstreamResponse, modelError: Bool)
    /// A failure after a variant was chosen (no instance, an instance that failed, a model that
    /// is not there), in the caller's terms.
    func refuse(_ context: ChannelHandlerContext, _ exchange: Exchange, status: HTTPResponseStatus, type: String, message: String)
}

/// The body of an event-stream ModelStreamError.
struct StreamError: Encodable {
    var Message: String
    var ErrorCode: String
}

/// The multi-model container API's load request.
struct LoadModelRequest: Encodable {
    var model_name: String
    var url: String
}

extension EndpointForwarding {
    /// The shadow variants sampled for this request, each waiting for the production answer.
    func shadowPairs(_ endpoint: EndpointRoute, _ head: HTTPRequestHead, body: [ByteBuffer]) -> [ShadowPair] {
        var shadowed: [ShadowPair] = []
        for shadow in endpoint.shadows where !shadow.variant.upstreams.isEmpty && random.unit() * 100 < shadow.samplePercent {
            shadowed.append(ShadowPair(shadow: shadow, time: Date().timeIntervalSince1970,
                                       inferenceID: head.headers.first(name: "x-amzn-sagemaker-inference-id"), input: body))
        }
        return shadowed
    }


    /// Completes the shadow pairs with the production side and sends the copies, after the
    /// caller's answer has been flushed: a shadow's answer is never returned, so it need not race
    /// the production model for the caller's time. (Delaying the copies by a further 0.3 or 0.7 ms
    /// was measured and changed nothing.)
    func releaseShadows(_ exchange: Exchange, production: ShadowSide) {
        guard !exchange.pairs.isEmpty else { return }
        for pair in exchange.pairs { pair.complete(production: production) }
        // Copies travel on the shadow lane's own event loop, whose thread the kernel runs only
        // when nothing else wants the CPU: they never compete with callers' requests.
        services.shadowLane.send(exchange.pairs, head: exchange.head, body: exchange.body)
    }

    func forward(_ context: ChannelHandlerContext, _ exchange: Exchange, attempt: Int, avoid: Upstream?) {
        let variant = exchange.variant
        var upstream = exchange.targetModel.map { variant.upstream(forModel: $0) } ?? variant.pickUpstream()
        if let avoid, upstream === avoid, variant.upstreams.count > 1 { upstream = variant.pickUpstream() }
        guard let upstream else {
            fail(context, exchange, status: .serviceUnavailable, type: "ServiceUnavailable",
                 message: "Variant \(variant.name) of endpoint \(exchange.endpoint) has no healthy instance right now; retry.")
            return
        }
        upstream.inflight.wrappingIncrement(ordering: .relaxed)
        let requestBody = exchange.body
        pool.acquire(port: upstream.port).whenComplete { result in
            switch result {
            case .failure(let error):
                upstream.inflight.wrappingDecrement(ordering: .relaxed)
                self.retryOrFail(context, exchange, attempt: attempt, failed: upstream, reason: "\(error)")
            case .success(let connection):
                let sent = DispatchTime.now().uptimeNanoseconds
                if exchange.stream {
                    connection.handler.onPart = { head, part in self.streamPart(context, exchange, head: head, part: part) }
                }
                connection.handler.completion = { outcome in
                    upstream.inflight.wrappingDecrement(ordering: .relaxed)
                    switch outcome {
                    case .success(let response) where exchange.loader != nil && exchange.targetModel != nil:
                        let model = exchange.targetModel!, loader = exchange.loader!
                        if response.head.status.code == 404 && exchange.loadAttempts == 0 {
                            self.load(context, exchange, model: model, on: upstream, loader: loader)
                            return
                        }
                        if (200..<300).contains(response.head.status.code), let evict = loader.touch(model, on: upstream) {
                            self.unload(evict, from: upstream, then: {})
                        }
                        self.answer(context, exchange, response: response, modelNanos: DispatchTime.now().uptimeNanoseconds - sent)
                    case .success(let response):
                        if self.streamStarted {
                            self.endStream(context, exchange, modelNanos: DispatchTime.now().uptimeNanoseconds - sent)
                        } else {
                            self.answer(context, exchange, response: response, modelNanos: DispatchTime.now().uptimeNanoseconds - sent)
                        }
                    case .failure(.beforeResponse(let reason)):
                        self.retryOrFail(context, exchange, attempt: attempt, failed: upstream, reason: reason)
                    case .failure(.duringResponse(let reason)) where self.streamStarted:
                        exchange.variant.metrics.modelErrors.wrappingIncrement(ordering: .relaxed)
                        let json = JSONBody.string(StreamError(Message: "The model server of variant \(variant.name) failed while streaming: \(reason)", ErrorCode: "ModelStreamError"))
                        context.write(self.wrapOutboundOut(.body(.byteBuffer(EventStream.exception("ModelStreamError", json: json, allocator: context.channel.allocator)))), promise: nil)
                        self.endStream(context, exchange, modelNanos: DispatchTime.now().uptimeNanoseconds - sent)
                    case .failure(.duringResponse(let reason)):
                        self.fail(context, exchange, status: .internalServerError, type: "InternalFailure",
                                  message: "The model server of variant \(variant.name) failed while answering: \(reason)")
                    }
                }
                let head = exchange.head
                var headers = HTTPHeaders()
                headers.reserveCapacity(6)
                headers.add(name: "host", value: "127.0.0.1")
                headers.add(name: "content-length", value: String(self.bodyLengthOf(requestBody)))
                for name in ["content-type", "accept", "x-amzn-sagemaker-custom-attributes"] {
                    if let v = head.headers.first(name: name) { headers.add(name: name, value: v) }
                }
                let uri = exchange.targetModel.map { "/models/\(percentEncoded($0))/invoke" } ?? "/invocations"
                let upstreamHead = HTTPRequestHead(version: .http1_1, method: .POST, uri: uri, headers: headers)
                let channel = connection.channel
                channel.write(HTTPClientRequestPart.head(upstreamHead), promise: nil)
                for part in requestBody { channel.write(HTTPClientRequestPart.body(.byteBuffer(part)), promise: nil) }
                channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            }
        }
    }

    func bodyLengthOf(_ parts: [ByteBuffer]) -> Int { parts.reduce(0) { $0 + $1.readableBytes } }

    /// One control request to an instance (loading or unloading a model) over the pool.
    func send(_ method: HTTPMethod, _ uri: String, body: String?, to upstream: Upstream,
              completion: @escaping (Result<UpstreamResponse, UpstreamFailure>) -> Void) {
        pool.acquire(port: upstream.port).whenComplete { result in
            switch result {
            case .failure(let error):
                completion(.failure(.beforeResponse("\(error)")))
            case .success(let connection):
                connection.handler.completion = completion
                var headers = HTTPHeaders()
                headers.add(name: "host", value: "127.0.0.1")
                headers.add(name: "content-length", value: String(body?.utf8.count ?? 0))
                if body != nil { headers.add(name: "content-type", value: "application/json") }
                let channel = connection.channel
                channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers)), promise: nil)
                if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil) }
                channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            }
        }
    }

    /// The instance does not have the model: load it (unloading the least recently used one if the
    /// server is out of room), then invoke again.
    func load(_ context: ChannelHandlerContext, _ exchange: Exchange, model: String, on upstream: Upstream, loader: ModelLoading, tries: Int = 0) {
        guard let url = loader.url(for: model) else {
            fail(context, exchange, status: .badRequest, type: "ValidationError",
                 message: "Model \(model) is not in the artifacts of multi-model endpoint \(exchange.endpoint).")
            return
        }
        let body = JSONBody.string(LoadModelRequest(model_name: model, url: url))
        send(.POST, "/models", body: body, to: upstream) { result in
            switch result {
            case .success(let r) where (200..<300).contains(r.head.status.code) || r.head.status.code == 409:
                if let evict = loader.touch(model, on: upstream) { self.unload(evict, from: upstream, then: {}) }
                var next = exchange
                next.loadAttempts += 1
                self.forward(context, next, attempt: 1, avoid: nil)
            case .success(let r) where r.head.status.code == 507 && tries < 3:
                guard let victim = loader.leastRecentlyUsed(on: upstream, except: model) else {
                    self.fail(context, exchange, status: .tooManyRequests, type: "ModelNotReadyException",
                              message: "Model \(model) cannot be loaded yet: the instance is out of memory for models; retry.")
                    return
                }
                self.unload(victim, from: upstream) { self.load(context, exchange, model: model, on: upstream, loader: loader, tries: tries + 1) }
            case .success(let r):
                var text = ""
                for part in r.body { text += String(buffer: part) }
                self.fail(context, exchange, status: .badRequest, type: "ValidationError",
                          message: "Model \(model) of multi-model endpoint \(exchange.endpoint) could not be loaded (HTTP \(r.head.status.code)): \(text)")
            case .failure(let failure):
                self.fail(context, exchange, status: .serviceUnavailable, type: "ServiceUnavailable",
                          message: "Loading model \(model) failed: \(failure)")
            }
        }
    }

    func unload(_ model: String, from upstream: Upstream, then next: @escaping () -> Void) {
        send(.DELETE, "/models/\(percentEncoded(model))", body: nil, to: upstream) { _ in next() }
    }

    /// A streamed 2xx answer: the head once, then each part of the model's body as a PayloadPart
    /// event, flushed as it arrives (no content length: chunked).
    func streamPart(_ context: ChannelHandlerContext, _ exchange: Exchange, head: HTTPResponseHead, part: ByteBuffer?) {
        guard let part else {
            streamStarted = true
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/vnd.amazon.eventstream")
            headers.add(name: "x-amzn-sagemaker-content-type", value: head.headers.first(name: "content-type") ?? "application/octet-stream")
            headers.add(name: "x-amzn-invoked-production-variant", value: exchange.variant.name)
            headers.add(name: "x-amzn-requestid", value: exchange.requestID)
            if let custom = head.headers.first(name: "x-amzn-sagemaker-custom-attributes") {
                headers.add(name: "x-amzn-sagemaker-custom-attributes", value: custom)
            }
            if !exchange.keepAlive { headers.add(name: "connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.flush()
            return
        }
        guard part.readableBytes > 0 else { return }
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(EventStream.payloadPart(part, allocator: context.channel.allocator)))), promise: nil)
    }

    func endStream(_ context: ChannelHandlerContext, _ exchange: Exchange, modelNanos: UInt64) {
        streamStarted = false
        exchange.variant.metrics.modelLatency.observe(nanos: modelNanos)
        let total = DispatchTime.now().uptimeNanoseconds - exchange.start
        exchange.variant.metrics.overheadLatency.observe(nanos: total > modelNanos ? total - modelNanos : 0)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !exchange.keepAlive { done.whenComplete { _ in context.close(promise: nil) } }
    }

    /// Nothing reached the model yet (connect refused, or a stale keep-alive connection closed):
    /// one more try on another instance is safe and hides an instance that just died.
    func retryOrFail(_ context: ChannelHandlerContext, _ exchange: Exchange, attempt: Int, failed: Upstream, reason: String) {
        if attempt < 3 {
            // Re-read the route: the controller may have swapped the failed instance out.
            var next = exchange
            next.variant = services.table.endpoint(exchange.endpoint)?.variant(named: exchange.variant.name) ?? exchange.variant
            forward(context, next, attempt: attempt + 1, avoid: failed)
            return
        }
        fail(context, exchange, status: .serviceUnavailable, type: "ServiceUnavailable",
             message: "Variant \(exchange.variant.name) of endpoint \(exchange.endpoint) is unavailable: \(reason)")
    }

    /// An error after a variant was chosen: counted against it, then answered in the caller's terms.
    func fail(_ context: ChannelHandlerContext, _ exchange: Exchange, status: HTTPResponseStatus, type: String, message: String) {
        let m = exchange.variant.metrics
        (status.code >= 500 ? m.errors5xx : m.errors4xx).wrappingIncrement(ordering: .relaxed)
        refuse(context, exchange, status: status, type: type, message: message)
        releaseShadows(exchange, production: ShadowSide(variant: exchange.variant.name, status: Int(status.code), body: [], latencyNanos: 0, error: message))
    }

    /// The model answered: counted, relayed, captured, and the shadows get their copies.
    func answer(_ context: ChannelHandlerContext, _ exchange: Exchange, response: UpstreamResponse, modelNanos: UInt64) {
        let code = response.head.status.code
        let variant = exchange.variant.name
        let m = exchange.variant.metrics
        m.modelLatency.observe(nanos: modelNanos)
        defer {
            // After the caller's answer is on its way: shadows never delay it.
            releaseShadows(exchange, production: ShadowSide(variant: variant, status: Int(code), body: response.body, latencyNanos: modelNanos, error: nil))
        }
        defer {
            let total = DispatchTime.now().uptimeNanoseconds - exchange.start
            m.overheadLatency.observe(nanos: total > modelNanos ? total - modelNanos : 0)
        }
        if code == 404, let model = exchange.targetModel {
            fail(context, exchange, status: .badRequest, type: "ValidationError",
                 message: "Model \(model) is not in the artifacts of multi-model endpoint \(exchange.endpoint).")
            return
        }
        guard (200..<300).contains(code) else {
            m.modelErrors.wrappingIncrement(ordering: .relaxed)
            m.errors4xx.wrappingIncrement(ordering: .relaxed)
            relay(context, exchange, response, modelError: true)
            return
        }
        relay(context, exchange, response, modelError: false)
        capture(exchange, response)
    }

    /// Offers a successful invocation to data capture when it was sampled.
    func capture(_ exchange: Exchange, _ response: UpstreamResponse) {
        guard let capture = exchange.capture else { return }
        capture.offer(CaptureWriter.Record(
            variant: exchange.variant.name, time: capture.now(),
            inferenceID: exchange.head.headers.first(name: "x-amzn-sagemaker-inference-id"),
            inputType: exchange.head.headers.first(name: "content-type") ?? "application/octet-stream", input: exchange.body,
            outputType: response.head.headers.first(name: "content-type") ?? "application/octet-stream", output: response.body))
    }

}

/// Shadow copies, sent on the shadow lane's loop.
enum ShadowForwarding {
    /// Sends a copy to one shadow instance; its answer only feeds the comparison. Runs on the
    /// shadow lane's loop.
    static func shadowForward(_ pair: ShadowPair, head: HTTPRequestHead, body: [ByteBuffer], pool: UpstreamPool) {
        let variant = pair.shadow.variant
        guard let upstream = variant.pickUpstream() else {
            pair.complete(shadow: ShadowSide(variant: variant.name, status: nil, body: [], latencyNanos: 0, error: "no healthy instance"))
            return
        }
        pair.shadow.stats.sent.wrappingIncrement(ordering: .relaxed)
        variant.metrics.invocations.wrappingIncrement(ordering: .relaxed)
        upstream.inflight.wrappingIncrement(ordering: .relaxed)
        let start = DispatchTime.now().uptimeNanoseconds
        pool.acquire(port: upstream.port).whenComplete { result in
            switch result {
            case .failure(let error):
                upstream.inflight.wrappingDecrement(ordering: .relaxed)
                variant.metrics.errors5xx.wrappingIncrement(ordering: .relaxed)
                pair.complete(shadow: ShadowSide(variant: variant.name, status: nil, body: [], latencyNanos: 0, error: "\(error)"))
            case .success(let connection):
                connection.handler.completion = { outcome in
                    upstream.inflight.wrappingDecrement(ordering: .relaxed)
                    let nanos = DispatchTime.now().uptimeNanoseconds - start
                    switch outcome {
                    case .success(let response):
                        let code = Int(response.head.status.code)
                        variant.metrics.modelLatency.observe(nanos: nanos)
                        if !(200..<300).contains(code) {
                            variant.metrics.modelErrors.wrappingIncrement(ordering: .relaxed)
                            variant.metrics.errors4xx.wrappingIncrement(ordering: .relaxed)
                        }
                        pair.complete(shadow: ShadowSide(variant: variant.name, status: code, body: response.body, latencyNanos: nanos, error: nil))
                    case .failure(let failure):
                        variant.metrics.errors5xx.wrappingIncrement(ordering: .relaxed)
                        pair.complete(shadow: ShadowSide(variant: variant.name, status: nil, body: [], latencyNanos: nanos, error: "\(failure)"))
                    }
                }
                var headers = HTTPHeaders()
                headers.add(name: "host", value: "127.0.0.1")
                headers.add(name: "content-length", value: String(body.reduce(0) { $0 + $1.readableBytes }))
                for name in ["content-type", "accept", "x-amzn-sagemaker-custom-attributes"] {
                    if let v = head.headers.first(name: name) { headers.add(name: name, value: v) }
                }
                let channel = connection.channel
                channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/invocations", headers: headers)), promise: nil)
                for part in body { channel.write(HTTPClientRequestPart.body(.byteBuffer(part)), promise: nil) }
                channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            }
        }
    }

}

/// A path segment with everything but unreserved characters percent-encoded.
    /// A path segment with everything but unreserved characters percent-encoded.
func percentEncoded(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 45 || b == 46 || b == 95 || b == 126 {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += "%" + String(b >> 4, radix: 16, uppercase: true) + String(b & 15, radix: 16, uppercase: true)
            }
        }
        return out
    }

