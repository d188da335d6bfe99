/// A user as the API shows it to themselves (`User` in protocol/openrpc.json).
public struct User: Sendable, Hashable, Encodable {
    public var id: Int64
    public var username: String
    public var email: String
    public var emailVerified: Bool
    /// `PUBLIC_URL/users/{id}/avatar?v=<etag>`, or null when the user has none.
    public var avatarUrl: String?
    public var createdAt: Timestamp

    public init(id: Int64, username: String, email: String, emailVerified: Bool, avatarUrl: String?, createdAt: Timestamp) {
        self.id = id
        self.username = username
        self.email = email
        self.emailVerified = emailVerified
        self.avatarUrl = avatarUrl
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey { case id, username, email, emailVerified, avatarUrl, createdAt }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(username, forKey: .username)
        try c.encode(email, forKey: .email)
        try c.encode(emailVerified, forKey: .emailVerified)
        // Always present, null when there is none: clients test the field, not its existence.
        try c.encode(avatarUrl, forKey: .avatarUrl)
        try c.encode(createdAt, forKey: .createdAt)
    }
}

/// Another user as anyone signed in may see them (`PublicUser`).
public struct PublicUser: Sendable, Hashable, Encodable {
    public var id: Int64
    public var username: String

    public init(id: Int64, username: String) {
        self.id = id
        self.username = username
    }
}

/// An access token and when it stops working (`Token`).
public struct Token: Sendable, Hashable, Encodable {
    public var accessToken: String
    public var expiresAt: Timestamp

    public init(accessToken: String, expiresAt: Timestamp) {
        self.accessToken = accessToken
        self.expiresAt = expiresAt
    }
}
