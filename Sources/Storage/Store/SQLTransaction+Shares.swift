import Handlers

extension SQLTransaction {
    func shares(taskID: Int64) throws -> [ShareRecord] {
        try query(ShareSQL.byTask, [.int64(taskID)]).map(ShareSQL.decode)
    }

    func share(taskID: Int64, userID: Int64) throws -> ShareRecord? {
        try query(ShareSQL.byKey, [.int64(taskID), .int64(userID)]).first.map(ShareSQL.decode)
    }

    func sharedWithMe(userID: Int64, limit: Int, offset: Int) throws -> (items: [TaskRecord], total: Int) {
        let items = try TaskSQL.decode(query(ShareSQL.sharedWithMe, [.int64(userID), .int64(Int64(limit)), .int64(Int64(offset))]))
        if items.count < limit, !items.isEmpty || offset == 0 {
            return (items, offset + items.count)
        }
        guard let row = try query(ShareSQL.countSharedWithMe, [.int64(userID)]).first else { throw StoreError(.failure) }
        return (items, try row.int("total"))
    }

    func taskAudience(taskID: Int64) throws -> [AudienceMember] {
        try query(ShareSQL.audience, [.int64(taskID)]).map { row in
            guard let permission = Permission(rawValue: try row.string("permission")) else { throw StoreError(.failure) }
            return AudienceMember(userID: try row.int64("user_id"), permission: permission)
        }
    }

    func sharedTasks(owner: Int64) throws -> [TaskRecord] {
        try TaskSQL.decode(query(ShareSQL.sharedTasks, [.int64(owner)]))
    }

    func insertShare(_ share: NewShare) throws -> ShareRecord {
        let rows = try query(ShareSQL.insert, [
            .int64(share.taskID), .int64(share.userID), .text(share.permission.rawValue),
            .int64(share.sharedAt.milliseconds), .int64(share.sharedBy),
        ])
        // The primary key is the only unique key, so "nothing inserted" means "already shared".
        guard let row = rows.first else { throw StoreError(.conflict(field: "username")) }
        return ShareRecord(
            taskID: share.taskID, userID: share.userID, username: try row.string("username"),
            permission: share.permission, sharedAt: share.sharedAt, sharedBy: share.sharedBy
        )
    }

    func updateShare(taskID: Int64, userID: Int64, permission: SharePermission) throws -> ShareRecord? {
        try query(ShareSQL.update, [.int64(taskID), .int64(userID), .text(permission.rawValue)]).first.map(ShareSQL.decode)
    }

    func deleteShare(taskID: Int64, userID: Int64) throws -> ShareRecord? {
        try query(ShareSQL.delete, [.int64(taskID), .int64(userID)]).first.map(ShareSQL.decode)
    }
}

/// The task_shares table's statements.
enum ShareSQL {
    static let columns = "s.task_id, s.user_id, u.username, s.permission, s.shared_at, s.shared_by"

    static let byTask = SQLStatement("""
        SELECT \(columns) FROM task_shares s JOIN users u ON u.id = s.user_id
        WHERE s.task_id = $1 ORDER BY s.shared_at, s.user_id
        """)

    static let byKey = SQLStatement("""
        SELECT \(columns) FROM task_shares s JOIN users u ON u.id = s.user_id
        WHERE s.task_id = $1 AND s.user_id = $2
        """)

    /// Walks `task_shares_user_shared_at` backwards in page order.
    static let sharedWithMe = SQLStatement("""
        SELECT \(TaskSQL.recordColumns), s.permission AS permission
        FROM task_shares s JOIN tasks t ON t.id = s.task_id JOIN users u ON u.id = t.owner_id
        WHERE s.user_id = $1
        ORDER BY s.shared_at DESC, s.task_id DESC LIMIT $2 OFFSET $3
        """)

    static let countSharedWithMe = SQLStatement("SELECT COUNT(*) AS total FROM task_shares WHERE user_id = $1")

    static let audience = SQLStatement("""
        SELECT owner_id AS user_id, 'owner' AS permission, 0 AS rank FROM tasks WHERE id = $1
        UNION ALL
        SELECT user_id, permission, 1 AS rank FROM task_shares WHERE task_id = $1
        ORDER BY rank, user_id
        """)

    static let sharedTasks = SQLStatement("""
        SELECT \(TaskSQL.recordColumns), 'owner' AS permission
        FROM tasks t JOIN users u ON u.id = t.owner_id
        WHERE t.owner_id = $1 AND EXISTS (SELECT 1 FROM task_shares s WHERE s.task_id = t.id)
        ORDER BY t.id
        """)

    static let insert = SQLStatement("""
        INSERT INTO task_shares (task_id, user_id, permission, shared_at, shared_by)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT DO NOTHING
        RETURNING (SELECT username FROM users WHERE users.id = $2) AS username
        """)

    static let update = SQLStatement("""
        UPDATE task_shares SET permission = $3 WHERE task_id = $1 AND user_id = $2
        RETURNING task_id, user_id, (SELECT username FROM users WHERE users.id = $2) AS username, permission, shared_at, shared_by
        """)

    static let delete = SQLStatement("""
        DELETE FROM task_shares WHERE task_id = $1 AND user_id = $2
        RETURNING task_id, user_id, (SELECT username FROM users WHERE users.id = $2) AS username, permission, shared_at, shared_by
        """)

    static func decode(_ row: SQLRow) throws -> ShareRecord {
        guard let permission = SharePermission(rawValue: try row.string("permission")) else { throw StoreError(.failure) }
        return ShareRecord(
            taskID: try row.int64("task_id"),
            userID: try row.int64("user_id"),
            username: try row.string("username"),
            permission: permission,
            sharedAt: Timestamp(milliseconds: try row.int64("shared_at")),
            sharedBy: try row.optionalInt64("shared_by")
        )
    }
}
