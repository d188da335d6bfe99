/// The claims of a Faros session token: who, which server-side session, and its lifetime.
///
/// Times are whole seconds since the Unix epoch (JWT's NumericDate, RFC 7519 §2), kept as
/// integers so a token round-trips exactly.
public struct TokenClaims: Sendable, Hashable {
    /// `sub`: the user's id.
    public var subject: Int64
    /// `sid`: the server-side session this token belongs to, so one session can be revoked alone.
    public var sessionID: String
    /// `iat`: when the token was issued, in seconds since the epoch.
    public var issuedAt: Int64
    /// `exp`: the first second at which the token is no longer valid.
    public var expiresAt: Int64

    public init(subject: Int64, sessionID: String, issuedAt: Int64, expiresAt: Int64) {
        self.subject = subject
        self.sessionID = sessionID
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }
}
