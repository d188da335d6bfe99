import Handlers

extension SQLTransaction {
    // MARK: Sessions

    func session(id: String) throws -> SessionRow? {
        try query(SessionSQL.byID, [.text(id)]).first.map { row in
            SessionRow(
                id: try row.string("id"),
                userID: try row.int64("user_id"),
                createdAt: Timestamp(milliseconds: try row.int64("created_at")),
                expiresAt: Timestamp(milliseconds: try row.int64("expires_at"))
            )
        }
    }

    func insertSession(_ session: SessionRow) throws {
        try execute(SessionSQL.insert, [
            .text(session.id), .int64(session.userID),
            .int64(session.createdAt.milliseconds), .int64(session.expiresAt.milliseconds),
        ])
    }

    func extendSession(id: String, expiresAt: Timestamp) throws -> Bool {
        try execute(SessionSQL.extend, [.text(id), .int64(expiresAt.milliseconds)]) > 0
    }

    func deleteSession(id: String) throws -> Bool {
        try execute(SessionSQL.delete, [.text(id)]) > 0
    }

    func deleteSessions(userID: Int64, except: String?) throws -> [String] {
        let rows = if let except {
            try query(SessionSQL.deleteAllExcept, [.int64(userID), .text(except)])
        } else {
            try query(SessionSQL.deleteAll, [.int64(userID)])
        }
        return try rows.map { try $0.string("id") }
    }

    func deleteExpiredSessions(before: Timestamp) throws -> Int {
        try execute(SessionSQL.deleteExpired, [.int64(before.milliseconds)])
    }

    // MARK: Single-use tokens

    func putOneTimeToken(_ token: OneTimeTokenRow) throws {
        try execute(TokenSQL.put, [
            .int64(token.userID), .text(token.purpose.rawValue), .text(token.tokenHash),
            .text(token.email), .int64(token.expiresAt.milliseconds),
        ])
    }

    func takeOneTimeToken(purpose: OneTimePurpose, tokenHash: String, now: Timestamp) throws -> OneTimeTokenRow? {
        // Deleting first makes the token single use under concurrency too: of two takers, the
        // second finds the row gone (PostgreSQL re-checks after waiting on the row lock).
        guard let row = try query(TokenSQL.take, [.text(purpose.rawValue), .text(tokenHash)]).first else { return nil }
        let token = OneTimeTokenRow(
            purpose: purpose,
            userID: try row.int64("user_id"),
            tokenHash: tokenHash,
            email: try row.string("email"),
            expiresAt: Timestamp(milliseconds: try row.int64("expires_at"))
        )
        return token.expiresAt < now ? nil : token
    }

    func deleteOneTimeTokens(userID: Int64, purpose: OneTimePurpose) throws {
        try execute(TokenSQL.delete, [.int64(userID), .text(purpose.rawValue)])
    }

    // MARK: Stored results

    func storedResult(userID: Int64, requestKey: String, since: Timestamp) throws -> StoredResult? {
        try query(ResultSQL.select, [.int64(userID), .text(requestKey), .int64(since.milliseconds)]).first.map { row in
            StoredResult(
                method: try row.string("method"),
                result: try row.string("result"),
                createdAt: Timestamp(milliseconds: try row.int64("created_at"))
            )
        }
    }

    func saveResult(userID: Int64, requestKey: String, result: StoredResult) throws {
        let inserted = try execute(ResultSQL.insert, [
            .int64(userID), .text(requestKey), .text(result.method), .text(result.result), .int64(result.createdAt.milliseconds),
        ])
        if inserted == 0 {
            throw StoreError(.conflict(field: "requestKey"))
        }
    }

    func deleteStoredResults(before: Timestamp) throws -> Int {
        try execute(ResultSQL.deleteOld, [.int64(before.milliseconds)])
    }
}

enum SessionSQL {
    static let byID = SQLStatement("SELECT id, user_id, created_at, expires_at FROM sessions WHERE id = $1")
    static let insert = SQLStatement("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
    static let extend = SQLStatement("UPDATE sessions SET expires_at = $2 WHERE id = $1")
    static let delete = SQLStatement("DELETE FROM sessions WHERE id = $1")
    static let deleteAll = SQLStatement("DELETE FROM sessions WHERE user_id = $1 RETURNING id")
    static let deleteAllExcept = SQLStatement("DELETE FROM sessions WHERE user_id = $1 AND id <> $2 RETURNING id")
    static let deleteExpired = SQLStatement("DELETE FROM sessions WHERE expires_at < $1")
}

enum TokenSQL {
    /// One token per user and purpose: a newer one replaces the older in place.
    static let put = SQLStatement("""
        INSERT INTO one_time_tokens (user_id, purpose, token_hash, email, expires_at) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (user_id, purpose) DO UPDATE
        SET token_hash = excluded.token_hash, email = excluded.email, expires_at = excluded.expires_at
        """)
    static let take = SQLStatement("""
        DELETE FROM one_time_tokens WHERE purpose = $1 AND token_hash = $2
        RETURNING user_id, email, expires_at
        """)
    static let delete = SQLStatement("DELETE FROM one_time_tokens WHERE user_id = $1 AND purpose = $2")
}

enum ResultSQL {
    static let select = SQLStatement("""
        SELECT method, result, created_at FROM request_results
        WHERE user_id = $1 AND request_key = $2 AND created_at >= $3
        """)
    /// A key already stored inserts nothing (a conflict, reported without aborting the
    /// transaction); PostgreSQL waits for a concurrent inserter of the same key to finish first.
    static let insert = SQLStatement("""
        INSERT INTO request_results (user_id, request_key, method, result, created_at) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (user_id, request_key) DO NOTHING
        """)
    static let deleteOld = SQLStatement("DELETE FROM request_results WHERE created_at < $1")
}
