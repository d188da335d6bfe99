import ByteCoding
import JSONRPC
import Logging

extension Domain {
    /// How many random bytes a session id carries: 256 bits, beyond any guessing; the id is a
    /// bearer secret only together with a valid signature, but nothing should rest on that.
    static let sessionIDBytes = 32

    /// A fresh session id: 32 random bytes, base64url without padding (43 characters).
    static func newSessionID() -> String {
        Base64URL.encode(RandomBytes.make(sessionIDBytes))
    }

    /// When a token issued at `now` expires: `now + tokenTTL`, rounded up to the whole second
    /// (JWT `exp` is in seconds), so a token never lives less than its TTL and a sub-second TTL
    /// cannot produce a token that is expired at birth.
    func tokenExpiry(issuedAt now: Timestamp) -> Timestamp {
        let end = now.milliseconds + max(1, configuration.tokenTTLMilliseconds)
        let seconds = end.floorDivided(by: 1000) + (end % 1000 == 0 ? 0 : 1)
        return Timestamp(milliseconds: seconds * 1000)
    }

    /// A new session row for `userID` starting at `now`, to insert in the caller's transaction.
    func newSessionRow(userID: Int64, now: Timestamp) -> SessionRow {
        SessionRow(id: Self.newSessionID(), userID: userID, createdAt: now, expiresAt: tokenExpiry(issuedAt: now))
    }

    /// The access token for `session`, issued at `now` and expiring with the row's `expiresAt`.
    func accessToken(for session: SessionRow, issuedAt now: Timestamp) -> Token {
        let claims = TokenClaims(
            subject: session.userID,
            sessionID: session.id,
            issuedAt: now.seconds,
            expiresAt: session.expiresAt.seconds
        )
        return Token(accessToken: signer.sign(claims), expiresAt: session.expiresAt)
    }

    /// Who a connection holding `session`'s token acts as.
    static func principal(_ user: UserRow, sessionID: String, expiresAt: Timestamp) -> Principal {
        Principal(userID: user.id, username: user.username, sessionID: sessionID, expiresAt: expiresAt)
    }

    /// The user as the API shows them to themselves.
    func userObject(_ row: UserRow) -> User {
        User(
            id: row.id,
            username: row.username,
            email: row.email,
            emailVerified: row.emailVerified,
            avatarUrl: avatarURL(userID: row.id, etag: row.avatarETag),
            createdAt: row.createdAt
        )
    }

    /// `PUBLIC_URL/users/{id}/avatar?v=<etag>`, the ETag percent-encoded (ETags are quoted
    /// strings and may hold any visible character); nil without an avatar.
    func avatarURL(userID: Int64, etag: String?) -> String? {
        guard let etag, !etag.isEmpty else { return nil }
        return "\(configuration.publicURL)/users/\(userID)/avatar?v=\(PercentEncoding.encode(etag))"
    }

    /// The user and principal behind an access token, or nil when it is not valid now.
    ///
    /// Valid means: the signature verifies, `exp` is in the future by ``clock``, the session row
    /// it names exists, belongs to `sub` and has not expired, and the user exists. Any failure
    /// is nil, never a reason: a client must not learn which check failed.
    func verifiedAccessToken(_ token: String) async throws -> (user: UserRow, principal: Principal)? {
        let now = clock()
        guard let claims = try? signer.verify(token, now: now.seconds) else { return nil }
        let expiresAt = Timestamp(milliseconds: claims.expiresAt * 1000)
        guard expiresAt > now else { return nil }
        let user: UserRow? = try await store.read { reader in
            guard let session = try reader.session(id: claims.sessionID),
                  session.userID == claims.subject, session.expiresAt >= now
            else { return nil }
            return try reader.user(id: claims.subject)
        }
        guard let user else { return nil }
        return (user, Self.principal(user, sessionID: claims.sessionID, expiresAt: expiresAt))
    }

    /// A description of `error` safe for logs that must not carry personal data: store errors
    /// by kind (their underlying driver text may quote parameters), others by type.
    static func loggable(_ error: any Error) -> String {
        if let error = error as? StoreError { return "StoreError.\(error.kind)" }
        if let error = error as? RPCError { return "RPCError(\(error.code.rawValue))" }
        return String(describing: type(of: error))
    }
}

extension RPCError {
    /// -32001 for a wrong username or password: one message for both, so an answer never tells
    /// whether an account exists.
    static var badCredentials: RPCError { RPCError(.unauthenticated, message: "Invalid username or password") }

    /// -32001 for an access token that is malformed, forged, expired or revoked.
    static var invalidToken: RPCError { RPCError(.unauthenticated, message: "Invalid or expired token") }

    /// -32001 for a signed-in call whose session or account no longer exists.
    static var sessionEnded: RPCError { RPCError(.unauthenticated, message: "The session has ended") }
}
