import EnvironmentAPI
import Foundation
import NIOCore
import NIOHTTP1

/// The control API of an environment host (loopback only; the CLI's local provider is its client):
///
///     GET    /_control/health
///     GET    /_control/snapshot
///     PUT    /_control/COLLECTION/NAME     the collection's configuration -> its status (once converged)
///     DELETE /_control/COLLECTION/NAME
///     POST   /_control/shutdown
///     GET    /_ui, /_ui/state               the status page (`mlgw-deploy ui`) and what it polls
///
/// The collections (`ControlCollection`) and their types are the table in EnvironmentAPI; the
/// services register their handlers on the `ControlRouter`.
final class ControlHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let router: ControlRouter
    let snapshot: @Sendable () async -> EnvironmentSnapshot
    let onShutdown: @Sendable () -> Void
    /// The status page's state (JSON), when the host serves the page.
    let ui: (@Sendable () async -> Data)?
    var head: HTTPRequestHead?
    var body = ByteBuffer()

    init(router: ControlRouter, snapshot: @escaping @Sendable () async -> EnvironmentSnapshot, onShutdown: @escaping @Sendable () -> Void,
         ui: (@Sendable () async -> Data)? = nil) {
        self.router = router
        self.snapshot = snapshot
        self.onShutdown = onShutdown
        self.ui = ui
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.clear()
        case .body(var b):
            body.writeBuffer(&b)
        case .end:
            guard let head else { return }
            self.head = nil
            let bytes = Data(body.readableBytesView)
            let router = self.router, snapshot = self.snapshot, onShutdown = self.onShutdown
            let loop = context.eventLoop
            let context = NIOLoopBound(context, eventLoop: loop)
            let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
            if head.method == .GET, let ui, path == "/_ui" || path == "/_ui/" || path == "/_ui/state" {
                Task {
                    let (type, data) = path == "/_ui/state" ? ("application/json", await ui()) : ("text/html; charset=utf-8", Data(StatusPage.html.utf8))
                    loop.execute {
                        var headers = HTTPHeaders()
                        headers.add(name: "content-type", value: type)
                        headers.add(name: "cache-control", value: "no-store")
                        writeResponse(context.value, status: .ok, headers: headers, body: ByteBuffer(bytes: data), keepAlive: head.isKeepAlive)
                    }
                }
                return
            }
            Task {
                let (status, json) = await Self.handle(head.method, head.uri, bytes, router: router, snapshot: snapshot, onShutdown: onShutdown)
                loop.execute {
                    var headers = HTTPHeaders()
                    headers.add(name: "content-type", value: "application/json")
                    writeResponse(context.value, status: status, headers: headers, body: ByteBuffer(bytes: json), keepAlive: head.isKeepAlive)
                }
            }
        }
    }

    static func handle(_ method: HTTPMethod, _ uri: String, _ body: Data, router: ControlRouter,
                       snapshot: @Sendable () async -> EnvironmentSnapshot, onShutdown: @Sendable () -> Void) async -> (HTTPResponseStatus, Data) {
        let path = String(uri.split(separator: "?", maxSplits: 1).first ?? "")
        switch (method, path) {
        case (.GET, ControlPath.health):
            return (.ok, (try? ControlRouter.encoder.encode(["status": "ok"])) ?? Data())
        case (.GET, ControlPath.snapshot):
            return (.ok, (try? ControlRouter.encoder.encode(await snapshot())) ?? Data())
        case (.POST, ControlPath.shutdown):
            onShutdown()
            return (.ok, (try? ControlRouter.encoder.encode(["status": "stopping"])) ?? Data())
        default:
            if let (status, data) = await router.handle(method: method.rawValue, path: path, body: body) {
                return (HTTPResponseStatus(statusCode: status), data)
            }
            return (.notFound, ControlRouter.error(ControlError(message: "unknown control call \(method) \(uri)", terminal: true)))
        }
    }
}
