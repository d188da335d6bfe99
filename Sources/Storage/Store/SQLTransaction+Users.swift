import Handlers

extension SQLTransaction {
    func user(id: Int64) throws -> UserRow? {
        try query(UserSQL.byID, [.int64(id)]).first.map(UserSQL.decode)
    }

    func user(login: String) throws -> UserRow? {
        try query(UserSQL.byLogin, [.text(TextRules.fold(login)), .text(login.lowercased())]).first.map(UserSQL.decode)
    }

    func user(email: String) throws -> UserRow? {
        try query(UserSQL.byEmail, [.text(email)]).first.map(UserSQL.decode)
    }

    func searchUsers(queryFolded: String, excluding: Int64, limit: Int) throws -> [PublicUser] {
        guard limit > 0, !queryFolded.isEmpty else { return [] }
        let statement = dialect == .sqlite ? UserSQL.searchSQLite : UserSQL.searchPostgres
        return try query(statement, [.text(queryFolded), .int64(excluding), .int64(Int64(limit))]).map { row in
            PublicUser(id: try row.int64("id"), username: try row.string("username"))
        }
    }

    func insertUser(_ user: NewUser) throws -> UserRow {
        let folded = TextRules.fold(user.username)
        let rows = try query(UserSQL.insert, [
            .text(user.username), .text(folded), .text(user.email), .bool(false),
            .text(user.passwordHash), .int64(user.createdAt.milliseconds),
        ])
        guard let row = rows.first else {
            throw try conflict(usernameFolded: folded, email: user.email, excluding: 0)
        }
        return UserRow(
            id: try row.int64("id"), username: user.username, email: user.email, emailVerified: false,
            passwordHash: user.passwordHash, avatarETag: nil, createdAt: user.createdAt
        )
    }

    func updateUser(id: Int64, username: String, email: String, emailVerified: Bool) throws -> UserRow? {
        let folded = TextRules.fold(username)
        // Checked first so that a taken name leaves the transaction usable; a concurrent
        // insert slipping in between still ends as a unique violation, mapped to a conflict.
        if let taken = try takenField(usernameFolded: folded, email: email, excluding: id) {
            throw StoreError(.conflict(field: taken))
        }
        return try query(UserSQL.update, [.int64(id), .text(username), .text(folded), .text(email), .bool(emailVerified)])
            .first.map(UserSQL.decode)
    }

    func avatar(userID: Int64) throws -> AvatarRecord? {
        guard let row = try query(UserSQL.avatar, [.int64(userID)]).first,
              let key = try row.optionalString("avatar_key"),
              let type = try row.optionalString("avatar_content_type"),
              let etag = try row.optionalString("avatar_etag")
        else { return nil }
        return AvatarRecord(storageKey: key, contentType: type, size: try row.int64("avatar_size"), etag: etag)
    }

    func setAvatar(userID: Int64, _ avatar: AvatarRecord?) throws -> Bool {
        let values: [SQLValue] = avatar.map {
            [.int64(userID), .text($0.storageKey), .text($0.contentType), .int64($0.size), .text($0.etag)]
        } ?? [.int64(userID), .null, .null, .null, .null]
        return try execute(UserSQL.setAvatar, values) > 0
    }

    func setPasswordHash(userID: Int64, hash: String) throws {
        try execute(UserSQL.setPasswordHash, [.int64(userID), .text(hash)])
    }

    func deleteUser(id: Int64) throws -> Bool {
        // Foreign keys do the rest: sessions, tokens, results, owned tasks (and their tags,
        // shares, comments) cascade; shares granted and comments written elsewhere keep their
        // rows with a NULL `shared_by` / `author_id`.
        try execute(UserSQL.delete, [.int64(id)]) > 0
    }

    /// The conflict for a user insert that inserted nothing.
    private func conflict(usernameFolded: String, email: String, excluding: Int64) throws -> StoreError {
        StoreError(.conflict(field: try takenField(usernameFolded: usernameFolded, email: email, excluding: excluding)))
    }

    /// `username` or `email`, whichever another user already has (username first), or nil.
    private func takenField(usernameFolded: String, email: String, excluding: Int64) throws -> String? {
        let rows = try query(UserSQL.taken, [.text(usernameFolded), .text(email), .int64(excluding)])
        if try rows.contains(where: { try $0.bool("username_taken") }) { return "username" }
        if !rows.isEmpty { return "email" }
        return nil
    }
}

/// The users table's statements.
enum UserSQL {
    static let columns = "id, username, email, email_verified, password_hash, avatar_etag, created_at"

    static let byID = SQLStatement("SELECT \(columns) FROM users WHERE id = $1")

    /// Usernames cannot contain `@` and emails must, so at most one of the two can match; the
    /// order only makes the answer deterministic should that rule ever change.
    static let byLogin = SQLStatement("""
        SELECT \(columns) FROM users WHERE username_folded = $1 OR email = $2
        ORDER BY CASE WHEN username_folded = $1 THEN 0 ELSE 1 END LIMIT 1
        """)

    static let byEmail = SQLStatement("SELECT \(columns) FROM users WHERE email = $1")

    static let searchSQLite = search(.sqlite)
    static let searchPostgres = search(.postgresql)

    /// Prefix matches first, then other substrings; each group by folded name (code-point
    /// order), then id.
    private static func search(_ dialect: SQLDialect) -> SQLStatement {
        SQLStatement("""
            SELECT id, username FROM users
            WHERE \(dialect.contains("username_folded", "$1")) AND id <> $2
            ORDER BY CASE WHEN \(dialect.startsWith("username_folded", "$1")) THEN 0 ELSE 1 END, username_folded, id
            LIMIT $3
            """)
    }

    static let insert = SQLStatement("""
        INSERT INTO users (username, username_folded, email, email_verified, password_hash, avatar_etag, created_at)
        VALUES ($1, $2, $3, $4, $5, NULL, $6)
        ON CONFLICT DO NOTHING
        RETURNING id
        """)

    static let taken = SQLStatement("""
        SELECT username_folded = $1 AS username_taken FROM users
        WHERE (username_folded = $1 OR email = $2) AND id <> $3
        """)

    static let update = SQLStatement("""
        UPDATE users SET username = $2, username_folded = $3, email = $4, email_verified = $5
        WHERE id = $1
        RETURNING \(columns)
        """)

    static let avatar = SQLStatement("SELECT avatar_key, avatar_content_type, avatar_size, avatar_etag FROM users WHERE id = $1")

    static let setAvatar = SQLStatement("""
        UPDATE users SET avatar_key = $2, avatar_content_type = $3, avatar_size = $4, avatar_etag = $5
        WHERE id = $1
        """)

    static let setPasswordHash = SQLStatement("UPDATE users SET password_hash = $2 WHERE id = $1")

    static let delete = SQLStatement("DELETE FROM users WHERE id = $1")

    static func decode(_ row: SQLRow) throws -> UserRow {
        UserRow(
            id: try row.int64("id"),
            username: try row.string("username"),
            email: try row.string("email"),
            emailVerified: try row.bool("email_verified"),
            passwordHash: try row.string("password_hash"),
            avatarETag: try row.optionalString("avatar_etag"),
            createdAt: Timestamp(milliseconds: try row.int64("created_at"))
        )
    }
}
