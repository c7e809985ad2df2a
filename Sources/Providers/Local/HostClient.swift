import EnvironmentAPI
import Foundation
import Reconciler

/// Calls an environment host's control API; turns its errors into `ProviderError`s.
struct HostClient: Sendable {
    var controlPort: Int

    func call<T: Decodable>(_ method: String, _ path: String, body: (some Encodable)? = Optional<Int>.none,
                            timeout: Double = 10, as type: T.Type) async throws -> T {
        let bytes = try body.map { Array(try JSONEncoder().encode($0)) } ?? []
        let response: LoopbackHTTP.Response
        do {
            response = try await LoopbackHTTP.send(method, port: controlPort, path: "/_control" + path,
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
