import Handlers
import JSON

extension SQLTransaction {
    func comment(id: Int64) throws -> CommentRecord? {
        try query(CommentSQL.byID, [.int64(id)]).first.map(CommentSQL.decode)
    }

    func comments(taskID: Int64, limit: Int, offset: Int) throws -> (items: [CommentRecord], total: Int) {
        let items = try query(CommentSQL.page, [.int64(taskID), .int64(Int64(limit)), .int64(Int64(offset))]).map(CommentSQL.decode)
        if items.count < limit, !items.isEmpty || offset == 0 {
            return (items, offset + items.count)
        }
        guard let row = try query(CommentSQL.count, [.int64(taskID)]).first else { throw StoreError(.failure) }
        return (items, try row.int("total"))
    }

    func insertComment(taskID: Int64, authorID: Int64, content: String, at: Timestamp) throws -> CommentRecord {
        guard let row = try query(CommentSQL.insert, [.int64(taskID), .int64(authorID), .text(content), .int64(at.milliseconds)]).first else {
            throw StoreError(.failure)
        }
        return CommentRecord(
            id: try row.int64("id"), taskID: taskID, authorID: authorID, authorUsername: try row.optionalString("author_username"),
            content: content, createdAt: at, updatedAt: at
        )
    }

    func updateComment(id: Int64, content: String, at: Timestamp) throws -> CommentRecord? {
        try query(CommentSQL.update, [.int64(id), .text(content), .int64(at.milliseconds)]).first.map(CommentSQL.decode)
    }

    func deleteComment(id: Int64) throws -> Bool {
        try execute(CommentSQL.delete, [.int64(id)]) > 0
    }

    func redactCommentActivity(commentID: Int64, data: JSONValue) throws {
        try execute(CommentSQL.redactActivity, [.int64(commentID), .text(ActivitySQL.serialize(data))])
    }
}

/// The comments table's statements.
enum CommentSQL {
    static let columns = "c.id, c.task_id, c.author_id, u.username AS author_username, c.content, c.created_at, c.updated_at"

    static let byID = SQLStatement("SELECT \(columns) FROM comments c LEFT JOIN users u ON u.id = c.author_id WHERE c.id = $1")

    /// Walks `comments_task (task_id, created_at, id)` in page order.
    static let page = SQLStatement("""
        SELECT \(columns) FROM comments c LEFT JOIN users u ON u.id = c.author_id
        WHERE c.task_id = $1 ORDER BY c.created_at, c.id LIMIT $2 OFFSET $3
        """)

    static let count = SQLStatement("SELECT COUNT(*) AS total FROM comments WHERE task_id = $1")

    static let insert = SQLStatement("""
        INSERT INTO comments (task_id, author_id, content, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
        RETURNING id, (SELECT username FROM users WHERE users.id = $2) AS author_username
        """)

    static let update = SQLStatement("""
        UPDATE comments SET content = $2, updated_at = $3 WHERE id = $1
        RETURNING id, task_id, author_id, (SELECT username FROM users WHERE users.id = comments.author_id) AS author_username,
            content, created_at, updated_at
        """)

    static let delete = SQLStatement("DELETE FROM comments WHERE id = $1")

    /// Walks `activity_comment (resource_id) WHERE resource_type = 'comment'`.
    static let redactActivity = SQLStatement("""
        UPDATE activity SET details = '{"redacted":true}', data = $2
        WHERE resource_type = 'comment' AND resource_id = $1 AND action IN ('comment.created', 'comment.updated')
        """)

    static func decode(_ row: SQLRow) throws -> CommentRecord {
        CommentRecord(
            id: try row.int64("id"),
            taskID: try row.int64("task_id"),
            authorID: try row.optionalInt64("author_id"),
            authorUsername: try row.optionalString("author_username"),
            content: try row.string("content"),
            createdAt: Timestamp(milliseconds: try row.int64("created_at")),
            updatedAt: Timestamp(milliseconds: try row.int64("updated_at"))
        )
    }
}
