import Handlers
import JSON

extension SQLTransaction {
    func insertActivity(_ activity: NewActivity) throws -> Int64 {
        let setID: Int64?
        switch activity.audience {
        case .currentMembers(let taskID): setID = try currentAudienceSet(taskID: taskID)
        case .members(let members): setID = try audienceSet(members)
        }
        let rows = try query(ActivitySQL.insert, [
            .int64(activity.actorID), .text(activity.action.rawValue), .text(activity.resourceType.rawValue),
            .int64(activity.resourceID), .int64(activity.taskID),
            .text(ActivitySQL.serialize(.object(activity.details))), .text(ActivitySQL.serialize(activity.data)),
            .int64(activity.createdAt.milliseconds), setID.map(SQLValue.int64) ?? .null,
        ])
        guard let id = try rows.first?.int64("id") else { throw StoreError(.failure) }
        try notifyActivityAtCommit()
        return id
    }

    /// On PostgreSQL, wakes every instance's sequencer when this transaction commits: the
    /// notification is delivered at commit, dropped on rollback, and identical ones of one
    /// transaction are folded into one by PostgreSQL. Sent with the COMMIT, so it costs no round
    /// trip of its own. (SQLite has one instance, woken in-process.)
    func notifyActivityAtCommit() throws {
        if dialect == .postgresql { try connection.runAtCommit(ActivitySQL.notify) }
    }

    /// The set for the task's membership now: the one its row points to, or a new one written
    /// from its owner and shares (and pointed to) when the membership changed since. Nil when
    /// the task does not exist. The caller holds the task's row lock, so two transactions never
    /// build it at once.
    private func currentAudienceSet(taskID: Int64) throws -> Int64? {
        if dialect == .postgresql {
            // The same four steps in one statement: one round trip instead of four.
            guard let row = try query(AudienceSQL.currentOrNewPostgres, [.int64(taskID)]).first else { return nil }
            guard let setID = try row.optionalInt64("audience_set_id") else { throw StoreError(.failure) }
            return setID
        }
        guard let row = try query(AudienceSQL.current, [.int64(taskID)]).first else { return nil }
        if let setID = try row.optionalInt64("audience_set_id") { return setID }
        guard let setID = try query(AudienceSQL.newSet, [.int64(taskID)]).first?.int64("id") else { throw StoreError(.failure) }
        try execute(AudienceSQL.insertTaskMembers, [.int64(setID), .int64(taskID)])
        try execute(AudienceSQL.pointTask, [.int64(setID), .int64(taskID)])
        return setID
    }

    /// A new set of exactly `members` (duplicates folded, the first one kept); nil when empty.
    private func audienceSet(_ members: [AudienceMember]) throws -> Int64? {
        var seen = Set<Int64>()
        let members = members.filter { seen.insert($0.userID).inserted }
        guard !members.isEmpty else { return nil }
        // One statement however many: the members go as a JSON array `[[id,"perm"],…]`.
        var array: [UInt8] = [UInt8(ascii: "[")]
        array.reserveCapacity(members.count * 16)
        for (index, member) in members.enumerated() {
            if index > 0 { array.append(UInt8(ascii: ",")) }
            array.append(contentsOf: "[\(member.userID),\"\(member.permission.rawValue)\"]".utf8)
        }
        array.append(UInt8(ascii: "]"))
        let json = String(decoding: array, as: UTF8.self)
        if dialect == .postgresql {
            // The set and its members in one statement: one round trip instead of two.
            guard let setID = try query(AudienceSQL.newSetWithMembersPostgres, [.text(json)]).first?.int64("id") else {
                throw StoreError(.failure)
            }
            return setID
        }
        guard let setID = try query(AudienceSQL.newSet, [.null]).first?.int64("id") else { throw StoreError(.failure) }
        try execute(AudienceSQL.insertMembers, [.int64(setID), .text(json)])
        return setID
    }

    func activity(matching query: ActivityQuery) throws -> (items: [ActivityRecord], total: Int) {
        let sql = ActivityListSQL(query)
        let items = try self.query(sql.page, sql.pageBindings).map(ActivitySQL.decode)
        if items.count < query.limit, !items.isEmpty || query.offset == 0 {
            return (items, query.offset + items.count)
        }
        guard let row = try self.query(sql.count, sql.countBindings).first else { throw StoreError(.failure) }
        return (items, try row.int("total"))
    }

    func taskTimeline(taskID: Int64, limit: Int, offset: Int) throws -> (items: [ActivityRecord], total: Int) {
        let items = try query(ActivitySQL.timeline, [.int64(taskID), .int64(Int64(limit)), .int64(Int64(offset))]).map(ActivitySQL.decode)
        if items.count < limit, !items.isEmpty || offset == 0 {
            return (items, offset + items.count)
        }
        guard let row = try query(ActivitySQL.timelineCount, [.int64(taskID)]).first else { throw StoreError(.failure) }
        return (items, try row.int("total"))
    }

    func activityStats(actorID: Int64) throws -> ActivityStats {
        var stats = ActivityStats()
        for row in try query(ActivitySQL.stats, [.int64(actorID)]) {
            let n = try row.int("n")
            stats.total += n
            stats.byAction[try row.string("action"), default: 0] += n
            stats.byResourceType[try row.string("resource_type"), default: 0] += n
        }
        return stats
    }

    func activityAudience(activityID: Int64) throws -> [AudienceMember] {
        try query(ActivitySQL.audience, [.int64(activityID)]).map { row in
            guard let permission = Permission(rawValue: try row.string("permission")) else { throw StoreError(.failure) }
            return AudienceMember(userID: try row.int64("user_id"), permission: permission)
        }
    }
}

/// The activity log's statements (docs/events.md §1).
enum ActivitySQL {
    static let columns = "a.id, a.seq, a.actor_id, a.actor_username, a.action, a.resource_type, a.resource_id, a.task_id, a.details, a.created_at"

    /// `session` rows belong to the sign-out fan-out, never to `activity.*`.
    static let listable = "a.resource_type <> 'session'"

    /// `seq` stays NULL: the sequencer numbers the row after commit. The actor's name is read in
    /// the same statement, so it is the one they have at the time of the change.
    static let insert = SQLStatement("""
        INSERT INTO activity (seq, actor_id, actor_username, action, resource_type, resource_id, task_id, details, data, created_at, audience_set_id)
        VALUES (NULL, $1, (SELECT username FROM users WHERE id = $1), $2, $3, $4, $5, $6, $7, $8, $9)
        RETURNING id
        """)

    /// Run at commit (``SQLConnection/runAtCommit(_:)``), on PostgreSQL only.
    static let notify = "SELECT pg_notify('faros_activity', '')"

    /// Walks `activity_task (task_id, id)` in page order.
    static let timeline = SQLStatement("""
        SELECT \(columns) FROM activity a WHERE a.task_id = $1 AND \(listable) ORDER BY a.id LIMIT $2 OFFSET $3
        """)

    static let timelineCount = SQLStatement("SELECT COUNT(*) AS total FROM activity a WHERE a.task_id = $1 AND \(listable)")

    /// At most one group per (action, resource type): a dozen rows whatever the log's size.
    static let stats = SQLStatement("""
        SELECT a.action, a.resource_type, COUNT(*) AS n FROM activity a
        WHERE a.actor_id = $1 AND \(listable) GROUP BY a.action, a.resource_type
        """)

    static let audience = SQLStatement("""
        SELECT m.user_id, m.permission FROM activity a JOIN audience_members m ON m.set_id = a.audience_set_id
        WHERE a.id = $1 ORDER BY m.user_id
        """)

    static func serialize(_ value: JSONValue) -> String {
        String(decoding: JSONWriter.serialize(value), as: UTF8.self)
    }

    static func decode(_ row: SQLRow) throws -> ActivityRecord {
        guard let action = ActivityAction(rawValue: try row.string("action")),
              let resourceType = ResourceType(rawValue: try row.string("resource_type")),
              let resourceID = try row.optionalInt64("resource_id"),
              let taskID = try row.optionalInt64("task_id")
        else { throw StoreError(.failure) }
        let details: JSONValue
        do {
            details = try JSONParser().parse(try row.string("details"))
        } catch {
            throw StoreError(.failure, underlying: error)
        }
        guard case .object(let object) = details else { throw StoreError(.failure) }
        return ActivityRecord(
            id: try row.int64("id"),
            seq: try row.optionalInt64("seq"),
            actorID: try row.optionalInt64("actor_id"),
            actorUsername: try row.string("actor_username"),
            action: action,
            resourceType: resourceType,
            resourceID: resourceID,
            taskID: taskID,
            details: object,
            createdAt: Timestamp(milliseconds: try row.int64("created_at"))
        )
    }
}

/// The two statements of one `activity.list` call, built from an ``Handlers/ActivityQuery``:
/// only the filters present appear in the text (at most 16 stable shapes), values are bound.
/// The page walks `activity_actor (actor_id, created_at, id)` backwards.
struct ActivityListSQL {
    var page: SQLStatement
    var pageBindings: [SQLValue]
    var count: SQLStatement
    var countBindings: [SQLValue]

    init(_ query: ActivityQuery) {
        var bindings: [SQLValue] = [.int64(query.actorID)]
        func bind(_ value: SQLValue) -> String {
            bindings.append(value)
            return "$\(bindings.count)"
        }
        var conditions = ["a.actor_id = $1", ActivitySQL.listable]
        if let action = query.action {
            conditions.append("a.action = \(bind(.text(action.rawValue)))")
        }
        if let resourceType = query.resourceType {
            conditions.append("a.resource_type = \(bind(.text(resourceType.rawValue)))")
        }
        if let from = query.from {
            conditions.append("a.created_at >= \(bind(.int64(from.milliseconds)))")
        }
        if let to = query.to {
            conditions.append("a.created_at <= \(bind(.int64(to.milliseconds)))")
        }
        let whereClause = " WHERE " + conditions.joined(separator: " AND ")
        self.count = SQLStatement("SELECT COUNT(*) AS total FROM activity a\(whereClause)")
        self.countBindings = bindings
        let limit = bind(.int64(Int64(query.limit)))
        let offset = bind(.int64(Int64(query.offset)))
        self.page = SQLStatement("""
            SELECT \(ActivitySQL.columns) FROM activity a\(whereClause) \
            ORDER BY a.created_at DESC, a.id DESC LIMIT \(limit) OFFSET \(offset)
            """)
        self.pageBindings = bindings
    }
}

/// Audience sets (docs/events.md, "Audience sets").
enum AudienceSQL {
    static let current = SQLStatement("SELECT audience_set_id FROM tasks WHERE id = $1")
    static let newSet = SQLStatement("INSERT INTO audience_sets (task_id) VALUES ($1) RETURNING id")
    /// The task's owner and sharees, as ``ShareSQL/audience`` reads them.
    static let insertTaskMembers = SQLStatement("""
        INSERT INTO audience_members (set_id, user_id, permission)
        SELECT $1, owner_id, 'owner' FROM tasks WHERE id = $2
        UNION ALL
        SELECT $1, user_id, permission FROM task_shares WHERE task_id = $2
        """)
    static let pointTask = SQLStatement("UPDATE tasks SET audience_set_id = $1 WHERE id = $2")
    /// `$2` is a JSON array of `[userID, "permission"]`.
    static let insertMembers = SQLStatement(
        postgres: """
            INSERT INTO audience_members (set_id, user_id, permission)
            SELECT $1, CAST(e ->> 0 AS BIGINT), e ->> 1 FROM jsonb_array_elements(CAST($2 AS jsonb)) AS e
            """,
        sqlite: """
            INSERT INTO audience_members (set_id, user_id, permission)
            SELECT $1, json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each($2)
            """
    )
    /// ``current``, and when it is NULL ``newSet``, ``insertTaskMembers`` and ``pointTask``, as
    /// one statement (data-modifying CTEs); no row when the task does not exist.
    static let currentOrNewPostgres = SQLStatement("""
        WITH cur AS (SELECT audience_set_id FROM tasks WHERE id = $1),
        ns AS (INSERT INTO audience_sets (task_id) SELECT $1 FROM cur WHERE cur.audience_set_id IS NULL RETURNING id),
        members AS (
            INSERT INTO audience_members (set_id, user_id, permission)
            SELECT ns.id, t.owner_id, 'owner' FROM ns, tasks t WHERE t.id = $1
            UNION ALL
            SELECT ns.id, s.user_id, s.permission FROM ns, task_shares s WHERE s.task_id = $1
        ),
        pointed AS (UPDATE tasks SET audience_set_id = ns.id FROM ns WHERE tasks.id = $1)
        SELECT COALESCE(cur.audience_set_id, (SELECT id FROM ns)) AS audience_set_id FROM cur
        """)
    /// ``newSet`` (with no task) and ``insertMembers`` as one statement; `$1` is the JSON array.
    static let newSetWithMembersPostgres = SQLStatement("""
        WITH ns AS (INSERT INTO audience_sets (task_id) VALUES (NULL) RETURNING id),
        members AS (
            INSERT INTO audience_members (set_id, user_id, permission)
            SELECT ns.id, CAST(e ->> 0 AS BIGINT), e ->> 1 FROM ns, jsonb_array_elements(CAST($1 AS jsonb)) AS e
        )
        SELECT id FROM ns
        """)
    /// A set's members, by user id (the dispatcher resolves an event's audience with it).
    static let members = SQLStatement("SELECT user_id, permission FROM audience_members WHERE set_id = $1 ORDER BY user_id")
}
