import Atomics
import Foundation
import NIOCore
import NIOHTTP1

/// The environment's AWS-compatible URL for sagemaker-runtime: `POST /endpoints/{name}/invocations`.
/// Picks a variant (the caller's `X-Amzn-SageMaker-Target-Variant`, else by weight), an instance
/// (round-robin), forwards over a pooled keep-alive connection on the same event loop, and answers
/// with `x-Amzn-Invoked-Production-Variant`. Errors use the shapes botocore parses
/// (`x-amzn-ErrorType` plus a JSON body).
final class FrontDoorHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let maxBody = 6_291_456
    static let accountID = "000000000000"

    /// One request on its way through: what every step after routing needs.
    struct Exchange {
        var head: HTTPRequestHead
        var endpoint: String
        var variant: VariantRoute
        var requestID: String
        var keepAlive: Bool
        /// When the request's last byte arrived (uptime nanoseconds).
        var start: UInt64
        /// Set when this invocation is sampled for data capture.
        var capture: CaptureWriter?
        var body: [ByteBuffer]
        /// InvokeEndpointWithResponseStream: the answer goes out as event-stream PayloadParts.
        var stream = false
        /// Copies of this request sent to shadow variants, waiting for the production answer.
        var pairs: [ShadowPair] = []
        /// The caller's TargetModel, on a multi-model endpoint.
        var targetModel: String?
        /// Set on a multi-model endpoint served by the user's own server: the router loads models.
        var loader: ModelLoading?
        var loadAttempts = 0
        /// Set when the request came through the gateway: the answer goes out in its terms.
        var gateway: GatewayCall?
    }

    /// Whether a streamed answer's head has gone out (errors then travel as exception events).
    var streamStarted = false

    let table: RouteTable
    let metrics: MetricsRegistry
    let pool: UpstreamPool
    let requestIDs: RequestIDs
    let shadowLane: ShadowLane
    let functions: FunctionHost
    /// Set on the gateway's listener: requests are routed by stage and route instead.
    let gateway: GatewayState?
    /// The gateway whose per-route metrics `/metrics` also shows.
    let routeMetrics: GatewayState?
    /// The body kept in memory at most (larger requests are refused once their size is known).
    let bodyLimit: Int
    var random = FastRandom()
    var head: HTTPRequestHead?
    var body: [ByteBuffer] = []
    var bodyLength = 0
    /// The gateway request in progress on this connection, and its integration timeout.
    var gatewaySerial: UInt64 = 0
    var gatewayPending = false
    var gatewayTimer: Scheduled<Void>?
    /// The last API key this connection sent and its hash.
    var lastAPIKey: (value: String, hash: String)?

    init(table: RouteTable, metrics: MetricsRegistry, pool: UpstreamPool, requestIDs: RequestIDs, shadowLane: ShadowLane, functions: FunctionHost,
         gateway: GatewayState? = nil, routeMetrics: GatewayState? = nil) {
        self.routeMetrics = routeMetrics
        self.table = table
        self.metrics = metrics
        self.pool = pool
        self.requestIDs = requestIDs
        self.shadowLane = shadowLane
        self.functions = functions
        self.gateway = gateway
        bodyLimit = gateway == nil ? Self.maxBody : 10_485_760
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.removeAll(keepingCapacity: true)
            bodyLength = 0
        case .body(let b):
            bodyLength += b.readableBytes
            if bodyLength <= bodyLimit { body.append(b) }
        case .end:
            guard let head else { return }
            self.head = nil
            if gateway != nil { gatewayRoute(context, head) } else { route(context, head) }
        }
    }

    func route(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let keepAlive = head.isKeepAlive
        let requestID = requestIDs.next()
        // /endpoints/{name}/invocations[?query]
        var path = Substring(head.uri)
        if let q = path.firstIndex(of: "?") { path = path[..<q] }
        if path.hasPrefix(Self.lambdaPrefix) {
            lambdaInvoke(context, head, path: path, requestID: requestID)
            return
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[0] == "endpoints", parts[2] == "invocations" || parts[2] == "invocations-response-stream" else {
            if head.method == .GET && (path == "/ping" || path == "/") {
                writeResponse(context, status: .ok, body: nil, keepAlive: keepAlive)
                return
            }
            if head.method == .GET && path == "/metrics" {
                var b = context.channel.allocator.buffer(capacity: 4096)
                b.writeString(metrics.prometheus(routes: table))
                if let text = routeMetrics?.prometheus() { b.writeString(text) }
                var headers = HTTPHeaders()
                headers.add(name: "content-type", value: "text/plain; version=0.0.4; charset=utf-8")
                writeResponse(context, status: .ok, headers: headers, body: b, keepAlive: keepAlive)
                return
            }
            awsError(context, status: .notFound, type: "UnknownOperationException",
                     message: "No operation matches \(head.method) \(path).", requestID: requestID, keepAlive: keepAlive)
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
        guard let endpoint = table.endpoint(name) else {
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
        if !exchange.stream { exchange.pairs = shadowPairs(endpoint, head) }
        forward(context, exchange, attempt: 1, avoid: nil)
    }

    /// The shadow variants sampled for this request, each waiting for the production answer.
    func shadowPairs(_ endpoint: EndpointRoute, _ head: HTTPRequestHead) -> [ShadowPair] {
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
        shadowLane.send(exchange.pairs, head: exchange.head, body: exchange.body)
    }

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
                channel.write(NIOAny(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/invocations", headers: headers))), promise: nil)
                for part in body { channel.write(NIOAny(HTTPClientRequestPart.body(.byteBuffer(part))), promise: nil) }
                channel.writeAndFlush(NIOAny(HTTPClientRequestPart.end(nil)), promise: nil)
            }
        }
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
        let requestBody = body
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
                        let json = "{\"Message\":\(jsonString("The model server of variant \(variant.name) failed while streaming: \(reason)")),\"ErrorCode\":\"ModelStreamError\"}"
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
                let uri = exchange.targetModel.map { "/models/\(Self.percentEncoded($0))/invoke" } ?? "/invocations"
                let upstreamHead = HTTPRequestHead(version: .http1_1, method: .POST, uri: uri, headers: headers)
                let channel = connection.channel
                channel.write(NIOAny(HTTPClientRequestPart.head(upstreamHead)), promise: nil)
                for part in requestBody { channel.write(NIOAny(HTTPClientRequestPart.body(.byteBuffer(part))), promise: nil) }
                channel.writeAndFlush(NIOAny(HTTPClientRequestPart.end(nil)), promise: nil)
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
                channel.write(NIOAny(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers))), promise: nil)
                if let body { channel.write(NIOAny(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil) }
                channel.writeAndFlush(NIOAny(HTTPClientRequestPart.end(nil)), promise: nil)
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
        let body = "{\"model_name\":\(jsonString(model)),\"url\":\(jsonString(url))}"
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
        send(.DELETE, "/models/\(Self.percentEncoded(model))", body: nil, to: upstream) { _ in next() }
    }

    /// A path segment with everything but unreserved characters percent-encoded.
    static func percentEncoded(_ s: String) -> String {
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
            next.variant = table.endpoint(exchange.endpoint)?.variant(named: exchange.variant.name) ?? exchange.variant
            forward(context, next, attempt: attempt + 1, avoid: failed)
            return
        }
        fail(context, exchange, status: .serviceUnavailable, type: "ServiceUnavailable",
             message: "Variant \(exchange.variant.name) of endpoint \(exchange.endpoint) is unavailable: \(reason)")
    }

    /// An error after a variant was chosen: counted against it, then answered in AWS's shape.
    func fail(_ context: ChannelHandlerContext, _ exchange: Exchange, status: HTTPResponseStatus, type: String, message: String) {
        let m = exchange.variant.metrics
        (status.code >= 500 ? m.errors5xx : m.errors4xx).wrappingIncrement(ordering: .relaxed)
        if exchange.gateway != nil {
            gatewayEndpointAnswer(context, exchange, status: status, response: nil, message: "\(status.reasonPhrase): \(message)")
        } else {
            awsError(context, status: status, type: type, message: message, requestID: exchange.requestID, keepAlive: exchange.keepAlive)
        }
        releaseShadows(exchange, production: ShadowSide(variant: exchange.variant.name, status: Int(status.code), body: [], latencyNanos: 0, error: message))
    }

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
        if exchange.gateway != nil, code != 404 || exchange.targetModel == nil {
            if !(200..<300).contains(code) {
                m.modelErrors.wrappingIncrement(ordering: .relaxed)
                m.errors4xx.wrappingIncrement(ordering: .relaxed)
            }
            gatewayEndpointAnswer(context, exchange, status: response.head.status, response: response, message: nil)
            if (200..<300).contains(code) { capture(exchange, response) }
            return
        }
        if code == 404, let model = exchange.targetModel {
            fail(context, exchange, status: .badRequest, type: "ValidationError",
                 message: "Model \(model) is not in the artifacts of multi-model endpoint \(exchange.endpoint).")
            return
        }
        guard (200..<300).contains(code) else {
            m.modelErrors.wrappingIncrement(ordering: .relaxed)
            m.errors4xx.wrappingIncrement(ordering: .relaxed)
            var text = ""
            for part in response.body { text += String(buffer: part) }
            if text.count > 1024 { text = String(text.prefix(1024)) }
            let message = "Received \(code < 500 ? "client" : "server") error (\(code)) from \(variant) with message \"\(text)\". See the model server's log for details."
            var b = context.channel.allocator.buffer(capacity: 256 + text.utf8.count * 2)
            b.writeString("{\"ErrorCode\":\"\(code < 500 ? "CLIENT" : "SERVER")_ERROR_FROM_MODEL\",\"Message\":\(jsonString(message)),\"OriginalStatusCode\":\(code),\"OriginalMessage\":\(jsonString(text)),\"LogStreamArn\":\(jsonString("arn:aws:logs:local:\(Self.accountID):log-group:/aws/sagemaker/Endpoints/\(exchange.endpoint)"))}")
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
        capture(exchange, response)
    }

    /// Offers a successful invocation to data capture when it was sampled.
    func capture(_ exchange: Exchange, _ response: UpstreamResponse) {
        guard let capture = exchange.capture else { return }
        capture.offer(CaptureWriter.Record(
            variant: exchange.variant.name, time: Date().timeIntervalSince1970,
            inferenceID: exchange.head.headers.first(name: "x-amzn-sagemaker-inference-id"),
            inputType: exchange.head.headers.first(name: "content-type") ?? "application/octet-stream", input: exchange.body,
            outputType: response.head.headers.first(name: "content-type") ?? "application/octet-stream", output: response.body))
    }

    func awsError(_ context: ChannelHandlerContext, status: HTTPResponseStatus, type: String, message: String,
                  requestID: String, keepAlive: Bool) {
        var b = context.channel.allocator.buffer(capacity: message.utf8.count + 64)
        b.writeString("{\"__type\":\(jsonString(type)),\"message\":\(jsonString(message))}")
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "x-amzn-errortype", value: type)
        headers.add(name: "x-amzn-requestid", value: requestID)
        writeResponse(context, status: status, headers: headers, body: b, keepAlive: keepAlive)
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
