import ByteCoding
import Testing
@testable import Credentials
import Handlers

/// RFC 7515 appendix A.1: the HS256 example, byte for byte.
enum RFC7515A1 {
    /// `{"typ":"JWT",\r\n "alg":"HS256"}`, as listed in A.1.1.
    static let header: [UInt8] = [
        123, 34, 116, 121, 112, 34, 58, 34, 74, 87, 84, 34, 44, 13, 10, 32, 34, 97, 108, 103, 34, 58, 34,
        72, 83, 50, 53, 54, 34, 125,
    ]
    static let encodedHeader = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    /// `{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}`.
    static let payload = Array("{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}".utf8)
    static let encodedPayload =
        "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    /// The JWK `k` value of the example's HMAC key.
    static let encodedKey = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
    static let signature: [UInt8] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105,
        214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ]
    static let encodedSignature = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    static var token: String { encodedHeader + "." + encodedPayload + "." + encodedSignature }
}

let testSecret = [UInt8](repeating: 0x42, count: 32)
let sampleClaims = TokenClaims(subject: 42, sessionID: "s-7f3a", issuedAt: 1_700_000_000, expiresAt: 1_700_003_600)

/// A compact token with arbitrary header and payload text, signed with HMAC-SHA256 under `secret`
/// whatever the header says.
func forge(header: String, payload: String, secret: [UInt8] = testSecret) -> String {
    let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
    return input + "." + Base64URL.encode(Digest.hmacSHA256(key: secret, message: Array(input.utf8)))
}

let goodHeader = #"{"alg":"HS256","typ":"JWT"}"#
let goodPayload = #"{"sub":42,"sid":"s-7f3a","iat":1700000000,"exp":1700003600}"#

@Suite struct TokenSignerTests {
    @Test func rfc7515A1EncodesAndSignsByteExactly() throws {
        #expect(Base64URL.encode(RFC7515A1.header) == RFC7515A1.encodedHeader)
        #expect(Base64URL.encode(RFC7515A1.payload) == RFC7515A1.encodedPayload)
        let key = try #require(Base64URL.decode(Array(RFC7515A1.encodedKey.utf8)))
        #expect(key.count == 64)
        let signingInput = Array((RFC7515A1.encodedHeader + "." + RFC7515A1.encodedPayload).utf8)
        let tag = Digest.hmacSHA256(key: key, message: signingInput)
        #expect(tag == RFC7515A1.signature)
        #expect(Base64URL.encode(tag) == RFC7515A1.encodedSignature)
        #expect(Base64URL.decode(Array(RFC7515A1.encodedSignature.utf8)) == RFC7515A1.signature)
    }

    @Test func rfc7515A1PassesHeaderAndSignatureChecksButLacksOurClaims() throws {
        let key = try #require(Base64URL.decode(Array(RFC7515A1.encodedKey.utf8)))
        // The signature is accepted (CRLF-laden header, typ JWT, alg HS256); only the claim set
        // (no sub, sid, iat) is not ours.
        #expect(throws: TokenError.malformed) { try TokenSigner(secret: key).verify(RFC7515A1.token, now: 0) }
        var otherKey = key
        otherKey[0] ^= 1
        #expect(throws: TokenError.badSignature) { try TokenSigner(secret: otherKey).verify(RFC7515A1.token, now: 0) }
    }

    @Test func signsWithTheFixedHeader() {
        let token = TokenSigner(secret: testSecret).sign(sampleClaims)
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        #expect(parts[0] == "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9")
        #expect(Base64URL.decode(Array(parts[1].utf8)).map { String(decoding: $0, as: UTF8.self) } == goodPayload)
        #expect(token == forge(header: goodHeader, payload: goodPayload))
    }

    @Test(arguments: [
        sampleClaims,
        TokenClaims(subject: Int64.max, sessionID: "ünïcødé \"quoted\" \\ /", issuedAt: 0, expiresAt: Int64.max),
        TokenClaims(subject: -1, sessionID: "x", issuedAt: -5, expiresAt: 1),
    ])
    func roundTrips(claims: TokenClaims) throws {
        let signer = TokenSigner(secret: testSecret)
        #expect(try signer.verify(signer.sign(claims), now: claims.expiresAt - 1) == claims)
    }

    @Test func expiresAtExp() throws {
        let signer = TokenSigner(secret: testSecret)
        let token = signer.sign(sampleClaims)
        #expect(try signer.verify(token, now: sampleClaims.expiresAt - 1) == sampleClaims)
        #expect(throws: TokenError.expired) { try signer.verify(token, now: sampleClaims.expiresAt) }
        #expect(throws: TokenError.expired) { try signer.verify(token, now: sampleClaims.expiresAt + 86_400) }
    }

    @Test func otherSecretIsBadSignature() {
        let token = TokenSigner(secret: testSecret).sign(sampleClaims)
        let other = TokenSigner(secret: [UInt8](repeating: 0x43, count: 32))
        #expect(throws: TokenError.badSignature) { try other.verify(token, now: 0) }
    }

    @Test func tamperedPartsAreBadSignature() {
        let signer = TokenSigner(secret: testSecret)
        let parts = signer.sign(sampleClaims).split(separator: ".").map(String.init)
        // Payload: a different subject under the original signature.
        let otherPayload = Base64URL.encode(Array(goodPayload.replacingOccurrences("42", "43").utf8))
        #expect(throws: TokenError.badSignature) { try signer.verify(parts[0] + "." + otherPayload + "." + parts[2], now: 0) }
        // Header: same meaning, different bytes.
        let otherHeader = Base64URL.encode(Array(#"{"typ":"JWT","alg":"HS256"}"#.utf8))
        #expect(throws: TokenError.badSignature) { try signer.verify(otherHeader + "." + parts[1] + "." + parts[2], now: 0) }
        // Signature: first character changed, or truncated by a whole byte group.
        var signature = Array(parts[2].utf8)
        signature[0] = signature[0] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let flipped = String(decoding: signature, as: UTF8.self)
        #expect(throws: TokenError.badSignature) { try signer.verify(parts[0] + "." + parts[1] + "." + flipped, now: 0) }
        #expect(throws: TokenError.badSignature) { try signer.verify(parts[0] + "." + parts[1] + "." + String(parts[2].dropLast(3)), now: 0) }
        #expect(throws: TokenError.badSignature) { try signer.verify(parts[0] + "." + parts[1] + ".", now: 0) }
    }

    @Test(arguments: [
        #"{"alg":"none","typ":"JWT"}"#,
        #"{"alg":"HS512","typ":"JWT"}"#,
        #"{"alg":"RS256","typ":"JWT"}"#,
        #"{"alg":"hs256"}"#,
        #"{"alg":"HS256 "}"#,
        #"{"typ":"JWT"}"#,
        #"{"alg":null}"#,
        #"{"alg":["HS256"]}"#,
        #"{}"#,
    ])
    func unsupportedAlgorithms(header: String) {
        let signer = TokenSigner(secret: testSecret)
        #expect(throws: TokenError.unsupportedAlgorithm) { try signer.verify(forge(header: header, payload: goodPayload), now: 0) }
    }

    @Test func algNoneWithEmptySignature() {
        let unsigned = Base64URL.encode(Array(#"{"alg":"none"}"#.utf8)) + "." + Base64URL.encode(Array(goodPayload.utf8)) + "."
        #expect(throws: TokenError.unsupportedAlgorithm) { try TokenSigner(secret: testSecret).verify(unsigned, now: 0) }
    }

    @Test(arguments: [
        #"{"alg":"HS256","typ":"JWS"}"#,
        #"{"alg":"HS256","crit":["exp"]}"#,
        #"{"alg":"HS256","alg":"none"}"#,
        #"["HS256"]"#,
        #"{"alg":"HS256""#,
        "not json",
        "",
    ])
    func malformedHeaders(header: String) {
        #expect(throws: TokenError.malformed) {
            try TokenSigner(secret: testSecret).verify(forge(header: header, payload: goodPayload), now: 0)
        }
    }

    @Test func headerWithoutTypIsAccepted() throws {
        let token = forge(header: #"{"alg":"HS256"}"#, payload: goodPayload)
        #expect(try TokenSigner(secret: testSecret).verify(token, now: 0) == sampleClaims)
    }

    @Test(arguments: [
        #"{"sid":"s-7f3a","iat":1700000000,"exp":1700003600}"#,
        #"{"sub":42,"iat":1700000000,"exp":1700003600}"#,
        #"{"sub":42,"sid":"s-7f3a","exp":1700003600}"#,
        #"{"sub":42,"sid":"s-7f3a","iat":1700000000}"#,
        #"{"sub":"42","sid":"s-7f3a","iat":1700000000,"exp":1700003600}"#,
        #"{"sub":42.5,"sid":"s-7f3a","iat":1700000000,"exp":1700003600}"#,
        #"{"sub":9223372036854775808,"sid":"s-7f3a","iat":1700000000,"exp":1700003600}"#,
        #"{"sub":42,"sid":7,"iat":1700000000,"exp":1700003600}"#,
        #"{"sub":42,"sid":"","iat":1700000000,"exp":1700003600}"#,
        #"{"sub":42,"sid":"s-7f3a","iat":"1700000000","exp":1700003600}"#,
        #"{"sub":42,"sid":"s-7f3a","iat":1700000000,"exp":null}"#,
        #"{"sub":42,"sid":"s-7f3a","iat":1700000000,"exp":1700003600.5}"#,
        #"{"sub":42,"sub":43,"sid":"s-7f3a","iat":1700000000,"exp":1700003600}"#,
        #"[42,"s-7f3a",1700000000,1700003600]"#,
        "42",
        "{",
    ])
    func missingOrMistypedClaims(payload: String) {
        #expect(throws: TokenError.malformed) {
            try TokenSigner(secret: testSecret).verify(forge(header: goodHeader, payload: payload), now: 0)
        }
    }

    @Test(arguments: [
        "",
        ".",
        "..",
        "a.b",
        "a.b.c.d",
        "...",
    ])
    func wrongShape(token: String) {
        #expect(throws: TokenError.malformed) { try TokenSigner(secret: testSecret).verify(token, now: 0) }
    }

    @Test func extraDotsAreMalformed() {
        let token = TokenSigner(secret: testSecret).sign(sampleClaims)
        let signer = TokenSigner(secret: testSecret)
        #expect(throws: TokenError.malformed) { try signer.verify(token + ".", now: 0) }
        #expect(throws: TokenError.malformed) { try signer.verify(token + ".e30", now: 0) }
        #expect(throws: TokenError.malformed) { try signer.verify("." + token, now: 0) }
        #expect(throws: TokenError.malformed) { try signer.verify(token.replacingOccurrences(".", ".."), now: 0) }
    }

    @Test(arguments: ["+", "/", "=", " ", "\n", "%", "é"])
    func nonBase64URLCharactersAreMalformed(character: String) {
        let signer = TokenSigner(secret: testSecret)
        let parts = signer.sign(sampleClaims).split(separator: ".").map(String.init)
        #expect(throws: TokenError.malformed) { try signer.verify(character + parts[0] + "." + parts[1] + "." + parts[2], now: 0) }
        #expect(throws: TokenError.malformed) { try signer.verify(parts[0] + "." + parts[1] + "." + parts[2] + character, now: 0) }
        // Inside the payload the signature no longer matches, and that is checked first.
        #expect(throws: TokenError.badSignature) { try signer.verify(parts[0] + "." + parts[1] + character + "." + parts[2], now: 0) }
    }

    @Test func paddedSignatureIsMalformed() {
        let token = TokenSigner(secret: testSecret).sign(sampleClaims)
        #expect(throws: TokenError.malformed) { try TokenSigner(secret: testSecret).verify(token + "=", now: 0) }
    }

    @Test func sizeLimit() throws {
        let signer = TokenSigner(secret: testSecret)
        // A valid token padded by a long session id, just under and just over the limit.
        func token(sessionIDLength: Int) -> String {
            signer.sign(TokenClaims(subject: 1, sessionID: String(repeating: "s", count: sessionIDLength), issuedAt: 0, expiresAt: 10))
        }
        var length = 2900
        while token(sessionIDLength: length + 1).utf8.count <= TokenSigner.maxTokenBytes { length += 1 }
        #expect(token(sessionIDLength: length).utf8.count <= TokenSigner.maxTokenBytes)
        #expect(try signer.verify(token(sessionIDLength: length), now: 0).sessionID.count == length)
        #expect(throws: TokenError.malformed) { try signer.verify(token(sessionIDLength: length + 1), now: 0) }
        #expect(throws: TokenError.malformed) { try signer.verify(String(repeating: "A", count: 1 << 20), now: 0) }
    }
}

extension String {
    /// Plain substring replacement without Foundation.
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
