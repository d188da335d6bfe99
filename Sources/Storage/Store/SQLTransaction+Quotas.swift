import Handlers

/// What the per-user write quotas count (``DomainConfiguration/Quotas``); each walks an index
/// on the user's own rows.
extension SQLTransaction {
    func storedResultCount(userID: Int64, since: Timestamp) throws -> Int {
        try count(QuotaSQL.storedResults, [.int64(userID), .int64(since.milliseconds)])
    }

    func commentCount(authorID: Int64) throws -> Int {
        try count(QuotaSQL.comments, [.int64(authorID)])
    }

    func shareCount(sharedBy userID: Int64) throws -> Int {
        try count(QuotaSQL.shares, [.int64(userID)])
    }

    private func count(_ statement: SQLStatement, _ bindings: [SQLValue]) throws -> Int {
        guard let row = try query(statement, bindings).first else { throw StoreError(.failure) }
        return try row.int("n")
    }
}

enum QuotaSQL {
    /// Walks `request_results_pkey (user_id, request_key)`.
    static let storedResults = SQLStatement("SELECT COUNT(*) AS n FROM request_results WHERE user_id = $1 AND created_at >= $2")
    /// Walks `comments_author (author_id)`.
    static let comments = SQLStatement("SELECT COUNT(*) AS n FROM comments WHERE author_id = $1")
    /// Walks `task_shares_shared_by (shared_by)`.
    static let shares = SQLStatement("SELECT COUNT(*) AS n FROM task_shares WHERE shared_by = $1")
}
