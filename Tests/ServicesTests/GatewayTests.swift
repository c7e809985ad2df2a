import _CryptoExtras
import Crypto
import EnvironmentAPI
import Foundation
@testable import Services
import Testing

func route(_ key: String) -> CompiledRoute {
    let parts = key.split(separator: " ")
    return CompiledRoute(RouteConfiguration(key: key, method: String(parts[0]), path: String(parts[1]), integration: .mock(status: 200, contentType: "text/plain", body: ""),
                                            authorization: .none, timeout: 29, throttle: nil), stage: "v1", metrics: RouteMetrics(), bucket: nil)
}

struct RouteCase: Sendable, CustomTestStringConvertible {
    var method: String
    var path: String
    var expected: String?
    var params: [String: String]
    var testDescription: String { "\(method) \(path)" }
}

@Test(arguments: [
    RouteCase(method: "GET", path: "/items/42", expected: "GET /items/{id}", params: ["id": "42"]),
    RouteCase(method: "GET", path: "/items/special", expected: "GET /items/special", params: [:]),
    RouteCase(method: "GET", path: "/items/a%20b", expected: "GET /items/{id}", params: ["id": "a b"]),
    RouteCase(method: "POST", path: "/items/42", expected: "ANY /items/{id}", params: ["id": "42"]),
    RouteCase(method: "GET", path: "/files/a/b/c.txt", expected: "GET /files/{path+}", params: ["path": "a/b/c.txt"]),
    RouteCase(method: "GET", path: "/files", expected: nil, params: [:]),
    RouteCase(method: "GET", path: "/items/42/extra", expected: nil, params: [:]),
    RouteCase(method: "DELETE", path: "/", expected: nil, params: [:]),
])
func routesMatchTheMostSpecificFirst(_ c: RouteCase) {
    let routes = ["GET /files/{path+}", "ANY /items/{id}", "GET /items/{id}", "GET /items/special"].map(route).sorted { $0.specificity < $1.specificity }
    let stage = CompiledStage(config: StageConfiguration(name: "v1", routes: [], cors: nil, maxBodyBytes: 100, throttle: nil, authorizers: []),
                              routes: routes, verifiers: [:], bucket: nil)
    let found = stage.route(method: c.method, parts: c.path.split(separator: "/")[...])
    #expect(found?.0.config.key == c.expected)
    #expect((found?.1 ?? [:]) == c.params)
}

@Test func tokenBucketsAdmitBurstThenRate() {
    var b = TokenBucket(tokens: 3, last: 0)
    let admitted = (0..<5).filter { _ in b.take(rate: 10, burst: 3, now: 0) }.count
    #expect(admitted == 3)
    let halfToken = b.take(rate: 10, burst: 3, now: 50_000_000)     // half a token after 50 ms
    let oneToken = b.take(rate: 10, burst: 3, now: 100_000_000)     // one after 100 ms
    #expect(!halfToken && oneToken)
    #expect((0..<10).filter { _ in b.take(rate: 10, burst: 3, now: 10_000_000_000) }.count == 3, "never more than the burst")
}

@Test func quotaPeriodsAreUTCDaysISOWeeksAndMonths() {
    let date = Date(timeIntervalSince1970: 1_795_699_348)   // 2026-11-26
    #expect(GatewayState.periodID(.day, at: date) == "2026-11-26")
    #expect(GatewayState.periodID(.week, at: date) == "2026-W48")
    #expect(GatewayState.periodID(.month, at: date) == "2026-11")
}

func b64url(_ data: Data) -> String {
    data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
}

func token(_ claims: [String: Any], kid: String, alg: String, sign: (Data) throws -> Data) throws -> String {
    let header = b64url(try JSONSerialization.data(withJSONObject: ["alg": alg, "kid": kid, "typ": "JWT"]))
    let body = b64url(try JSONSerialization.data(withJSONObject: claims))
    return "\(header).\(body).\(b64url(try sign(Data("\(header).\(body)".utf8))))"
}

@Test func jwtVerificationChecksSignatureIssuerAudienceExpiryAndScopes() throws {
    let ec = P256.Signing.PrivateKey()
    let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
    let raw = ec.publicKey.rawRepresentation
    let rsaPublic = rsa.publicKey
    // The RSA key's modulus and exponent for the JWKS, from its PKCS#1 DER (SEQUENCE { n, e }).
    let (n, e) = try rsaComponents(Array(rsaPublic.pkcs1DERRepresentation))
    let jwks = try JSONSerialization.data(withJSONObject: ["keys": [
        ["kty": "EC", "crv": "P-256", "kid": "ec", "x": b64url(raw.prefix(32)), "y": b64url(raw.suffix(32))],
        ["kty": "RSA", "kid": "rsa", "n": b64url(Data(n)), "e": b64url(Data(e))],
    ]])
    let verifier = try JWTVerifier(config: JWTAuthorizer(name: "a", issuer: "https://id/", audiences: ["api"]), jwks: jwks)
    let now = Date().timeIntervalSince1970
    let good: [String: Any] = ["iss": "https://id/", "aud": "api", "exp": now + 60, "scope": "read write", "sub": "u"]
    let es = { (claims: [String: Any]) in try token(claims, kid: "ec", alg: "ES256") { try ec.signature(for: $0).rawRepresentation } }
    let rs = { (claims: [String: Any]) in try token(claims, kid: "rsa", alg: "RS256") { try rsa.signature(for: $0, padding: .insecurePKCS1v1_5).rawRepresentation } }

    guard case .success(let claims) = verifier.verify("Bearer " + (try es(good))) else { Issue.record("ES256 refused"); return }
    #expect(claims.scopes == ["read", "write"] && claims.all["sub"] as? String == "u")
    guard case .success = verifier.verify("Bearer " + (try rs(good))) else { Issue.record("RS256 refused"); return }
    var wrong = good
    for (key, value) in [("iss", "https://other/" as Any), ("aud", ["x", "y"] as Any), ("exp", now - 1 as Any), ("nbf", now + 60 as Any)] {
        wrong = good
        wrong[key] = value
        guard case .failure = verifier.verify("Bearer " + (try es(wrong))) else { Issue.record("accepted a token with a bad \(key)"); return }
    }
    var multi = good
    multi["aud"] = ["other", "api"]
    guard case .success = verifier.verify(try es(multi)) else { Issue.record("refused an audience list"); return }
    let forged = try es(good).split(separator: ".").prefix(2).joined(separator: ".") + "." + b64url(Data(repeating: 1, count: 64))
    guard case .failure = verifier.verify("Bearer " + forged) else { Issue.record("accepted a forged signature"); return }
    let swapped = try token(good, kid: "rsa", alg: "ES256") { try ec.signature(for: $0).rawRepresentation }
    guard case .failure = verifier.verify("Bearer " + swapped) else { Issue.record("accepted an ES256 signature under an RSA key"); return }
    guard case .failure = verifier.verify(nil) else { Issue.record("accepted no token"); return }
}

/// n and e from an RSAPublicKey in DER.
func rsaComponents(_ der: [UInt8]) throws -> ([UInt8], [UInt8]) {
    var i = 0
    func length() -> Int {
        let first = Int(der[i]); i += 1
        guard first & 0x80 != 0 else { return first }
        var n = 0
        for _ in 0..<(first & 0x7f) { n = n << 8 | Int(der[i]); i += 1 }
        return n
    }
    func integer() -> [UInt8] {
        i += 1  // INTEGER tag
        let n = length()
        var bytes = Array(der[i..<i + n])
        i += n
        while bytes.first == 0 && bytes.count > 1 { bytes.removeFirst() }
        return bytes
    }
    i += 1  // SEQUENCE tag
    _ = length()
    return (integer(), integer())
}
