import EnvironmentAPI
import Foundation
import NIOCore
import NIOHTTP1

/// The control API of an environment host (loopback only; the CLI's local provider is its client):
///
///     GET    /_control/health
///     GET    /_control/snapshot
///     PUT    /_control/models/{name}       ModelRegistration
///     DELETE /_control/models/{name}
///     PUT    /_control/endpoints/{name}    EndpointConfiguration -> EndpointStatus (once healthy)
///     DELETE /_control/endpoints/{name}
///     PUT    /_control/functions/{name}    FunctionConfiguration -> FunctionStatus (once warm)
///     DELETE /_control/functions/{name}
///     PUT    /_control/gateway/stages/{name}        StageConfiguration
///     PUT    /_control/gateway/api-keys/{name}      APIKeyConfiguration
///     PUT    /_control/gateway/usage-plans/{name}   UsagePlanConfiguration
///     DELETE /_control/gateway/{stages|api-keys|usage-plans}/{name}
///     POST   /_control/shutdown
final class ControlHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let controller: EnvironmentController
    let onShutdown: @Sendable () -> Void
    var head: HTTPRequestHead?
    var body = ByteBuffer()

    init(controller: EnvironmentController, onShutdown: @escaping @Sendable () -> Void) {
        self.controller = controller
        self.onShutdown = onShutdown
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
            let controller = self.controller
            let onShutdown = self.onShutdown
            let loop = context.eventLoop
            Task {
                let (status, json) = await Self.handle(head.method, head.uri, bytes, controller: controller, onShutdown: onShutdown)
                loop.execute {
                    var out = context.channel.allocator.buffer(capacity: json.count)
                    out.writeBytes(json)
                    var headers = HTTPHeaders()
                    headers.add(name: "content-type", value: "application/json")
                    writeResponse(context, status: status, headers: headers, body: out, keepAlive: head.isKeepAlive)
                }
            }
        }
    }

    static func handle(_ method: HTTPMethod, _ uri: String, _ body: Data, controller: EnvironmentController,
                       onShutdown: @Sendable () -> Void) async -> (HTTPResponseStatus, Data) {
        let parts = uri.split(separator: "/").map(String.init)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func ok<T: Encodable>(_ value: T) -> (HTTPResponseStatus, Data) {
            (.ok, (try? encoder.encode(value)) ?? Data("{}".utf8))
        }
        func fail(_ status: HTTPResponseStatus, _ error: ControlError) -> (HTTPResponseStatus, Data) {
            (status, (try? encoder.encode(error)) ?? Data("{}".utf8))
        }
        guard parts.first == "_control" else { return fail(.notFound, ControlError(message: "unknown path \(uri)", terminal: true)) }
        do {
            let rest = Array(parts.dropFirst())
            let collection = rest.first ?? ""
            let name = rest.count == 2 ? rest[1] : ""
            switch (method, collection, rest.count) {
            case (.GET, "health", 1):
                return ok(["status": "ok"])
            case (.GET, "snapshot", 1):
                return ok(await controller.snapshot())
            case (.PUT, "models", 2):
                var registration = try JSONDecoder().decode(ModelRegistration.self, from: body)
                registration.name = name
                return ok(try await controller.putModel(registration))
            case (.DELETE, "models", 2):
                await controller.deleteModel(name)
                return ok(["deleted": name])
            case (.PUT, "endpoints", 2):
                var config = try JSONDecoder().decode(EndpointConfiguration.self, from: body)
                config.name = name
                return ok(try await controller.putEndpoint(config))
            case (.DELETE, "endpoints", 2):
                await controller.deleteEndpoint(name)
                return ok(["deleted": name])
            case (.PUT, "functions", 2):
                var config = try JSONDecoder().decode(FunctionConfiguration.self, from: body)
                config.name = name
                return ok(try await controller.putFunction(config))
            case (.DELETE, "functions", 2):
                await controller.deleteFunction(name)
                return ok(["deleted": name])
            case (_, "gateway", 3):
                let gateway = controller.gateway
                let item = rest[2]
                switch (method, rest[1]) {
                case (.PUT, "stages"):
                    var config = try JSONDecoder().decode(StageConfiguration.self, from: body)
                    config.name = item
                    try gateway.putStage(config)
                case (.PUT, "api-keys"):
                    var config = try JSONDecoder().decode(APIKeyConfiguration.self, from: body)
                    config.name = item
                    gateway.putKey(config)
                case (.PUT, "usage-plans"):
                    var config = try JSONDecoder().decode(UsagePlanConfiguration.self, from: body)
                    config.name = item
                    gateway.putPlan(config)
                case (.DELETE, "stages"): gateway.deleteStage(item)
                case (.DELETE, "api-keys"): gateway.deleteKey(item)
                case (.DELETE, "usage-plans"): gateway.deletePlan(item)
                default:
                    return fail(.notFound, ControlError(message: "unknown control call \(method) \(uri)", terminal: true))
                }
                await controller.log("gateway: \(method == .DELETE ? "deleted" : "applied") \(rest[1]) \(item)")
                return ok(["applied": item])
            case (.POST, "shutdown", 1):
                onShutdown()
                return ok(["status": "stopping"])
            default:
                return fail(.notFound, ControlError(message: "unknown control call \(method) \(uri)", terminal: true))
            }
        } catch let error as ControlError {
            return fail(error.terminal ? .unprocessableEntity : .serviceUnavailable, error)
        } catch {
            return fail(.badRequest, ControlError(message: "bad control request: \(error)", terminal: true))
        }
    }
}
