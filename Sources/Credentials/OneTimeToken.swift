import ByteCoding

/// Single-use tokens mailed to a user (password reset, email verification).
///
/// The token goes to the user; only its SHA-256 is stored, so a leaked database cannot be
/// replayed as reset links. The token carries 256 random bits, so a plain fast hash suffices:
/// there is nothing to brute-force. Lifetimes (30 minutes for a reset, 24 hours for a
/// verification) belong to the store that keeps the hash with its expiry.
public struct OneTimeToken: Sendable {
    /// How many random bytes a token carries: 256 bits, beyond any online or offline guessing.
    public static let byteCount = 32

    /// A fresh token (32 random bytes, base64url without padding: 43 characters) and the hash to
    /// store for it.
    public static func generate() -> (token: String, hash: String) {
        let token = Base64URL.encode(OpenSSLCrypto.randomBytes(byteCount))
        return (token, hash(token))
    }

    /// The lowercase hex SHA-256 of the token's UTF-8 bytes: what the store keeps and looks up.
    ///
    /// Any string is accepted, so a lookup with a mangled token simply finds nothing.
    public static func hash(_ token: String) -> String {
        Hex.encode(Digest.sha256(Array(token.utf8)))
    }
}

