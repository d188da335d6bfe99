/// A user row with what only the server sees (the password hash).
public struct UserRow: Sendable, Hashable {
    public var id: Int64
    public var username: String
    /// Lower-cased on write (protocol/README.md, "Accounts and sessions").
    public var email: String
    public var emailVerified: Bool
    /// Self-describing (`$y$…`), so its parameters can be raised later.
    public var passwordHash: String
    /// The avatar's ETag, nil when the user has none (set by `POST /users/me/avatar`).
    public var avatarETag: String?
    public var createdAt: Timestamp

    public init(
        id: Int64, username: String, email: String, emailVerified: Bool,
        passwordHash: String, avatarETag: String?, createdAt: Timestamp
    ) {
        self.id = id
        self.username = username
        self.email = email
        self.emailVerified = emailVerified
        self.passwordHash = passwordHash
        self.avatarETag = avatarETag
        self.createdAt = createdAt
    }

    public var publicUser: PublicUser { PublicUser(id: id, username: username) }
}

/// A user about to be inserted.
public struct NewUser: Sendable, Hashable {
    public var username: String
    public var email: String
    public var passwordHash: String
    public var createdAt: Timestamp

    public init(username: String, email: String, passwordHash: String, createdAt: Timestamp) {
        self.username = username
        self.email = email
        self.passwordHash = passwordHash
        self.createdAt = createdAt
    }
}

/// A server-side session: what a token's `sid` names. Deleting the row revokes every token of
/// the session at once.
public struct SessionRow: Sendable, Hashable {
    /// Random, URL-safe, unguessable.
    public var id: String
    public var userID: Int64
    public var createdAt: Timestamp
    /// The latest `exp` of any token issued for the session (refresh moves it forward).
    public var expiresAt: Timestamp

    public init(id: String, userID: Int64, createdAt: Timestamp, expiresAt: Timestamp) {
        self.id = id
        self.userID = userID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// What a single-use token proves, and so which table slot it takes: a newer token of one
/// purpose replaces the user's older one.
public enum OneTimePurpose: String, Sendable, Hashable, CaseIterable {
    case passwordReset = "password-reset"
    case emailVerification = "email-verification"
}

/// A single-use token, as stored: only its SHA-256, never the token.
public struct OneTimeTokenRow: Sendable, Hashable {
    public var purpose: OneTimePurpose
    public var userID: Int64
    /// Hex SHA-256 of the token (``OneTimeTokens/hash(_:)``).
    public var tokenHash: String
    /// For email verification: the address being verified (a later email change voids it).
    public var email: String
    public var expiresAt: Timestamp

    public init(purpose: OneTimePurpose, userID: Int64, tokenHash: String, email: String, expiresAt: Timestamp) {
        self.purpose = purpose
        self.userID = userID
        self.tokenHash = tokenHash
        self.email = email
        self.expiresAt = expiresAt
    }
}

/// The stored answer of a mutating call made with a `requestKey`.
public struct StoredResult: Sendable, Hashable {
    /// The method the key was first used with.
    public var method: String
    /// The JSON-RPC `result`, serialized.
    public var result: String
    public var createdAt: Timestamp

    public init(method: String, result: String, createdAt: Timestamp) {
        self.method = method
        self.result = result
        self.createdAt = createdAt
    }
}
