/// Who a signed-in session acts as, and until when.
public struct Principal: Sendable, Hashable {
    public var userID: Int64
    public var username: String
    /// The server-side session the token names (`sid`).
    public var sessionID: String
    /// When the session's current token expires; the session is signed out then.
    public var expiresAt: Timestamp

    public init(userID: Int64, username: String, sessionID: String, expiresAt: Timestamp) {
        self.userID = userID
        self.username = username
        self.sessionID = sessionID
        self.expiresAt = expiresAt
    }
}

/// Why a live session was signed out (`auth.signedOut` `reason`).
public enum SignOutReason: String, Sendable, Hashable {
    case expired
    case loggedOut
    case passwordChanged
    case passwordReset
}
