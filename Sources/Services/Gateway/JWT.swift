import _CryptoExtras
import Crypto
import EnvironmentAPI
import Foundation

/// A public key of a JWKS: RSA (RS256) or P-256 (ES256).
enum JWTKey: @unchecked Sendable {
    case rsa(_RSA.Signing.PublicKey)
    case p256(P256.Signing.PublicKey)
}

/// Verifies bearer tokens for one authorizer, as API Gateway's JWT authorizers do: signature by
/// a key of the JWKS (by `kid`), `iss` equal to the issuer, `aud` (or `client_id`) among the
/// audiences, `exp` in the future and `nbf` in the past; scopes from `scope` or `scp`.
struct JWTVerifier: Sendable {
    struct Claims: @unchecked Sendable {
        var all: [String: Any]
        var scopes: [String]
    }

    enum Failure: Error, Equatable {
        /// No token, or one that is not valid: 401.
        case unauthorized(String)
    }

    let config: JWTAuthorizer
    let keys: [String: JWTKey]
    /// Keys without a `kid`, tried in turn.
    let anonymous: [JWTKey]

    init(config: JWTAuthorizer, jwks: Data) throws {
        self.config = config
        guard let object = try JSONSerialization.jsonObject(with: jwks) as? [String: Any], let list = object["keys"] as? [[String: Any]] else {
            throw JWKSError("the JWKS is not a JSON object with a 'keys' list")
        }
        var keys: [String: JWTKey] = [:]
        var anonymous: [JWTKey] = []
        for jwk in list {
            let key: JWTKey
            switch jwk["kty"] as? String {
            case "RSA":
                guard let n = (jwk["n"] as? String).flatMap(Self.base64URL), let e = (jwk["e"] as? String).flatMap(Self.base64URL) else { continue }
                key = .rsa(try _RSA.Signing.PublicKey(n: n, e: e))
            case "EC" where jwk["crv"] as? String == "P-256":
                guard let x = (jwk["x"] as? String).flatMap(Self.base64URL), let y = (jwk["y"] as? String).flatMap(Self.base64URL) else { continue }
                key = .p256(try P256.Signing.PublicKey(rawRepresentation: x + y))
            default:
                continue
            }
            if let kid = jwk["kid"] as? String { keys[kid] = key } else { anonymous.append(key) }
        }
        guard !keys.isEmpty || !anonymous.isEmpty else { throw JWKSError("the JWKS has no RSA or P-256 key") }
        self.keys = keys
        self.anonymous = anonymous
    }

    func verify(_ authorization: String?, now: Double = Date().timeIntervalSince1970) -> Result<Claims, Failure> {
        guard var token = authorization?.trimmingCharacters(in: .whitespaces), !token.isEmpty else { return .failure(.unauthorized("no token")) }
        if token.lowercased().hasPrefix("bearer ") { token = String(token.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Self.base64URL(String(parts[0])), let payloadData = Self.base64URL(String(parts[1])),
              let signature = Self.base64URL(String(parts[2])),
              let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any],
              let claims = (try? JSONSerialization.jsonObject(with: payloadData)) as? [String: Any] else {
            return .failure(.unauthorized("malformed token"))
        }
        let signed = Data(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        let candidates: [JWTKey] = (header["kid"] as? String).map { kid in keys[kid].map { [$0] } ?? [] } ?? Array(keys.values) + anonymous
        let alg = header["alg"] as? String
        let valid = candidates.contains { key in
            switch (key, alg) {
            case (.rsa(let k), "RS256"?):
                return k.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: signed), padding: .insecurePKCS1v1_5)
            case (.p256(let k), "ES256"?):
                guard let s = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
                return k.isValidSignature(s, for: SHA256.hash(data: signed))
            default:
                return false
            }
        }
        guard valid else { return .failure(.unauthorized("bad signature")) }
        guard let exp = (claims["exp"] as? NSNumber)?.doubleValue, exp > now else { return .failure(.unauthorized("expired")) }
        if let nbf = (claims["nbf"] as? NSNumber)?.doubleValue, nbf > now + 1 { return .failure(.unauthorized("not yet valid")) }
        guard claims["iss"] as? String == config.issuer else { return .failure(.unauthorized("wrong issuer")) }
        var audiences: [String] = []
        if let a = claims["aud"] as? String { audiences = [a] } else if let a = claims["aud"] as? [String] { audiences = a }
        if audiences.isEmpty, let c = claims["client_id"] as? String { audiences = [c] }
        guard audiences.contains(where: config.audiences.contains) else { return .failure(.unauthorized("wrong audience")) }
        var scopes: [String] = []
        if let s = claims["scope"] as? String { scopes = s.split(separator: " ").map(String.init) }
        else if let s = claims["scp"] as? [String] { scopes = s }
        else if let s = claims["scp"] as? String { scopes = s.split(separator: " ").map(String.init) }
        return .success(Claims(all: claims, scopes: scopes))
    }

    static func base64URL(_ text: String) -> Data? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s)
    }
}

struct JWKSError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
