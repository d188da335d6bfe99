import ByteCoding
import Handlers
import JSON

extension SQLTransaction {
    // MARK: Subscriptions

    func pushSubscriptions(userID: Int64) throws -> [PushSubscriptionRecord] {
        try query(PushSQL.subscriptionsOfUser, [.int64(userID)]).map { try PushSQL.decodeSubscription($0) }
    }

    func pushSubscription(endpoint: String) throws -> PushSubscriptionRecord? {
        try query(PushSQL.subscriptionByEndpoint, [.text(endpoint)]).first.map { try PushSQL.decodeSubscription($0) }
    }

    func taskPushRecipients(taskID: Int64) throws -> [PushRecipient] {
        try PushSQL.recipients(query(PushSQL.taskRecipients, [.int64(taskID)]))
    }

    func pushRecipient(userID: Int64) throws -> PushRecipient? {
        try PushSQL.recipients(query(PushSQL.userRecipient, [.int64(userID)])).first
    }

    func putPushSubscription(
        userID: Int64, endpoint: String, p256dh: [UInt8], auth: [UInt8], label: String, sessionID: String?,
        expiresAt: Timestamp?, at: Timestamp, maxPerUser: Int
    ) throws -> (subscription: PushSubscriptionRecord, replaced: [Int64]) {
        let rows = try query(PushSQL.upsertSubscription, [
            .int64(userID), .text(endpoint), .text(Base64URL.encode(p256dh)), .text(Base64URL.encode(auth)), .text(label),
            sessionID.map { .text($0) } ?? .null, expiresAt.map { .int64($0.milliseconds) } ?? .null, .int64(at.milliseconds),
        ])
        guard let row = rows.first else { throw StoreError(.failure) }
        let subscription = try PushSQL.decodeSubscription(row)
        // Past the limit the oldest go: the person's newest browsers are the ones in use.
        let all = try pushSubscriptions(userID: userID)
        var replaced: [Int64] = []
        if all.count > maxPerUser {
            for old in all.filter({ $0.id != subscription.id }).sorted(by: { $0.id < $1.id }).prefix(all.count - maxPerUser) {
                try execute(PushSQL.deleteSubscription, [.int64(old.id)])
                replaced.append(old.id)
            }
        }
        return (subscription, replaced)
    }

    func deletePushSubscription(id: Int64, userID: Int64?) throws -> Bool {
        if let userID {
            return try execute(PushSQL.deleteSubscriptionOfUser, [.int64(id), .int64(userID)]) > 0
        }
        return try execute(PushSQL.deleteSubscription, [.int64(id)]) > 0
    }

    // MARK: Outbox

    func enqueuePush(_ push: NewPush) throws -> Int64 {
        let state: PushState = push.holdUntil == nil ? .queued : .held
        let rows = try query(PushSQL.insert, [
            .int64(push.subscriptionID), .int64(push.userID), .text(push.kind.rawValue), push.taskID.map { .int64($0) } ?? .null,
            push.senderID.map { .int64($0) } ?? .null, .text(push.payload), .text(push.urgency.rawValue), .text(state.rawValue),
            push.holdUntil.map { .int64($0.milliseconds) } ?? .null, .int64(push.expiresAt.milliseconds),
            .int64(push.createdAt.milliseconds),
        ])
        guard let row = rows.first else { throw StoreError(.failure) }
        return try row.int64("id")
    }

    func enqueuePushes(_ pushes: [NewPush]) throws {
        // One statement per 500 rows that share everything but device, user and hold: the
        // pushes of one change (a comment to a team writes thousands at once).
        var rest = pushes[...]
        while let first = rest.first {
            let run = rest.prefix { $0.kind == first.kind && $0.taskID == first.taskID && $0.senderID == first.senderID
                && $0.payload == first.payload && $0.urgency == first.urgency && $0.expiresAt == first.expiresAt
                && $0.createdAt == first.createdAt }.prefix(500)
            rest = rest.dropFirst(run.count)
            let rows: [JSONValue] = run.map {
                [.number(JSONNumber($0.subscriptionID)), .number(JSONNumber($0.userID)),
                 $0.holdUntil.map { .number(JSONNumber($0.milliseconds)) } ?? .null]
            }
            try execute(PushSQL.insertMany, [
                .text(String(decoding: JSONWriter.serialize(.array(rows)), as: UTF8.self)), .text(first.kind.rawValue),
                first.taskID.map { .int64($0) } ?? .null, first.senderID.map { .int64($0) } ?? .null, .text(first.payload),
                .text(first.urgency.rawValue), .int64(first.expiresAt.milliseconds), .int64(first.createdAt.milliseconds),
            ])
        }
    }

    func pushCounts(subscriptionIDs: [Int64], kind: PushKind?, taskID: Int64?, since: Timestamp) throws -> [Int64: Int] {
        var counts: [Int64: Int] = [:]
        var rest = subscriptionIDs[...]
        while !rest.isEmpty {
            let chunk = rest.prefix(500)
            rest = rest.dropFirst(chunk.count)
            let ids = String(decoding: JSONWriter.serialize(.array(chunk.map { .number(JSONNumber($0)) })), as: UTF8.self)
            let rows: [SQLRow]
            if let kind, let taskID {
                rows = try query(PushSQL.countsAbout, [.text(ids), .int64(since.milliseconds), .text(kind.rawValue), .int64(taskID)])
            } else {
                rows = try query(PushSQL.counts, [.text(ids), .int64(since.milliseconds)])
            }
            for row in rows { counts[try row.int64("subscription_id")] = try row.int("n") }
        }
        return counts
    }

    func pushCount(from senderID: Int64, since: Timestamp) throws -> Int {
        guard let row = try query(PushSQL.countFromSender, [.int64(senderID), .int64(since.milliseconds)]).first else {
            throw StoreError(.failure)
        }
        return try row.int("n")
    }

    func outboxPushes(userID: Int64) throws -> [OutboxPush] {
        try query(PushSQL.byUser, [.int64(userID)]).map(PushSQL.decode)
    }

    func nextPushDue() throws -> Timestamp? {
        try query(PushSQL.nextDue, []).first.flatMap { try $0.optionalInt64("due") }.map(Timestamp.init(milliseconds:))
    }

    func claimDuePushes(claim: String, now: Timestamp, leaseUntil: Timestamp, limit: Int) throws -> [ClaimedPush] {
        let statement = dialect == .postgresql ? PushSQL.claimPostgres : PushSQL.claimSQLite
        let claimed = try execute(statement, [.text(claim), .int64(now.milliseconds), .int64(leaseUntil.milliseconds), .int64(Int64(limit))])
        guard claimed > 0 else { return [] }
        return try query(PushSQL.claimedBy, [.text(claim)]).map { row in
            ClaimedPush(
                outbox: try PushSQL.decode(row), subscription: try PushSQL.decodeSubscription(row, prefix: "s_"),
                taskVisible: try row.int64("visible") != 0
            )
        }
    }

    func completePushes(_ outcomes: [(id: Int64, outcome: PushOutcome)], claim: String, at: Timestamp) throws -> Int {
        var recorded = 0
        var sent = 0
        // Every other outcome row by row (few), then what is left of the claim, all sent (most),
        // in two statements whatever the batch size.
        for (id, outcome) in outcomes {
            let changed: Int
            switch outcome {
            case .sent:
                sent += 1
                continue
            case .retry(let next, let error):
                changed = try execute(PushSQL.markRetry, [.int64(id), .text(claim), .int64(next.milliseconds), .text(error)])
            case .failed(let error):
                changed = try execute(PushSQL.markSettled, [.int64(id), .text(claim), .text(PushState.failed.rawValue), .text(error)])
            case .dropped(let reason):
                changed = try execute(PushSQL.markSettled, [.int64(id), .text(claim), .text(PushState.dropped.rawValue), .text(reason)])
            }
            recorded += changed
        }
        if sent > 0 {
            try execute(PushSQL.touchClaimed, [.text(claim), .int64(at.milliseconds)])
            recorded += try execute(PushSQL.markClaimSent, [.text(claim), .int64(at.milliseconds)])
        }
        return recorded
    }

    func usersWithReleasablePushes(now: Timestamp, limit: Int) throws -> [Int64] {
        try query(PushSQL.releasableUsers, [.int64(now.milliseconds), .int64(Int64(limit))]).map { try $0.int64("user_id") }
    }

    func takeReleasablePushes(userID: Int64, now: Timestamp) throws -> [OutboxPush] {
        let statement = dialect == .postgresql ? PushSQL.releasablePostgres : PushSQL.releasableSQLite
        return try query(statement, [.int64(userID), .int64(now.milliseconds)]).map(PushSQL.decode)
    }

    func settleHeldPushes(ids: [Int64], state: PushState, summaryID: Int64?, reason: String?, at: Timestamp) throws {
        for id in ids {
            try execute(PushSQL.settleHeld, [
                .int64(id), .text(state.rawValue), summaryID.map { .int64($0) } ?? .null, .int64(at.milliseconds),
                reason.map { .text($0) } ?? .null,
            ])
        }
    }

    func rescheduleHeldPushes(userID: Int64, holdUntil: Timestamp) throws -> Int {
        try execute(PushSQL.reschedule, [.int64(userID), .int64(holdUntil.milliseconds)])
    }

    func deleteSettledPushes(before: Timestamp) throws -> Int {
        try execute(PushSQL.deleteSettled, [.int64(before.milliseconds)])
    }
}

/// The SQL of Web Push (migration 9).
enum PushSQL {
    static let subscriptionColumns = "id, user_id, endpoint, p256dh, auth, label, session_id, expires_at, created_at, last_used_at"
    static let subscriptionsOfUser = SQLStatement(
        "SELECT \(subscriptionColumns) FROM push_subscriptions WHERE user_id = $1 ORDER BY id DESC")
    static let subscriptionByEndpoint = SQLStatement("SELECT \(subscriptionColumns) FROM push_subscriptions WHERE endpoint = $1")

    /// One row per subscription of a member with the member's preferences; members without a
    /// subscription are not there at all.
    private static let recipientColumns = """
        s.id, s.user_id, s.endpoint, s.p256dh, s.auth, s.label, s.session_id, s.expires_at, s.created_at, s.last_used_at, \
        p.email_enabled, p.task_shared, p.task_completed, p.comment_added, p.quiet_start, p.quiet_end, p.quiet_time_zone, \
        p.push_enabled, p.push_task_shared, p.push_task_completed, p.push_comment_added
        """
    static let taskRecipients = SQLStatement("""
        SELECT \(recipientColumns) FROM (
            SELECT owner_id AS user_id FROM tasks WHERE id = $1
            UNION SELECT user_id FROM task_shares WHERE task_id = $1
        ) m JOIN push_subscriptions s ON s.user_id = m.user_id LEFT JOIN notification_preferences p ON p.user_id = m.user_id
        ORDER BY s.user_id, s.id
        """)
    static let userRecipient = SQLStatement("""
        SELECT \(recipientColumns) FROM push_subscriptions s LEFT JOIN notification_preferences p ON p.user_id = s.user_id
        WHERE s.user_id = $1 ORDER BY s.id
        """)

    static func recipients(_ rows: [SQLRow]) throws -> [PushRecipient] {
        var out: [PushRecipient] = []
        for row in rows {
            let subscription = try decodeSubscription(row)
            if let last = out.last, last.userID == subscription.userID {
                out[out.count - 1].subscriptions.append(subscription)
            } else {
                out.append(PushRecipient(userID: subscription.userID, preferences: try MailSQL.decodePreferences(row), subscriptions: [subscription]))
            }
        }
        return out
    }

    /// Insert, or take over the endpoint (a browser signed in as someone else now): the keys,
    /// label and device are the newest; `created_at` restarts when it changes hands.
    static let upsertSubscription = SQLStatement("""
        INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, label, session_id, expires_at, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (endpoint) DO UPDATE SET
            created_at = CASE WHEN push_subscriptions.user_id = excluded.user_id THEN push_subscriptions.created_at ELSE excluded.created_at END,
            last_used_at = CASE WHEN push_subscriptions.user_id = excluded.user_id THEN push_subscriptions.last_used_at ELSE NULL END,
            user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth, label = excluded.label,
            session_id = excluded.session_id, expires_at = excluded.expires_at
        RETURNING \(subscriptionColumns)
        """)
    static let deleteSubscription = SQLStatement("DELETE FROM push_subscriptions WHERE id = $1")
    static let deleteSubscriptionOfUser = SQLStatement("DELETE FROM push_subscriptions WHERE id = $1 AND user_id = $2")

    static func decodeSubscription(_ row: SQLRow, prefix: String = "") throws -> PushSubscriptionRecord {
        guard let p256dh = Base64URL.decode(Array(try row.string(prefix + "p256dh").utf8)),
              let auth = Base64URL.decode(Array(try row.string(prefix + "auth").utf8))
        else { throw StoreError(.failure) }
        return PushSubscriptionRecord(
            id: try row.int64(prefix + "id"), userID: try row.int64(prefix + "user_id"), endpoint: try row.string(prefix + "endpoint"),
            p256dh: p256dh, auth: auth, label: try row.string(prefix + "label"), sessionID: try row.optionalString(prefix + "session_id"),
            expiresAt: try row.optionalInt64(prefix + "expires_at").map(Timestamp.init(milliseconds:)),
            createdAt: Timestamp(milliseconds: try row.int64(prefix + "created_at")),
            lastUsedAt: try row.optionalInt64(prefix + "last_used_at").map(Timestamp.init(milliseconds:))
        )
    }

    static let columns = """
        id, subscription_id, user_id, kind, task_id, sender_id, payload, urgency, state, hold_until, attempts, expires_at, \
        last_error, summary_id, created_at, sent_at
        """
    static let insert = SQLStatement("""
        INSERT INTO push_outbox
            (subscription_id, user_id, kind, task_id, sender_id, payload, urgency, state, hold_until, next_attempt_at, expires_at, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $11, $10, $11)
        RETURNING id
        """)
    /// `$1` is a JSON array of `[subscriptionID, userID, holdUntil|null]`; the rest is common.
    static let insertMany = SQLStatement(
        postgres: """
            INSERT INTO push_outbox
                (subscription_id, user_id, kind, task_id, sender_id, payload, urgency, state, hold_until, next_attempt_at, expires_at, created_at)
            SELECT CAST(e ->> 0 AS BIGINT), CAST(e ->> 1 AS BIGINT), $2, $3, $4, $5, $6,
                CASE WHEN e ->> 2 IS NULL THEN 'queued' ELSE 'held' END, CAST(e ->> 2 AS BIGINT), $8, $7, $8
            FROM jsonb_array_elements(CAST($1 AS jsonb)) AS e
            """,
        sqlite: """
            INSERT INTO push_outbox
                (subscription_id, user_id, kind, task_id, sender_id, payload, urgency, state, hold_until, next_attempt_at, expires_at, created_at)
            SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), $2, $3, $4, $5, $6,
                CASE WHEN json_extract(value, '$[2]') IS NULL THEN 'queued' ELSE 'held' END, json_extract(value, '$[2]'), $8, $7, $8
            FROM json_each($1)
            """
    )
    /// Per subscription in the JSON array `$1`: pushes (summaries excluded) after `$2`; one index
    /// range each.
    static let counts = SQLStatement(
        postgres: """
            SELECT subscription_id, COUNT(*) AS n FROM push_outbox
            WHERE subscription_id IN (SELECT CAST(jsonb_array_elements_text(CAST($1 AS jsonb)) AS BIGINT))
                AND created_at > $2 AND kind <> 'summary'
            GROUP BY subscription_id
            """,
        sqlite: """
            SELECT subscription_id, COUNT(*) AS n FROM push_outbox
            WHERE subscription_id IN (SELECT value FROM json_each($1)) AND created_at > $2 AND kind <> 'summary'
            GROUP BY subscription_id
            """
    )
    /// A "shared with you" that was never shown (dropped: access was revoked before it went)
    /// does not make a new share old news.
    static let countsAbout = SQLStatement(
        postgres: """
            SELECT subscription_id, COUNT(*) AS n FROM push_outbox
            WHERE subscription_id IN (SELECT CAST(jsonb_array_elements_text(CAST($1 AS jsonb)) AS BIGINT))
                AND created_at > $2 AND kind = $3 AND task_id = $4 AND state <> 'dropped'
            GROUP BY subscription_id
            """,
        sqlite: """
            SELECT subscription_id, COUNT(*) AS n FROM push_outbox
            WHERE subscription_id IN (SELECT value FROM json_each($1)) AND created_at > $2 AND kind = $3 AND task_id = $4 AND state <> 'dropped'
            GROUP BY subscription_id
            """
    )
    static let countFromSender = SQLStatement(
        "SELECT COUNT(*) AS n FROM push_outbox WHERE sender_id = $1 AND created_at > $2")
    static let byUser = SQLStatement("SELECT \(columns) FROM push_outbox WHERE user_id = $1 ORDER BY id")

    static let nextDue = SQLStatement("""
        SELECT MIN(due) AS due FROM (
            SELECT MIN(next_attempt_at) AS due FROM push_outbox WHERE state = 'queued'
            UNION ALL SELECT MIN(claimed_until) FROM push_outbox WHERE state = 'sending'
            UNION ALL SELECT MIN(hold_until) FROM push_outbox WHERE state = 'held'
        ) d
        """)

    private static let due = """
        SELECT id FROM push_outbox
        WHERE (state = 'queued' AND next_attempt_at <= $2) OR (state = 'sending' AND claimed_until < $2)
        ORDER BY next_attempt_at, id LIMIT $4
        """
    private static func claim(_ due: String) -> String {
        """
        UPDATE push_outbox SET state = 'sending', claimed_by = $1, claimed_until = $3, attempts = attempts + 1
        WHERE id IN (\(due))
        """
    }
    static let claimPostgres = SQLStatement(claim(due + " FOR UPDATE SKIP LOCKED"))
    static let claimSQLite = SQLStatement(claim(due))
    /// What one claim took, with its subscriptions and whether each recipient still sees the
    /// task (owner or sharee now).
    static let claimedBy = SQLStatement("""
        SELECT o.id, o.subscription_id, o.user_id, o.kind, o.task_id, o.sender_id, o.payload, o.urgency, o.state, o.hold_until,
            o.attempts, o.expires_at, o.last_error, o.summary_id, o.created_at, o.sent_at,
            s.id AS s_id, s.user_id AS s_user_id, s.endpoint AS s_endpoint, s.p256dh AS s_p256dh, s.auth AS s_auth,
            s.label AS s_label, s.session_id AS s_session_id, s.expires_at AS s_expires_at, s.created_at AS s_created_at,
            s.last_used_at AS s_last_used_at,
            CASE WHEN o.task_id IS NULL THEN 1
                 WHEN EXISTS (SELECT 1 FROM tasks t WHERE t.id = o.task_id AND t.owner_id = o.user_id) THEN 1
                 WHEN EXISTS (SELECT 1 FROM task_shares sh WHERE sh.task_id = o.task_id AND sh.user_id = o.user_id) THEN 1
                 ELSE 0 END AS visible
        FROM push_outbox o JOIN push_subscriptions s ON s.id = o.subscription_id
        WHERE o.claimed_by = $1 AND o.state = 'sending'
        ORDER BY o.created_at, o.id
        """)

    /// The rest of a claim once every other outcome is recorded: sent. Rows another instance
    /// took over after a lapse have its claim, not this one, and stay its own.
    static let markClaimSent = SQLStatement("""
        UPDATE push_outbox SET state = 'sent', sent_at = $2, claimed_by = NULL, claimed_until = NULL, last_error = NULL
        WHERE claimed_by = $1 AND state = 'sending'
        """)
    static let touchClaimed = SQLStatement("""
        UPDATE push_subscriptions SET last_used_at = $2
        WHERE id IN (SELECT subscription_id FROM push_outbox WHERE claimed_by = $1 AND state = 'sending')
        """)
    static let markRetry = SQLStatement("""
        UPDATE push_outbox SET state = 'queued', next_attempt_at = $3, last_error = $4, claimed_by = NULL, claimed_until = NULL
        WHERE id = $1 AND state = 'sending' AND claimed_by = $2
        """)
    static let markSettled = SQLStatement("""
        UPDATE push_outbox SET state = $3, last_error = $4, claimed_by = NULL, claimed_until = NULL
        WHERE id = $1 AND state = 'sending' AND claimed_by = $2
        """)

    static let releasableUsers = SQLStatement("""
        SELECT DISTINCT user_id FROM push_outbox WHERE state = 'held' AND hold_until <= $1 ORDER BY user_id LIMIT $2
        """)
    private static let releasable = "SELECT \(columns) FROM push_outbox WHERE user_id = $1 AND state = 'held' AND hold_until <= $2 ORDER BY id"
    static let releasablePostgres = SQLStatement(releasable + " FOR UPDATE SKIP LOCKED")
    static let releasableSQLite = SQLStatement(releasable)
    static let settleHeld = SQLStatement("""
        UPDATE push_outbox SET state = $2, summary_id = $3, hold_until = NULL, next_attempt_at = $4, last_error = $5
        WHERE id = $1 AND state = 'held'
        """)
    static let reschedule = SQLStatement("UPDATE push_outbox SET hold_until = $2 WHERE user_id = $1 AND state = 'held'")
    static let deleteSettled = SQLStatement("""
        DELETE FROM push_outbox WHERE state IN ('sent', 'failed', 'summarized', 'dropped') AND created_at < $1
        """)

    static func decode(_ row: SQLRow) throws -> OutboxPush {
        guard let kind = PushKind(rawValue: try row.string("kind")), let state = PushState(rawValue: try row.string("state")),
              let urgency = PushUrgency(rawValue: try row.string("urgency"))
        else { throw StoreError(.failure) }
        let push = NewPush(
            subscriptionID: try row.int64("subscription_id"), userID: try row.int64("user_id"), kind: kind,
            taskID: try row.optionalInt64("task_id"), senderID: try row.optionalInt64("sender_id"), payload: try row.string("payload"),
            urgency: urgency, holdUntil: try row.optionalInt64("hold_until").map(Timestamp.init(milliseconds:)),
            expiresAt: Timestamp(milliseconds: try row.int64("expires_at")), createdAt: Timestamp(milliseconds: try row.int64("created_at"))
        )
        return OutboxPush(
            id: try row.int64("id"), push: push, state: state, attempts: try row.int("attempts"), lastError: try row.optionalString("last_error"),
            sentAt: try row.optionalInt64("sent_at").map(Timestamp.init(milliseconds:)), summaryID: try row.optionalInt64("summary_id")
        )
    }
}
