import EnvironmentAPI
import Foundation
import Reconciler

/// Calls an environment host's control API through the typed table (`ControlCollection`); turns
/// its errors into `ProviderError`s.
struct HostClient: Sendable {
    var controlPort: Int

    /// Converges one resource to `configuration`; answers once the host has.
    func put<C: ControlConfiguration>(_ configuration: C, timeout: Double = 10) async throws -> C.Status {
        try await call("PUT", C.collection.path(configuration.name), body: configuration, timeout: timeout, as: C.Status.self)
    }

    func delete(_ collection: ControlCollection, _ name: String, timeout: Double = 10) async throws {
        _ = try await call("DELETE", collection.path(name), timeout: timeout, as: ControlAcknowledgement.self)
    }

    func snapshot() async throws -> EnvironmentSnapshot {
        try await call("GET", ControlPath.snapshot, timeout: 10, as: EnvironmentSnapshot.self)
    }

    func call<T: Decodable>(_ method: String, _ path: String, body: (some Encodable)? = Optional<Int>.none,
                            timeout: Double, as type: T.Type) async throws -> T {
        let bytes = try body.map { Array(try JSONEncoder().encode($0)) } ?? []
        let response: LoopbackHTTP.Response
        do {
            response = try await LoopbackHTTP.send(method, port: controlPort, path: path,
                                                   headers: ["Content-Type": "application/json"], body: bytes, timeout: timeout)
        } catch {
            throw ProviderError("the environment host does not answer (\(error))")
        }
        guard response.status == 200 else {
            if let e = try? JSONDecoder().decode(ControlError.self, from: Data(response.body)) {
                throw ProviderError(e.message, terminal: e.terminal)
            }
            throw ProviderError("environment host answered HTTP \(response.status): \(response.text)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(response.body))
        } catch {
            throw ProviderError("unexpected answer from the environment host: \(error)")
        }
    }
}
