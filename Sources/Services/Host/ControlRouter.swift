import EnvironmentAPI
import Foundation
import NIOConcurrencyHelpers

/// The host's side of the control table: each service registers the PUT and DELETE of the
/// collections it owns, with their typed configuration and status; the router decodes, calls and
/// encodes. A collection nobody registered answers 404.
final class ControlRouter: @unchecked Sendable {
    private struct Entry {
        var put: @Sendable (Data, String) async throws -> Data
        var delete: @Sendable (String) async -> Void
    }

    private let lock = NIOLock()
    private var entries: [ControlCollection: Entry] = [:]
    /// `POST /_control/COLLECTION/NAME/ACTION`, by collection and action.
    private var actions: [String: @Sendable (Data, String) async throws -> Data] = [:]
    /// Calls on the environment as a whole (`POST /_control/clock/advance`), by method and path.
    private var calls: [String: @Sendable (Data) async throws -> Data] = [:]
    /// Told of every resource a PUT converged or a DELETE removed (the bus turns them into events).
    private var changed: (@Sendable (ControlCollection, String, _ deleted: Bool) -> Void)?

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    func on<C: ControlConfiguration>(_ type: C.Type, put: @escaping @Sendable (C) async throws -> C.Status,
                                     delete: @escaping @Sendable (String) async -> Void) {
        let entry = Entry(put: { body, name in
            var configuration = try JSONDecoder().decode(C.self, from: body)
            // The path names the resource; the body cannot put it somewhere else.
            configuration.name = name
            let status = try Self.encoder.encode(try await put(configuration))
            self.lock.withLock { self.changed }?(C.collection, name, false)
            return status
        }, delete: { name in
            await delete(name)
            self.lock.withLock { self.changed }?(C.collection, name, true)
        })
        lock.withLock { entries[C.collection] = entry }
    }

    /// A call on one resource that is not its configuration (`POST .../NAME/records`).
    func onAction<Request: Decodable, Response: Encodable>(_ collection: ControlCollection, _ action: String, _ request: Request.Type,
                                                           _ handle: @escaping @Sendable (String, Request) async throws -> Response) {
        lock.withLock {
            actions[collection.rawValue + "/" + action] = { body, name in
                try Self.encoder.encode(try await handle(name, try JSONDecoder().decode(Request.self, from: body)))
            }
        }
    }

    /// A call on the environment as a whole: `handle` gets the request body and answers JSON.
    func onCall<Request: Decodable, Response: Encodable>(_ method: String, _ path: String, _ request: Request.Type,
                                                        _ handle: @escaping @Sendable (Request) async throws -> Response) {
        lock.withLock {
            calls[method + " " + path] = { body in
                let decoded = try JSONDecoder().decode(Request.self, from: body.isEmpty ? Data("{}".utf8) : body)
                return try Self.encoder.encode(try await handle(decoded))
            }
        }
    }

    func onChange(_ body: @escaping @Sendable (ControlCollection, String, _ deleted: Bool) -> Void) {
        lock.withLock { changed = body }
    }

    /// The collections some service registered.
    var collections: Set<ControlCollection> { lock.withLock { Set(entries.keys) } }

    /// PUT or DELETE of `/_control/COLLECTION/NAME`; nil when no registered collection matches.
    func handle(method: String, path: String, body: Data) async -> (status: Int, body: Data)? {
        if let call = lock.withLock({ calls[method + " " + path] }) {
            return await Self.answer(badBody: "bad request body") { (200, try await call(body)) }
        }
        if method == "POST", path.hasPrefix(ControlPath.prefix) {
            // COLLECTION/NAME/ACTION, where COLLECTION may hold a slash itself.
            let parts = path.dropFirst(ControlPath.prefix.count).split(separator: "/").map(String.init)
            if parts.count >= 3, let action = lock.withLock({ actions[parts.dropLast(2).joined(separator: "/") + "/" + parts.last!] }) {
                return await Self.answer(badBody: "bad request body") { (200, try await action(body, parts[parts.count - 2])) }
            }
        }
        guard let (collection, name) = ControlCollection.parse(path), let entry = lock.withLock({ entries[collection] }) else { return nil }
        return await Self.answer(badBody: "bad \(collection.rawValue) configuration for '\(name)'") {
            switch method {
            case "PUT":
                return (200, try await entry.put(body, name))
            case "DELETE":
                await entry.delete(name)
                return (200, try Self.encoder.encode(ControlAcknowledgement(applied: name)))
            default:
                return (405, Self.error(ControlError(message: "\(collection.rawValue) take PUT or DELETE, not \(method)", terminal: true)))
            }
        }
    }

    /// A call's answer, its errors as the control API's error bodies: a terminal error 422, a
    /// body that does not decode 400, anything else 503 (another apply may pass).
    static func answer(badBody: String, _ call: () async throws -> (Int, Data)) async -> (status: Int, body: Data) {
        do {
            return try await call()
        } catch let error as ControlError {
            return (error.terminal ? 422 : 503, Self.error(error))
        } catch let error as DecodingError {
            return (400, Self.error(ControlError(message: "\(badBody): \(error)", terminal: true)))
        } catch {
            return (503, Self.error(ControlError(message: "\(error)", terminal: false)))
        }
    }

    static func error(_ e: ControlError) -> Data { (try? encoder.encode(e)) ?? Data("{}".utf8) }
}
