import EnvironmentAPI
import Foundation
import NIOCore
import NIOHTTP1

/// A route's enrichment from a feature group, without a function in between: the record is read
/// from the online store on the connection's event loop and its features are appended to the
/// request's CSV row.
extension GatewayHandler {
    struct Refusal: Error {
        var status: HTTPResponseStatus
        var message: String
    }

    func enriched(_ e: Enrichment, _ head: HTTPRequestHead, _ params: [String: String]) -> Result<ByteBuffer, Refusal> {
        guard let store = services.features?.current, let group = store.group(e.group) else {
            return .failure(Refusal(status: .badGateway, message: "Bad Gateway: feature group \(e.group) is not deployed"))
        }
        var own = ""
        let id: String?
        switch e.identifier {
        case .pathParameter(let p):
            id = params[p]
            own = requestText()
        case .header(let h):
            id = head.headers.first(name: h)
            own = requestText()
        case .jsonField(let field):
            guard let object = (try? JSONSerialization.jsonObject(with: Data(requestBytes()))) as? [String: Any] else {
                return .failure(Refusal(status: .badRequest, message: "Bad Request: the body is not a JSON object with '\(field)'"))
            }
            id = object[field].flatMap { OfflineStore.text($0) }
            if let features = object["features"] {
                guard let list = features as? [Any] else {
                    return .failure(Refusal(status: .badRequest, message: "Bad Request: 'features' of the body is not a list"))
                }
                own = list.map { OfflineStore.text($0) ?? "" }.joined(separator: ",")
            }
        }
        guard let id, !id.isEmpty else {
            return .failure(Refusal(status: .badRequest, message: "Bad Request: the request gives no record identifier (\(e.sourceText))"))
        }
        let stored: [String?]
        do {
            guard let values = try store.values(group, id: id, names: e.features) else {
                guard let defaults = e.defaults else {
                    return .failure(Refusal(status: .notFound, message: "Not Found: no record '\(id)' in feature group \(e.group)"))
                }
                return .success(Self.row(own, defaults))
            }
            stored = values
        } catch {
            return .failure(Refusal(status: .internalServerError, message: "Internal Server Error: feature group \(e.group): \(error)"))
        }
        let filled = stored.enumerated().map { i, v in v ?? e.defaults?[i] ?? "" }
        return .success(Self.row(own, filled))
    }

    /// The request's rows, each followed by the stored features.
    static func row(_ own: String, _ stored: [String]) -> ByteBuffer {
        let tail = stored.joined(separator: ",")
        let lines = own.split(separator: "\n", omittingEmptySubsequences: true).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        guard !lines.isEmpty else { return ByteBuffer(string: tail) }
        return ByteBuffer(string: lines.map { $0.isEmpty ? tail : $0 + "," + tail }.joined(separator: "\n"))
    }

    func requestBytes() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(bodyLength)
        for part in body { bytes += part.readableBytesView }
        return bytes
    }

    func requestText() -> String { String(decoding: requestBytes(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
}
