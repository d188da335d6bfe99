import Handlers
import JSONRPC

extension SQLTransaction {
    func insertActivity(_ activity: NewActivity) throws -> Int64 {
        let rows = try query(ActivitySQL.insert, [
            .int64(activity.actorID), .text(activity.action.rawValue), .text(activity.resourceType.rawValue),
            .int64(activity.resourceID), .int64(activity.taskID),
            .text(ActivitySQL.serialize(.object(activity.details))), .text(ActivitySQL.serialize(activity.data)),
            .int64(activity.createdAt.milliseconds),
        ])
        guard let id = try rows.first?.int64("id") else { throw StoreError(.failure) }
        var seen = Set<Int64>()
        let audience = activity.audience.filter { seen.insert($0.userID).inserted }
        if audience.count > ActivitySQL.audiencePerStatement {
            // A large audience (a task shared with hundreds or thousands) goes in one statement
            // as a JSON array, not in one round trip per hundred.
            var array: [UInt8] = [UInt8(ascii: "[")]
            array.reserveCapacity(audience.count * 16)
            for (index, member) in audience.enumerated() {
                if index > 0 { array.append(UInt8(ascii: ",")) }
                array.append(contentsOf: "[\(member.userID),\"\(member.permission.rawValue)\"]".utf8)
            }
            array.append(UInt8(ascii: "]"))
            try execute(ActivitySQL.insertAudienceArray, [.int64(id), .text(String(decoding: array, as: UTF8.self))])
            if dialect == .postgresql { _ = try query(ActivitySQL.notify, []) }
            return id
        }
        var start = 0
        while start < audience.count {
            let chunk = audience[start..<min(start + ActivitySQL.audiencePerStatement, audience.count)]
            var bindings: [SQLValue] = [.int64(id)]
            bindings.reserveCapacity(1 + chunk.count * 2)
            for member in chunk {
                bindings.append(.int64(member.userID))
                bindings.append(.text(member.permission.rawValue))
            }
            try execute(ActivitySQL.insertAudience[chunk.count], bindings)
            start += chunk.count
        }
        if dialect == .postgresql {
            // Delivered at commit, dropped on rollback; identical notifications of one
            // transaction are folded into one by PostgreSQL.
            _ = try query(ActivitySQL.notify, [])
        }
        return id
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
        INSERT INTO activity (seq, actor_id, actor_username, action, resource_type, resource_id, task_id, details, data, created_at)
        VALUES (NULL, $1, (SELECT username FROM users WHERE id = $1), $2, $3, $4, $5, $6, $7, $8)
        RETURNING id
        """)

    /// 100 recipients per statement keeps 201 bindings under SQLite's oldest parameter limit
    /// (999); a task with more sharees takes several statements.
    static let audiencePerStatement = 100

    /// `insertAudience[n]` inserts `n` rows: `$1` the activity, then user and permission per row.
    static let insertAudience: [SQLStatement] = (0...audiencePerStatement).map { count in
        // Index 0 is never run; it keeps `insertAudience[n]` inserting n.
        let rows = (0..<count).map { index in "($1, $\(2 + index * 2), $\(3 + index * 2))" }
        return SQLStatement("INSERT INTO activity_audience (activity_id, user_id, permission) VALUES " + rows.joined(separator: ", "))
    }

    /// The whole audience in one statement: `$2` is a JSON array of `[userID, "permission"]`.
    static let insertAudienceArray = SQLStatement(
        postgres: """
            INSERT INTO activity_audience (activity_id, user_id, permission)
            SELECT $1, CAST(e ->> 0 AS BIGINT), e ->> 1 FROM jsonb_array_elements(CAST($2 AS jsonb)) AS e
            """,
        sqlite: """
            INSERT INTO activity_audience (activity_id, user_id, permission)
            SELECT $1, json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each($2)
            """
    )

    static let notify = SQLStatement("SELECT pg_notify('faros_activity', '') AS notified")

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

    static let audience = SQLStatement("SELECT user_id, permission FROM activity_audience WHERE activity_id = $1 ORDER BY user_id")

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
