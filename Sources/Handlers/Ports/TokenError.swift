/// Why a token was refused.
///
/// All four mean "not authenticated" to a client; the cases exist for logs and tests, and a
/// client should not be told which one applied.
public enum TokenError: Error, Sendable, Hashable {
    /// Not three base64url parts of JSON objects with the required claims, or over the size limit.
    case malformed
    /// The HMAC does not match: forged, tampered with, or signed with another secret.
    case badSignature
    /// The `exp` time has passed.
    case expired
    /// The header names an algorithm other than HS256 (including `none`) or none at all.
    case unsupportedAlgorithm
}
