public import Handlers
import JSON

/// The event log in SQL (docs/events.md): numbering after commit, and the reads the dispatcher
/// and `events.subscribe` make. Every method is one short transaction or snapshot.
extension SQLStore {
    public func headSeq() async throws -> Int64 {
        try await self.read(connection: { connection in
            try EventLogSQL.head(connection)
        })
    }

    public func sequencePending(limit: Int) async throws -> [LoggedEvent] {
        try await self.write(connection: { connection in
            // On PostgreSQL the row lock makes concurrent sequencers (other instances) take
            // turns; each next statement then sees what the previous one numbered (READ
            // COMMITTED). On SQLite the one writer serializes them already.
            let last = try EventLogSQL.lockHead(connection)
            let numbered = try connection.execute(EventLogSQL.number, [.int64(last), .int64(Int64(limit))])
            guard numbered > 0 else { return [] }
            let head = last + Int64(numbered)
            // Nobody reads its outcome: on PostgreSQL it goes with the read below, one round trip.
            try connection.executeLater(EventLogSQL.setHead, [.int64(head)])
            var events = try EventLogSQL.events(connection, after: last, through: head, limit: numbered)
            try EventLogSQL.attachAudiences(connection, to: &events, after: last, through: head)
            return events
        })
    }

    public func events(after: Int64, through: Int64, limit: Int) async throws -> [LoggedEvent] {
        try await self.read(connection: { connection in
            try EventLogSQL.events(connection, after: after, through: through, limit: limit)
        })
    }

    public func replay(userID: Int64, taskIDs: [Int64]?, after: Int64, through: Int64, limit: Int) async throws -> [LoggedEvent] {
        try await self.read(connection: { connection in
            var bindings: [SQLValue] = [.int64(userID), .int64(after), .int64(through), .int64(Int64(limit))]
            let statement: SQLStatement
            if let taskIDs {
                bindings.append(.text("[" + taskIDs.map(String.init).joined(separator: ",") + "]"))
                statement = EventLogSQL.replayTasks
            } else {
                statement = EventLogSQL.replayAll
            }
            return try connection.query(statement, bindings).map { row throws(StoreError) in
                guard let permission = Permission(rawValue: try row.string("permission")) else { throw StoreError(.failure) }
                return try EventLogSQL.event(row, audience: [LoggedEvent.Recipient(userID: userID, permission: permission)])
            }
        })
    }

    public func audience(setID: Int64) async throws -> [LoggedEvent.Recipient] {
        try await self.read(connection: { connection in
            try EventLogSQL.audience(connection, setID: setID)
        })
    }

    public func eventTime(seq: Int64) async throws -> Timestamp? {
        try await self.read(connection: { connection in
            try connection.query(EventLogSQL.time, [.int64(seq)]).first.map { row throws(StoreError) in
                Timestamp(milliseconds: try row.int64("created_at"))
            }
        })
    }

}

/// The event log's statements.
enum EventLogSQL {
    static let selectHead = SQLStatement("SELECT last_seq FROM event_sequence")
    static let selectHeadForUpdate = SQLStatement(
        postgres: "SELECT last_seq FROM event_sequence FOR UPDATE",
        sqlite: "SELECT last_seq FROM event_sequence"
    )
    static let setHead = SQLStatement("UPDATE event_sequence SET last_seq = $1")
    /// Numbers the oldest pending entries `$1 + 1, $1 + 2, …` in insertion order.
    static let number = SQLStatement(
        """
        UPDATE activity SET seq = numbered.seq
        FROM (SELECT id, CAST($1 AS BIGINT) + row_number() OVER (ORDER BY id) AS seq
              FROM activity WHERE seq IS NULL ORDER BY id LIMIT $2) AS numbered
        WHERE activity.id = numbered.id
        """
    )
    static let columns = "a.seq, a.action, a.task_id, a.actor_id, a.actor_username, a.created_at, a.data, a.audience_set_id"
    static let range = SQLStatement(
        "SELECT \(columns) FROM activity a WHERE a.seq > $1 AND a.seq <= $2 ORDER BY a.seq LIMIT $3"
    )
    static let replayAll = SQLStatement(
        """
        SELECT \(columns), au.permission
        FROM activity a JOIN audience_members au ON au.set_id = a.audience_set_id
        WHERE au.user_id = $1 AND a.seq > $2 AND a.seq <= $3 AND a.resource_type <> 'session'
        ORDER BY a.seq LIMIT $4
        """
    )
    static let replayTasks = SQLStatement(
        postgres: """
            SELECT \(columns), au.permission
            FROM activity a JOIN audience_members au ON au.set_id = a.audience_set_id
            WHERE au.user_id = $1 AND a.seq > $2 AND a.seq <= $3 AND a.resource_type <> 'session'
              AND a.task_id IN (SELECT CAST(jsonb_array_elements_text(CAST($5 AS jsonb)) AS BIGINT))
            ORDER BY a.seq LIMIT $4
            """,
        sqlite: """
            SELECT \(columns), au.permission
            FROM activity a JOIN audience_members au ON au.set_id = a.audience_set_id
            WHERE au.user_id = $1 AND a.seq > $2 AND a.seq <= $3 AND a.resource_type <> 'session'
              AND a.task_id IN (SELECT value FROM json_each($5))
            ORDER BY a.seq LIMIT $4
            """
    )
    static let time = SQLStatement("SELECT created_at FROM activity WHERE seq = $1")

    static func head(_ connection: any SQLConnection) throws(StoreError) -> Int64 {
        guard let row = try connection.query(selectHead, []).first else { throw StoreError(.failure) }
        return try row.int64("last_seq")
    }

    static func lockHead(_ connection: any SQLConnection) throws(StoreError) -> Int64 {
        guard let row = try connection.query(selectHeadForUpdate, []).first else { throw StoreError(.failure) }
        return try row.int64("last_seq")
    }

    /// The entries in `(after, through]`, in `seq` order, each naming its audience set (the
    /// dispatcher reads a set's members once, see ``audience(_:setID:)``).
    static func events(_ connection: any SQLConnection, after: Int64, through: Int64, limit: Int) throws(StoreError) -> [LoggedEvent] {
        try connection.query(range, [.int64(after), .int64(through), .int64(Int64(limit))]).map { row throws(StoreError) in
            try event(row, audience: [])
        }
    }

    /// Members read per sequencer batch to go out with its events, at most.
    static let attachedMembersLimit = 2_000

    /// The members of the batch's audience sets, set by set, by user id (see `attachAudiences`).
    static let batchMembers = SQLStatement("""
        SELECT au.set_id, au.user_id, au.permission FROM audience_members au
        WHERE au.set_id IN (SELECT a.audience_set_id FROM activity a WHERE a.seq > $1 AND a.seq <= $2)
        ORDER BY au.set_id, au.user_id LIMIT $3
        """)

    /// Gives each event numbered in `(after, through]` its audience, read in one statement for
    /// the whole batch, so that no dispatcher (on any instance) reads a set per event: a new
    /// task's first event has a new set, which no cache holds. Sets are immutable, so the
    /// members read now are the ones a dispatcher would read. A set that does not fit in
    /// ``attachedMembersLimit`` rows keeps only its id, and the dispatchers read it themselves.
    static func attachAudiences(_ connection: any SQLConnection, to events: inout [LoggedEvent], after: Int64, through: Int64) throws(StoreError) {
        guard events.contains(where: { $0.audienceSetID != nil }) else { return }
        let rows = try connection.query(batchMembers, [.int64(after), .int64(through), .int64(Int64(attachedMembersLimit))])
        var members: [Int64: [LoggedEvent.Recipient]] = [:]
        var lastSet: Int64?
        for row in rows {
            guard let permission = Permission(rawValue: try row.string("permission")) else { throw StoreError(.failure) }
            let setID = try row.int64("set_id")
            members[setID, default: []].append(LoggedEvent.Recipient(userID: try row.int64("user_id"), permission: permission))
            lastSet = setID
        }
        // At the limit, the last set read may be cut short.
        if rows.count == attachedMembersLimit, let lastSet { members[lastSet] = nil }
        for index in events.indices {
            guard events[index].audience.isEmpty, let setID = events[index].audienceSetID, let audience = members[setID] else { continue }
            events[index].audience = audience
        }
    }

    /// The members of one audience set, by user id.
    static func audience(_ connection: any SQLConnection, setID: Int64) throws(StoreError) -> [LoggedEvent.Recipient] {
        try connection.query(AudienceSQL.members, [.int64(setID)]).map { row throws(StoreError) in
            guard let permission = Permission(rawValue: try row.string("permission")) else { throw StoreError(.failure) }
            return LoggedEvent.Recipient(userID: try row.int64("user_id"), permission: permission)
        }
    }

    static func event(_ row: SQLRow, audience: [LoggedEvent.Recipient]) throws(StoreError) -> LoggedEvent {
        let data: JSONValue
        do {
            data = try JSONParser(maxDepth: 96).parse(try row.string("data"))
        } catch {
            throw StoreError(.failure, underlying: error)
        }
        return LoggedEvent(
            seq: try row.int64("seq"), type: try row.string("action"), taskID: try row.optionalInt64("task_id"),
            actorID: try row.optionalInt64("actor_id"), actorUsername: try row.string("actor_username"),
            at: Timestamp(milliseconds: try row.int64("created_at")), data: data, audience: audience,
            audienceSetID: try row.optionalInt64("audience_set_id")
        )
    }
}
