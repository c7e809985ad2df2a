import Crypto
import EnvironmentAPI
import Foundation
import NIOCore
import NIOHTTP1

/// A gateway request once its route is known: what the answer, the access log and the metrics need.
struct GatewayCall {
    var serial: UInt64
    var stage: CompiledStage
    var route: CompiledRoute
    var requestID: String
    var start: UInt64
    var keyID: String?
    var origin: String?
    var integrationStart: UInt64 = 0
}

/// The gateway's listener, one per connection: `{gateway_url}/{stage}/{path}`. Routes by stage,
/// method and path; authorizes (API key with its usage plan's throttle and quota, or JWT);
/// throttles; then hands the request to an endpoint (the shared forwarding path the AWS front
/// door uses), a function (Lambda proxy event, payload 1.0 or 2.0) or a mock. Answers in API
/// Gateway's shapes (`{"message": ...}`), with an integration timeout (504), size limit (413)
/// and CORS per stage.
final class GatewayHandler: ChannelInboundHandler, EndpointForwarding {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// API Gateway's limit for a request body.
    static let maxBody = 10_485_760

    let services: FrontDoorServices
    let pool: UpstreamPool
    var streamStarted = false
    var random = FastRandom()
    var head: HTTPRequestHead?
    var body: [ByteBuffer] = []
    var bodyLength = 0
    /// The request in progress on this connection, its serial and its integration timeout.
    var call: GatewayCall?
    var gatewaySerial: UInt64 = 0
    var gatewayPending = false
    var gatewayTimer: Scheduled<Void>?
    /// The last API key this connection sent and its hash.
    var lastAPIKey: (value: String, hash: String)?

    init(services: FrontDoorServices, pool: UpstreamPool) {
        self.services = services
        self.pool = pool
    }

    var gateway: GatewayState { services.gateway }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.removeAll(keepingCapacity: true)
            bodyLength = 0
        case .body(let b):
            bodyLength += b.readableBytes
            if bodyLength <= Self.maxBody { body.append(b) }
        case .end:
            guard let head else { return }
            self.head = nil
            route(context, head)
        }
    }

    func route(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let keepAlive = head.isKeepAlive
        let requestID = services.requestIDs.next()
        let start = DispatchTime.now().uptimeNanoseconds
        var rawPath = Substring(head.uri)
        var query = Substring("")
        if let q = rawPath.firstIndex(of: "?") {
            query = rawPath[rawPath.index(after: q)...]
            rawPath = rawPath[..<q]
        }
        let parts = rawPath.split(separator: "/", omittingEmptySubsequences: true)
        let snapshot = gateway.snapshot
        guard let stageName = parts.first, let stage = snapshot.stages[String(stageName)] else {
            gatewayMessage(context, .notFound, "Not Found", requestID: requestID, keepAlive: keepAlive, cors: nil, origin: nil)
            return
        }
        let origin = head.headers.first(name: "origin")
        let method = head.method.rawValue
        if head.method == .OPTIONS, let cors = stage.config.cors, head.headers.contains(name: "access-control-request-method") {
            var headers = HTTPHeaders()
            addCORS(&headers, cors, origin: origin)
            headers.add(name: "access-control-allow-methods", value: cors.allowMethods.joined(separator: ","))
            headers.add(name: "access-control-allow-headers", value: cors.allowHeaders.joined(separator: ","))
            if let age = cors.maxAge { headers.add(name: "access-control-max-age", value: String(age)) }
            writeResponse(context, status: .noContent, headers: headers, body: nil, keepAlive: keepAlive)
            return
        }
        guard let (route, params) = stage.route(method: method, parts: parts.dropFirst()) else {
            gatewayMessage(context, .notFound, "Not Found", requestID: requestID, keepAlive: keepAlive, cors: stage.config.cors, origin: origin)
            return
        }
        gatewaySerial &+= 1
        gatewayPending = true
        var call = GatewayCall(serial: gatewaySerial, stage: stage, route: route, requestID: requestID, start: start, origin: origin)
        route.metrics.requests.wrappingIncrement(ordering: .relaxed)
        guard bodyLength <= stage.config.maxBodyBytes else {
            gatewayFinish(context, call, .payloadTooLarge, message: "Request Too Long", keepAlive: keepAlive)
            return
        }
        // Authorization.
        var claims: JWTVerifier.Claims?
        switch route.config.authorization {
        case .none:
            break
        case .apiKey:
            guard let value = head.headers.first(name: "x-api-key"), let key = snapshot.keys[apiKeyHash(value)],
                  key.plan.stages.isEmpty || key.plan.stages.contains(stage.config.name) else {
                gatewayFinish(context, call, .forbidden, message: "Forbidden", keepAlive: keepAlive)
                return
            }
            call.keyID = key.name
            if let bucket = key.routeBuckets.isEmpty ? key.bucket : key.routeBuckets[route.qualifiedKey] ?? key.bucket, !bucket.take() {
                gatewayFinish(context, call, .tooManyRequests, message: "Too Many Requests", keepAlive: keepAlive)
                return
            }
            if let quota = key.quota, let limit = key.plan.quotaLimit,
               !gateway.countQuota(quota, limit: limit, period: key.plan.quotaPeriod ?? .day) {
                gatewayFinish(context, call, .tooManyRequests, message: "Limit Exceeded", keepAlive: keepAlive)
                return
            }
        case .jwt(let authorizer, let scopes):
            guard let verifier = stage.verifiers[authorizer] else {
                gatewayFinish(context, call, .internalServerError, message: "Internal Server Error: authorizer \(authorizer) has no keys", keepAlive: keepAlive)
                return
            }
            switch verifier.verify(head.headers.first(name: "authorization")) {
            case .failure:
                gatewayFinish(context, call, .unauthorized, message: "Unauthorized", keepAlive: keepAlive,
                              extra: [("www-authenticate", "Bearer error=\"invalid_token\"")])
                return
            case .success(let c):
                if !scopes.isEmpty && !scopes.contains(where: c.scopes.contains) {
                    gatewayFinish(context, call, .forbidden, message: "Forbidden", keepAlive: keepAlive)
                    return
                }
                claims = c
            }
        }
        // Throttling for every caller together: the stage's, then the route's.
        if let bucket = stage.bucket, !bucket.take() {
            gatewayFinish(context, call, .tooManyRequests, message: "Too Many Requests", keepAlive: keepAlive)
            return
        }
        if let bucket = route.bucket, !bucket.take() {
            gatewayFinish(context, call, .tooManyRequests, message: "Too Many Requests", keepAlive: keepAlive)
            return
        }
        call.integrationStart = DispatchTime.now().uptimeNanoseconds
        // What an endpoint's answer is matched with (`relay`, `refuse`).
        self.call = call
        let serial = call.serial
        // The host checked the timeout when the stage was put; the clamp keeps a timer from trapping anyway.
        let timeoutNanos = Int64(min(max(route.config.timeout, 0.001), RouteConfiguration.maxTimeout) * 1e9)
        gatewayTimer = context.eventLoop.scheduleTask(in: .nanoseconds(timeoutNanos)) { [weak self] in
            guard let self, self.gatewaySerial == serial, self.gatewayPending else { return }
            self.gatewayFinish(context, call, .gatewayTimeout, message: "Endpoint request timed out", keepAlive: false)
        }
        switch route.config.integration {
        case .mock(let status, let type, let body):
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: type)
            gatewayFinish(context, call, HTTPResponseStatus(statusCode: status), headers: headers, body: ByteBuffer(string: body), keepAlive: keepAlive)
        case .endpoint(let name, let variantSelector, let modelSelector):
            var head = head
            if let enrich = route.config.enrich {
                switch enriched(enrich, head, params) {
                case .success(let row):
                    body = [row]
                    bodyLength = row.readableBytes
                    head.headers.replaceOrAdd(name: "content-type", value: "text/csv")
                case .failure(let refusal):
                    gatewayFinish(context, call, refusal.status, message: refusal.message, keepAlive: keepAlive)
                    return
                }
            }
            gatewayEndpoint(context, head, call, endpoint: name, variant: variantSelector.flatMap { select($0, head, params) },
                            targetModel: modelSelector.flatMap { select($0, head, params) }, keepAlive: keepAlive)
        case .function(let name, let payload):
            let event = payload == .v1
                ? proxyEventV1(head, call, path: String(rawPath), query: query, params: params, claims: claims)
                : proxyEventV2(head, call, path: String(rawPath), query: query, params: params, claims: claims)
            let loop = context.eventLoop
            // The answer is written on this connection's loop; the handler and its context never leave it.
            let here = NIOLoopBound((handler: self, context: context), eventLoop: loop)
            let invoked = services.functions.invoke(name, payload: ByteBuffer(bytes: event), requestID: requestID) { _, result in
                loop.execute { here.value.handler.gatewayFunctionAnswer(here.value.context, call, result, payload: payload, function: name, keepAlive: keepAlive) }
            }
            if !invoked {
                gatewayFinish(context, call, .badGateway, message: "Bad Gateway: function \(name) is not deployed", keepAlive: keepAlive)
            }
        }
    }

    func select(_ selector: Selector, _ head: HTTPRequestHead, _ params: [String: String]) -> String? {
        switch selector {
        case .fixed(let s): return s
        case .header(let h): return head.headers.first(name: h)
        case .pathParameter(let p): return params[p]
        }
    }

    /// The key's SHA-256 in hex: what the gateway keeps instead of the key.
    func apiKeyHash(_ value: String) -> String {
        // A keep-alive connection usually sends the same key again.
        if let last = lastAPIKey, last.value == value { return last.hash }
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in SHA256.hash(data: Array(value.utf8)) {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        let hash = String(decoding: out, as: UTF8.self)
        lastAPIKey = (value, hash)
        return hash
    }

    /// Direct integration: the endpoint router's forwarding path, answered in the gateway's terms.
    func gatewayEndpoint(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ call: GatewayCall, endpoint name: String,
                         variant: String?, targetModel: String?, keepAlive: Bool) {
        guard let endpoint = services.table.endpoint(name) else {
            gatewayFinish(context, call, .badGateway, message: "Bad Gateway: endpoint \(name) is not deployed", keepAlive: keepAlive)
            return
        }
        let chosen: VariantRoute?
        if endpoint.multiModel {
            chosen = targetModel == nil ? nil : endpoint.variants.first
            if targetModel == nil {
                gatewayFinish(context, call, .badRequest, message: "Bad Request: endpoint \(name) is a multi-model endpoint and the route gives no target model", keepAlive: keepAlive)
                return
            }
        } else if let variant {
            chosen = endpoint.variant(named: variant)
            if chosen == nil {
                gatewayFinish(context, call, .badRequest, message: "Bad Request: endpoint \(name) has no variant \(variant)", keepAlive: keepAlive)
                return
            }
        } else {
            chosen = endpoint.pick(unit: random.unit())
        }
        guard let v = chosen else {
            gatewayFinish(context, call, .serviceUnavailable, message: "Service Unavailable: endpoint \(name) has no variant taking traffic", keepAlive: keepAlive)
            return
        }
        v.metrics.invocations.wrappingIncrement(ordering: .relaxed)
        var exchange = Exchange(head: head, endpoint: name, variant: v, requestID: call.requestID, keepAlive: keepAlive,
                                start: call.start, capture: nil, body: body)
        if let writer = endpoint.capture, writer.samples(random.unit()) { exchange.capture = writer }
        exchange.targetModel = targetModel
        exchange.loader = endpoint.loader
        exchange.pairs = shadowPairs(endpoint, head, body: body)
        forward(context, exchange, attempt: 1, avoid: nil)
    }

    /// The endpoint's answer for a gateway request: the model's status and body as they are.
    func relay(_ context: ChannelHandlerContext, _ exchange: Exchange, _ response: UpstreamResponse, modelError: Bool) {
        guard let call, call.requestID == exchange.requestID else { return }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: response.head.headers.first(name: "content-type") ?? "application/octet-stream")
        headers.add(name: "x-amzn-invoked-production-variant", value: exchange.variant.name)
        gatewayFinish(context, call, response.head.status, headers: headers, bodyParts: response.body, keepAlive: exchange.keepAlive)
    }

    /// The endpoint failed a gateway request: its status, with the reason phrase and why.
    func refuse(_ context: ChannelHandlerContext, _ exchange: Exchange, status: HTTPResponseStatus, type: String, message: String) {
        guard let call, call.requestID == exchange.requestID else { return }
        gatewayFinish(context, call, status, message: "\(status.reasonPhrase): \(message)", keepAlive: exchange.keepAlive)
    }

    func gatewayFunctionAnswer(_ context: ChannelHandlerContext, _ call: GatewayCall, _ result: InvocationResult,
                               payload: PayloadFormat, function: String, keepAlive: Bool) {
        switch result {
        case .success(let body, _):
            guard let (status, headers, out) = proxyResponse(body, payload: payload) else {
                gatewayFinish(context, call, .badGateway, message: "Internal server error", keepAlive: keepAlive,
                              logError: "function \(function) returned a malformed proxy response")
                return
            }
            gatewayFinish(context, call, status, headers: headers, body: out, keepAlive: keepAlive)
        case .functionError(let body, _):
            gatewayFinish(context, call, .badGateway, message: "Internal server error", keepAlive: keepAlive,
                          logError: "function \(function) failed: \(String(buffer: body).prefix(300))")
        case .throttled:
            gatewayFinish(context, call, .serviceUnavailable, message: "Service Unavailable: function \(function) is at its concurrency limit", keepAlive: keepAlive)
        case .unavailable(let reason):
            gatewayFinish(context, call, .badGateway, message: "Bad Gateway: function \(function) could not run: \(reason)", keepAlive: keepAlive)
        }
    }

    /// The function's `{statusCode, headers, multiValueHeaders, cookies, body, isBase64Encoded}`.
    /// With payload 2.0 anything else is a 200 JSON body, as HTTP APIs do.
    func proxyResponse(_ body: ByteBuffer, payload: PayloadFormat) -> (HTTPResponseStatus, HTTPHeaders, ByteBuffer)? {
        let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView), options: .fragmentsAllowed)
        var headers = HTTPHeaders()
        guard let dict = object as? [String: Any], let code = (dict["statusCode"] as? NSNumber)?.intValue else {
            // Payload 2.0 takes any JSON without a statusCode as a 200 body; a statusCode that is
            // not a number is a malformed answer in both formats.
            guard payload == .v2, object != nil, (object as? [String: Any])?["statusCode"] == nil else { return nil }
            headers.add(name: "content-type", value: "application/json")
            return (.ok, headers, body)
        }
        guard (100...599).contains(code) else { return nil }
        for (k, v) in dict["headers"] as? [String: Any] ?? [:] { headers.add(name: k, value: "\(v)") }
        for (k, vs) in dict["multiValueHeaders"] as? [String: [Any]] ?? [:] { for v in vs { headers.add(name: k, value: "\(v)") } }
        for c in dict["cookies"] as? [String] ?? [] { headers.add(name: "set-cookie", value: c) }
        var out = ByteBuffer()
        if let text = dict["body"] as? String {
            if dict["isBase64Encoded"] as? Bool == true {
                guard let data = Data(base64Encoded: text) else { return nil }
                out.writeBytes(data)
            } else {
                out.writeString(text)
            }
        }
        if !headers.contains(name: "content-type") { headers.add(name: "content-type", value: "application/json") }
        return (HTTPResponseStatus(statusCode: code), headers, out)
    }

    // MARK: answering

    func gatewayMessage(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ message: String, requestID: String,
                        keepAlive: Bool, cors: CORS?, origin: String?) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "x-amzn-requestid", value: requestID)
        if let cors { addCORS(&headers, cors, origin: origin) }
        writeResponse(context, status: status, headers: headers, body: JSONBody.encode(GatewayMessage(message: message)), keepAlive: keepAlive)
    }

    func addCORS(_ headers: inout HTTPHeaders, _ cors: CORS, origin: String?) {
        if cors.allowOrigins.contains("*") {
            headers.add(name: "access-control-allow-origin", value: "*")
        } else if let origin, cors.allowOrigins.contains(origin) {
            headers.add(name: "access-control-allow-origin", value: origin)
            headers.add(name: "vary", value: "origin")
        }
        if !cors.exposeHeaders.isEmpty { headers.add(name: "access-control-expose-headers", value: cors.exposeHeaders.joined(separator: ",")) }
    }

    /// Writes the one answer of a gateway request (unless it was already answered: a timeout and
    /// a late integration race), then logs and counts it.
    func gatewayFinish(_ context: ChannelHandlerContext, _ call: GatewayCall, _ status: HTTPResponseStatus,
                       headers extra: HTTPHeaders = HTTPHeaders(), body: ByteBuffer? = nil, bodyParts: [ByteBuffer]? = nil,
                       message: String? = nil, keepAlive: Bool, extra pairs: [(String, String)] = [], logError: String? = nil) {
        guard call.serial == gatewaySerial, gatewayPending else { return }
        gatewayPending = false
        gatewayTimer?.cancel()
        gatewayTimer = nil
        var headers = extra
        headers.add(name: "x-amzn-requestid", value: call.requestID)
        for (k, v) in pairs { headers.add(name: k, value: v) }
        if let cors = call.stage.config.cors { addCORS(&headers, cors, origin: call.origin) }
        var length = 0
        if let message {
            headers.replaceOrAdd(name: "content-type", value: "application/json")
            let b = JSONBody.encode(GatewayMessage(message: message))
            length = b.readableBytes
            writeResponse(context, status: status, headers: headers, body: b, keepAlive: keepAlive)
        } else if let bodyParts {
            length = bodyLengthOf(bodyParts)
            headers.replaceOrAdd(name: "content-length", value: String(length))
            if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            for part in bodyParts { context.write(wrapOutboundOut(.body(.byteBuffer(part))), promise: nil) }
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive { done.whenComplete { _ in context.close(promise: nil) } }
        } else {
            length = body?.readableBytes ?? 0
            writeResponse(context, status: status, headers: headers, body: body, keepAlive: keepAlive)
        }
        let now = DispatchTime.now().uptimeNanoseconds
        let m = call.route.metrics
        m.latency.observe(nanos: now - call.start)
        let integrationNanos = call.integrationStart > 0 ? now - call.integrationStart : 0
        if call.integrationStart > 0 { m.integrationLatency.observe(nanos: integrationNanos) }
        if status.code >= 500 { m.errors5xx.wrappingIncrement(ordering: .relaxed) } else if status.code >= 400 { m.errors4xx.wrappingIncrement(ordering: .relaxed) }
        var line = "{\"requestId\":\"\(call.requestID)\",\"time\":"
        line.reserveCapacity(256)
        appendMillis(&line, UInt64(Date().timeIntervalSince1970 * 1000))  // seconds, three decimals
        line += ",\(call.route.logFields),\"status\":\(status.code),\"latencyMs\":"
        appendMillis(&line, (now - call.start) / 1000)
        line += ",\"integrationLatencyMs\":"
        if call.integrationStart > 0 { appendMillis(&line, integrationNanos / 1000) } else { line += "null" }
        line += ",\"responseLength\":\(length),\"apiKeyId\":"
        if let key = call.keyID { line += jsonString(key) } else { line += "null" }
        if let logError { line += ",\"error\":\(jsonString(logError))" }
        // Built by hand on purpose: one line per request on the hot path (JSONEncoder costs
        // microseconds), from values escaped once (`logFields`) or escaped here.
        gateway.accessLog.append(line + "}")
    }

    /// `micros` as milliseconds with three decimals (String(format:) costs microseconds).
    func appendMillis(_ line: inout String, _ micros: UInt64) {
        line += String(micros / 1000)
        let frac = micros % 1000
        line += frac < 10 ? ".00" : frac < 100 ? ".0" : "."
        line += String(frac)
    }

    // MARK: proxy events

    func headerDictionary(_ head: HTTPRequestHead) -> ([String: String], [String: [String]]) {
        var single: [String: String] = [:], multi: [String: [String]] = [:]
        for (name, value) in head.headers {
            let k = name.lowercased()
            multi[k, default: []].append(value)
            single[k] = single[k].map { $0 + "," + value } ?? value
        }
        return (single, multi)
    }

    func queryDictionary(_ query: Substring) -> ([String: String], [String: [String]]) {
        var single: [String: String] = [:], multi: [String: [String]] = [:]
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            let k = String(kv[0].replacingOccurrences(of: "+", with: " ")[...].removingPercentEncoding)
            let v = kv.count > 1 ? String(kv[1].replacingOccurrences(of: "+", with: " ")[...].removingPercentEncoding) : ""
            multi[k, default: []].append(v)
            single[k] = single[k].map { $0 + "," + v } ?? v
        }
        return (single, multi)
    }

    func bodyField() -> (Any, Bool) {
        guard bodyLength > 0 else { return (NSNull(), false) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(bodyLength)
        for part in body { bytes += part.readableBytesView }
        if let text = String(validating: bytes, as: UTF8.self) { return (text, false) }
        return (Data(bytes).base64EncodedString(), true)
    }

    static let eventTime: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "dd/MMM/yyyy:HH:mm:ss Z"
        return f
    }()

    /// API Gateway's REST proxy event (payload format 1.0).
    func proxyEventV1(_ head: HTTPRequestHead, _ call: GatewayCall, path: String, query: Substring, params: [String: String],
                      claims: JWTVerifier.Claims?) -> [UInt8] {
        let (headers, multiHeaders) = headerDictionary(head)
        let (q, mq) = queryDictionary(query)
        let (bodyValue, base64) = bodyField()
        let stage = call.stage.config.name
        let resourcePath = call.route.config.path
        let now = Date()
        var requestContext: [String: Any] = [
            "accountId": FunctionService.accountID, "apiId": "local", "stage": stage, "requestId": call.requestID,
            "resourcePath": resourcePath, "httpMethod": head.method.rawValue, "path": path, "protocol": "HTTP/1.1",
            "requestTime": Self.eventTime.string(from: now), "requestTimeEpoch": Int(now.timeIntervalSince1970 * 1000),
            "resourceId": "local", "domainName": head.headers.first(name: "host") ?? "127.0.0.1",
            "identity": ["sourceIp": "127.0.0.1", "userAgent": head.headers.first(name: "user-agent") ?? NSNull(),
                         "apiKeyId": call.keyID ?? NSNull(), "apiKey": call.keyID.map { _ in "(hidden)" } ?? NSNull()] as [String: Any],
        ]
        if let claims { requestContext["authorizer"] = ["claims": claims.all, "scopes": claims.scopes] }
        let event: [String: Any] = [
            "resource": resourcePath, "path": String(path.dropFirst(stage.count + 1)), "httpMethod": head.method.rawValue,
            "headers": headers, "multiValueHeaders": multiHeaders,
            "queryStringParameters": q.isEmpty ? NSNull() : q, "multiValueQueryStringParameters": mq.isEmpty ? NSNull() : mq,
            "pathParameters": params.isEmpty ? NSNull() : params, "stageVariables": NSNull(),
            "requestContext": requestContext, "body": bodyValue, "isBase64Encoded": base64,
        ]
        return Array((try? JSONSerialization.data(withJSONObject: event)) ?? Data("{}".utf8))
    }

    /// An HTTP API's proxy event (payload format 2.0).
    func proxyEventV2(_ head: HTTPRequestHead, _ call: GatewayCall, path: String, query: Substring, params: [String: String],
                      claims: JWTVerifier.Claims?) -> [UInt8] {
        let (headers, _) = headerDictionary(head)
        let (q, _) = queryDictionary(query)
        let (bodyValue, base64) = bodyField()
        let now = Date()
        var requestContext: [String: Any] = [
            "accountId": FunctionService.accountID, "apiId": "local", "domainName": head.headers.first(name: "host") ?? "127.0.0.1",
            "domainPrefix": "local", "requestId": call.requestID, "routeKey": call.route.config.key, "stage": call.stage.config.name,
            "time": Self.eventTime.string(from: now), "timeEpoch": Int(now.timeIntervalSince1970 * 1000),
            "http": ["method": head.method.rawValue, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": head.headers.first(name: "user-agent") ?? ""],
        ]
        if let claims { requestContext["authorizer"] = ["jwt": ["claims": claims.all, "scopes": claims.scopes]] }
        if let key = call.keyID { requestContext["authentication"] = ["apiKeyId": key] }
        var event: [String: Any] = [
            "version": "2.0", "routeKey": call.route.config.key, "rawPath": path, "rawQueryString": String(query),
            "headers": headers, "requestContext": requestContext, "isBase64Encoded": base64,
        ]
        if let cookies = head.headers.first(name: "cookie") { event["cookies"] = cookies.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) } }
        if !q.isEmpty { event["queryStringParameters"] = q }
        if !params.isEmpty { event["pathParameters"] = params }
        if !(bodyValue is NSNull) { event["body"] = bodyValue }
        return Array((try? JSONSerialization.data(withJSONObject: event)) ?? Data("{}".utf8))
    }
}
