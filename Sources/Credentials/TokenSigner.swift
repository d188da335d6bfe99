import ByteCoding
public import Handlers
import JSON

/// Signs and verifies session tokens as HS256 JSON Web Tokens (RFC 7519 over RFC 7515's compact
/// serialization).
///
/// Only what Faros issues is accepted: `alg` exactly `HS256` (never `none`, never a key-confusion
/// algorithm), a valid signature checked in constant time before the claims are even parsed, and
/// the four claims `sub`, `sid`, `iat`, `exp` with integer/string types. JSON goes through the
/// `JSONRPC` module's parser and writer, which keep numbers exact and report duplicate names.
public struct TokenSigner: TokenSigning {
    /// The largest token accepted, checked before any decoding (the domain checks the same bound).
    public static let maxTokenBytes = TokenLimits.maxTokenBytes

    /// The shortest secret accepted: 256 bits, HMAC-SHA256's full strength (RFC 7518 §3.2).
    public static let minimumSecretBytes = 32

    /// `{"alg":"HS256","typ":"JWT"}`, base64url: every token this signer issues starts with it.
    private static let encodedHeader = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))

    let secret: [UInt8]

    /// A signer for `secret`, which must be at least ``minimumSecretBytes`` long (a programming
    /// or deployment error otherwise; ``SecretStore`` always yields 64 bytes).
    public init(secret: [UInt8]) {
        precondition(secret.count >= Self.minimumSecretBytes, "a JWT secret needs at least 32 bytes")
        self.secret = secret
    }

    /// The compact JWT for `claims`.
    public func sign(_ claims: TokenClaims) -> String {
        var payload = JSONObject()
        payload.append(key: "sub", value: .number(JSONNumber(claims.subject)))
        payload.append(key: "sid", value: .string(claims.sessionID))
        payload.append(key: "iat", value: .number(JSONNumber(claims.issuedAt)))
        payload.append(key: "exp", value: .number(JSONNumber(claims.expiresAt)))
        let signingInput = Self.encodedHeader + "." + Base64URL.encode(JSONWriter.serialize(.object(payload)))
        let tag = Digest.hmacSHA256(key: secret, message: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(tag)
    }

    /// The claims of `token` if it is well-formed, HS256, correctly signed and not expired at
    /// `now` (seconds since the epoch).
    ///
    /// Checks run cheapest and least trusting first: size, shape, header algorithm, signature
    /// (constant time), and only then the claims and their expiry.
    public func verify(_ token: String, now: Int64) throws(TokenError) -> TokenClaims {
        let bytes = Array(token.utf8)
        guard bytes.count <= Self.maxTokenBytes else { throw .malformed }
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed }

        guard let headerBytes = Base64URL.decode(parts[0]),
              let header = Self.parseObject(headerBytes)
        else { throw .malformed }
        try Self.checkHeader(header)

        guard let signature = Base64URL.decode(parts[2]) else { throw .malformed }
        guard signature.count == Digest.sha256Length else { throw .badSignature }
        let signingInput = Array(bytes[..<parts[1].endIndex])
        let expected = Digest.hmacSHA256(key: secret, message: signingInput)
        guard OpenSSLCrypto.constantTimeEqual(expected, signature) else { throw .badSignature }

        guard let payloadBytes = Base64URL.decode(parts[1]),
              let payload = Self.parseObject(payloadBytes)
        else { throw .malformed }
        let claims = try Self.claims(from: payload)
        // RFC 7519 §4.1.4: the token is valid only before `exp`.
        guard now < claims.expiresAt else { throw .expired }
        return claims
    }

    /// A JSON object without repeated member names, or nil.
    ///
    /// Repeated names are refused because parsers disagree on which one wins, and a token should
    /// mean one thing to every reader.
    private static func parseObject(_ bytes: [UInt8]) -> JSONObject? {
        guard let value = try? JSONParser(maxDepth: 8).parse(bytes),
              let object = value.objectValue, object.duplicateKey == nil
        else { return nil }
        return object
    }

    /// Accepts exactly HS256, an optional `typ` of `JWT`, and no critical extensions.
    private static func checkHeader(_ header: JSONObject) throws(TokenError) {
        guard case .string("HS256")? = header["alg"] else { throw .unsupportedAlgorithm }
        if let typ = header["typ"] {
            guard case .string("JWT") = typ else { throw .malformed }
        }
        // RFC 7515 §4.1.11: extensions listed in `crit` must be understood; we understand none.
        guard header["crit"] == nil else { throw .malformed }
    }

    private static func claims(from payload: JSONObject) throws(TokenError) -> TokenClaims {
        guard let subject = payload["sub"]?.numberValue?.int64,
              let sessionID = payload["sid"]?.stringValue, !sessionID.isEmpty,
              let issuedAt = payload["iat"]?.numberValue?.int64,
              let expiresAt = payload["exp"]?.numberValue?.int64
        else { throw .malformed }
        return TokenClaims(subject: subject, sessionID: sessionID, issuedAt: issuedAt, expiresAt: expiresAt)
    }
}
