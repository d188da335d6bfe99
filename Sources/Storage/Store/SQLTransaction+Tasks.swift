import Handlers

extension SQLTransaction {
    func task(id: Int64, viewer: Int64) throws -> TaskRecord? {
        try query(TaskSQL.byID, [.int64(id), .int64(viewer)]).first.map(TaskSQL.decode)
    }

    func lockTask(id: Int64, viewer: Int64) throws -> TaskRecord? {
        let statement = dialect == .postgresql ? TaskSQL.byIDForUpdatePostgres : TaskSQL.byID
        return try query(statement, [.int64(id), .int64(viewer)]).first.map(TaskSQL.decode)
    }

    func insertTask(owner: Int64, fields: TaskFields, at: Timestamp) throws -> TaskRecord {
        let tags = TagList.folded(fields.tags)
        var fields = fields
        fields.tags = tags.map(\.tag)
        var bindings: [SQLValue] = [.int64(owner)]
        TaskSQL.appendFieldBindings(fields, to: &bindings)
        bindings.append(.int64(at.milliseconds))
        guard let row = try query(TaskSQL.insert, bindings).first else { throw StoreError(.failure) }
        let id = try row.int64("id")
        try insertTags(taskID: id, createdAt: at, tags)
        return TaskRecord(
            id: id, ownerID: owner, ownerUsername: try row.string("owner_username"), fields: fields,
            createdAt: at, updatedAt: at, permission: .owner, shareCount: 0
        )
    }

    func updateTask(id: Int64, fields: TaskFields, at: Timestamp, viewer: Int64) throws -> TaskRecord? {
        let tags = TagList.folded(fields.tags)
        var fields = fields
        fields.tags = tags.map(\.tag)
        var bindings: [SQLValue] = [.int64(id), .int64(viewer)]
        TaskSQL.appendFieldBindings(fields, to: &bindings)
        bindings.append(.int64(at.milliseconds))
        guard let row = try query(TaskSQL.update, bindings).first else { return nil }
        let createdAt = Timestamp(milliseconds: try row.int64("created_at"))
        try connection.executeLater(TaskSQL.deleteTags, [.int64(id)])
        try insertTags(taskID: id, createdAt: createdAt, tags)
        guard let permission = Permission(rawValue: try row.string("permission")) else { throw StoreError(.failure) }
        return TaskRecord(
            id: id, ownerID: try row.int64("owner_id"), ownerUsername: try row.string("owner_username"), fields: fields,
            createdAt: createdAt, updatedAt: at,
            permission: permission, shareCount: try row.int("share_count")
        )
    }

    func deleteTask(id: Int64) throws -> Bool {
        // Tags, shares, comments and files cascade; the files trigger queues their blobs.
        try execute(TaskSQL.delete, [.int64(id)]) > 0
    }

    /// Inserts `task_tags` rows, one statement per ``TaskSQL/tagsPerStatement`` tags; each row
    /// carries the task's creation time (the tag's page order, migration 6).
    func insertTags(taskID: Int64, createdAt: Timestamp, _ tags: [(tag: String, folded: String)]) throws {
        var position = 0
        while position < tags.count {
            let chunk = tags[position..<min(position + TaskSQL.tagsPerStatement, tags.count)]
            var bindings: [SQLValue] = [.int64(taskID), .int64(createdAt.milliseconds)]
            bindings.reserveCapacity(2 + chunk.count * 3)
            for (offset, tag) in chunk.enumerated() {
                bindings.append(.int64(Int64(position + offset)))
                bindings.append(.text(tag.tag))
                bindings.append(.text(tag.folded))
            }
            // Nothing reads the outcome: on PostgreSQL the rows go with the next statement.
            try connection.executeLater(TaskSQL.insertTags[chunk.count], bindings)
            position += chunk.count
        }
    }
}

/// The tasks table's statements, and how a row becomes a ``Handlers/TaskRecord``.
enum TaskSQL {
    /// The columns a ``Handlers/TaskRecord`` is read from, for a query over `tasks t` joined to
    /// `users u` (the owner); `permission` and `share_count` are added by each query.
    static let recordColumns = """
        t.id, t.owner_id, u.username AS owner_username, t.title, t.description, t.completed, t.priority, \
        t.due_date, t.tags, t.created_at, t.updated_at, \
        (SELECT COUNT(*) FROM task_shares c WHERE c.task_id = t.id) AS share_count
        """

    /// The viewer's permission where `s` is the viewer's share row (LEFT JOINed, may be NULL).
    static let permission = "CASE WHEN t.owner_id = $2 THEN 'owner' ELSE s.permission END AS permission"

    private static let byIDText = """
        SELECT \(recordColumns), \(permission)
        FROM tasks t
        JOIN users u ON u.id = t.owner_id
        LEFT JOIN task_shares s ON s.task_id = t.id AND s.user_id = $2
        WHERE t.id = $1 AND (t.owner_id = $2 OR s.user_id IS NOT NULL)
        """

    static let byID = SQLStatement(byIDText)
    static let byIDForUpdatePostgres = SQLStatement(byIDText + SQLDialect.postgresql.forUpdate(of: "t"))

    /// Binds `$n…$n+8`: title, its fold, description, its fold, completed, priority, due date, tags.
    static func appendFieldBindings(_ fields: TaskFields, to bindings: inout [SQLValue]) {
        bindings.append(.text(fields.title))
        bindings.append(.text(TextRules.fold(fields.title)))
        bindings.append(.text(fields.description))
        bindings.append(.text(fields.description.map(TextRules.fold)))
        bindings.append(.bool(fields.completed))
        bindings.append(.int64(Int64(fields.priority.rank)))
        bindings.append(.text(fields.dueDate?.description))
        bindings.append(.text(TagList.encode(fields.tags)))
    }

    static let insert = SQLStatement("""
        INSERT INTO tasks (owner_id, title, title_folded, description, description_folded, completed, priority, due_date, tags, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
        RETURNING id, (SELECT username FROM users WHERE users.id = $1) AS owner_username
        """)

    /// Only a task the viewer can see is written, so nil means "gone or not yours" and nothing
    /// changed either way.
    static let update = SQLStatement("""
        UPDATE tasks SET title = $3, title_folded = $4, description = $5, description_folded = $6,
            completed = $7, priority = $8, due_date = $9, tags = $10, updated_at = $11
        WHERE id = $1 AND (owner_id = $2 OR EXISTS (SELECT 1 FROM task_shares s WHERE s.task_id = tasks.id AND s.user_id = $2))
        RETURNING owner_id, created_at,
            (SELECT username FROM users WHERE users.id = tasks.owner_id) AS owner_username,
            CASE WHEN owner_id = $2 THEN 'owner'
                ELSE (SELECT s.permission FROM task_shares s WHERE s.task_id = tasks.id AND s.user_id = $2) END AS permission,
            (SELECT COUNT(*) FROM task_shares c WHERE c.task_id = tasks.id) AS share_count
        """)

    static let delete = SQLStatement("DELETE FROM tasks WHERE id = $1")

    static let deleteTags = SQLStatement("DELETE FROM task_tags WHERE task_id = $1")

    /// 20 is the API's limit on a task's tags, so one statement holds a task's tags; 62
    /// bindings stay far below both backends' parameter limits.
    static let tagsPerStatement = 20

    /// `insertTags[n]` inserts `n` tags: `$1` the task, `$2` its creation time, then position,
    /// tag, fold per tag.
    static let insertTags: [SQLStatement] = (0...tagsPerStatement).map { count in
        // Index 0 is never run (no tags, no statement); it keeps `insertTags[n]` inserting n.
        let rows = (0..<count).map { index in
            let base = 3 + index * 3
            return "($1, $\(base), $\(base + 1), $\(base + 2), $2)"
        }
        return SQLStatement("INSERT INTO task_tags (task_id, position, tag, tag_folded, created_at) VALUES " + rows.joined(separator: ", "))
    }

    /// Where ``recordColumns`` and `permission` sit in a result, looked up once per result: a
    /// page of 50 tasks reads 650 values, and a name lookup hashes the name each time.
    struct Columns {
        let id, ownerID, ownerUsername, title, description, completed, priority: Int
        let dueDate, tags, createdAt, updatedAt, shareCount, permission: Int

        init(_ row: SQLRow) throws(StoreError) {
            id = try row.position(of: "id")
            ownerID = try row.position(of: "owner_id")
            ownerUsername = try row.position(of: "owner_username")
            title = try row.position(of: "title")
            description = try row.position(of: "description")
            completed = try row.position(of: "completed")
            priority = try row.position(of: "priority")
            dueDate = try row.position(of: "due_date")
            tags = try row.position(of: "tags")
            createdAt = try row.position(of: "created_at")
            updatedAt = try row.position(of: "updated_at")
            shareCount = try row.position(of: "share_count")
            permission = try row.position(of: "permission")
        }
    }

    /// The tasks of a result that selects ``recordColumns`` and `permission`, in its order.
    static func decode(_ rows: [SQLRow]) throws -> [TaskRecord] {
        guard let first = rows.first else { return [] }
        let columns = try Columns(first)
        return try rows.map { try decode($0, columns) }
    }

    static func decode(_ row: SQLRow) throws -> TaskRecord {
        try decode(row, Columns(row))
    }

    static func decode(_ row: SQLRow, _ c: Columns) throws -> TaskRecord {
        guard let priority = Priority(rank: try row.int(at: c.priority)),
              let permission = Permission(rawValue: try row.string(at: c.permission))
        else { throw StoreError(.failure) }
        var dueDate: DayDate? = nil
        if let text = try row.optionalString(at: c.dueDate) {
            guard let date = DayDate(text) else { throw StoreError(.failure) }
            dueDate = date
        }
        let fields = TaskFields(
            title: try row.string(at: c.title),
            description: try row.optionalString(at: c.description),
            completed: try row.bool(at: c.completed),
            priority: priority,
            dueDate: dueDate,
            tags: try TagList.decode(try row.string(at: c.tags))
        )
        return TaskRecord(
            id: try row.int64(at: c.id),
            ownerID: try row.int64(at: c.ownerID),
            ownerUsername: try row.string(at: c.ownerUsername),
            fields: fields,
            createdAt: Timestamp(milliseconds: try row.int64(at: c.createdAt)),
            updatedAt: Timestamp(milliseconds: try row.int64(at: c.updatedAt)),
            permission: permission,
            shareCount: try row.int(at: c.shareCount)
        )
    }
}
