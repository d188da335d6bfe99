import Handlers

extension SQLTransaction {
    // MARK: Preferences

    func notificationPreferences(userID: Int64) throws -> NotificationPreferences {
        guard let row = try query(MailSQL.preferences, [.int64(userID)]).first else { return .defaults }
        var quiet: QuietHours?
        if let start = try row.optionalInt64("quiet_start"), let end = try row.optionalInt64("quiet_end"),
           let zone = try row.optionalString("quiet_time_zone") {
            quiet = QuietHours(start: Int(start), end: Int(end), timeZone: zone)
        }
        return NotificationPreferences(
            emailEnabled: try row.bool("email_enabled"),
            taskShared: try row.bool("task_shared"),
            taskCompleted: try row.bool("task_completed"),
            commentAdded: try row.bool("comment_added"),
            quietHours: quiet,
            pushEnabled: try row.bool("push_enabled"),
            pushTaskShared: try row.bool("push_task_shared"),
            pushTaskCompleted: try row.bool("push_task_completed"),
            pushCommentAdded: try row.bool("push_comment_added")
        )
    }

    func putNotificationPreferences(userID: Int64, _ preferences: NotificationPreferences, at: Timestamp) throws {
        let quiet = preferences.quietHours
        try execute(MailSQL.putPreferences, [
            .int64(userID), .bool(preferences.emailEnabled), .bool(preferences.taskShared),
            .bool(preferences.taskCompleted), .bool(preferences.commentAdded),
            quiet.map { .int64(Int64($0.start)) } ?? .null, quiet.map { .int64(Int64($0.end)) } ?? .null,
            quiet.map { .text($0.timeZone) } ?? .null, .int64(at.milliseconds),
            .bool(preferences.pushEnabled), .bool(preferences.pushTaskShared), .bool(preferences.pushTaskCompleted),
            .bool(preferences.pushCommentAdded),
        ])
    }

    func mailRecipient(userID: Int64) throws -> MailRecipient? {
        try query(MailSQL.recipient, [.int64(userID)]).first.map(MailSQL.decodeRecipient)
    }

    func taskMailRecipients(taskID: Int64) throws -> [MailRecipient] {
        try query(MailSQL.taskRecipients, [.int64(taskID)]).map(MailSQL.decodeRecipient)
    }

    // MARK: Outbox

    @discardableResult
    func notificationMailCount(to userID: Int64, kind: MailKind?, taskID: Int64?, since: Timestamp) throws -> Int {
        let rows: [SQLRow]
        if let kind, let taskID {
            rows = try query(MailSQL.countToUserAbout, [.int64(userID), .int64(since.milliseconds), .text(kind.rawValue), .int64(taskID)])
        } else {
            rows = try query(MailSQL.countToUser, [.int64(userID), .int64(since.milliseconds)])
        }
        guard let row = rows.first else { throw StoreError(.failure) }
        return try row.int("n")
    }

    func notificationMailCount(from senderID: Int64, since: Timestamp) throws -> Int {
        guard let row = try query(MailSQL.countFromSender, [.int64(senderID), .int64(since.milliseconds)]).first else {
            throw StoreError(.failure)
        }
        return try row.int("n")
    }

    func enqueueMail(_ mail: NewOutboxMail) throws -> Int64 {
        let state: MailState = mail.holdUntil == nil ? .queued : .held
        let rows = try query(MailSQL.insert, [
            .text(mail.messageID), mail.userID.map { .int64($0) } ?? .null, .text(mail.kind.rawValue),
            .text(mail.recipient), .text(mail.subject), .text(mail.text), mail.html.map { .text($0) } ?? .null,
            mail.unsubscribeURL.map { .text($0) } ?? .null, mail.taskID.map { .int64($0) } ?? .null,
            .text(state.rawValue), mail.holdUntil.map { .int64($0.milliseconds) } ?? .null,
            .int64(mail.createdAt.milliseconds), mail.senderID.map { .int64($0) } ?? .null,
        ])
        guard let row = rows.first else { throw StoreError(.failure) }
        return try row.int64("id")
    }

    func deleteSettledMail(before: Timestamp) throws -> Int {
        try execute(MailSQL.deleteSettled, [.int64(before.milliseconds)])
    }

    func outboxMail(id: Int64) throws -> OutboxMail? {
        try query(MailSQL.byID, [.int64(id)]).first.map(MailSQL.decode)
    }

    func nextMailDue() throws -> Timestamp? {
        try query(MailSQL.nextDue, []).first.flatMap { try $0.optionalInt64("due") }.map(Timestamp.init(milliseconds:))
    }

    func outboxMails(userID: Int64) throws -> [OutboxMail] {
        try query(MailSQL.byUser, [.int64(userID)]).map(MailSQL.decode)
    }

    func claimDueMail(instance: String, now: Timestamp, leaseUntil: Timestamp, limit: Int) throws -> [OutboxMail] {
        let statement = dialect == .postgresql ? MailSQL.claimPostgres : MailSQL.claimSQLite
        return try query(statement, [.text(instance), .int64(now.milliseconds), .int64(leaseUntil.milliseconds), .int64(Int64(limit))])
            .map(MailSQL.decode)
            .sorted { ($0.mail.createdAt, $0.id) < ($1.mail.createdAt, $1.id) }
    }

    func completeMail(id: Int64, instance: String, outcome: MailOutcome, at: Timestamp) throws -> Bool {
        switch outcome {
        case .sent:
            return try execute(MailSQL.markSent, [.int64(id), .text(instance), .int64(at.milliseconds)]) > 0
        case .retry(let next, let error):
            return try execute(MailSQL.markRetry, [.int64(id), .text(instance), .int64(next.milliseconds), .text(error)]) > 0
        case .failed(let error):
            return try execute(MailSQL.markFailed, [.int64(id), .text(instance), .text(error)]) > 0
        }
    }

    func usersWithReleasableMail(now: Timestamp, limit: Int) throws -> [Int64] {
        try query(MailSQL.releasableUsers, [.int64(now.milliseconds), .int64(Int64(limit))]).map { try $0.int64("user_id") }
    }

    func takeReleasableMail(userID: Int64, now: Timestamp) throws -> [OutboxMail] {
        let statement = dialect == .postgresql ? MailSQL.releasablePostgres : MailSQL.releasableSQLite
        return try query(statement, [.int64(userID), .int64(now.milliseconds)]).map(MailSQL.decode)
    }

    func settleHeldMail(ids: [Int64], state: MailState, digestID: Int64?, at: Timestamp) throws {
        for id in ids {
            try execute(MailSQL.settleHeld, [
                .int64(id), .text(state.rawValue), digestID.map { .int64($0) } ?? .null, .int64(at.milliseconds),
            ])
        }
    }

    func rescheduleHeldMail(userID: Int64, holdUntil: Timestamp) throws -> Int {
        try execute(MailSQL.reschedule, [.int64(userID), .int64(holdUntil.milliseconds)])
    }
}

/// The SQL of preferences and the mail outbox (migration 5).
enum MailSQL {
    static let preferences = SQLStatement("""
        SELECT email_enabled, task_shared, task_completed, comment_added, quiet_start, quiet_end, quiet_time_zone,
            push_enabled, push_task_shared, push_task_completed, push_comment_added
        FROM notification_preferences WHERE user_id = $1
        """)
    static let putPreferences = SQLStatement("""
        INSERT INTO notification_preferences
            (user_id, email_enabled, task_shared, task_completed, comment_added, quiet_start, quiet_end, quiet_time_zone, updated_at,
             push_enabled, push_task_shared, push_task_completed, push_comment_added)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        ON CONFLICT (user_id) DO UPDATE SET
            email_enabled = excluded.email_enabled, task_shared = excluded.task_shared,
            task_completed = excluded.task_completed, comment_added = excluded.comment_added,
            quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,
            quiet_time_zone = excluded.quiet_time_zone, updated_at = excluded.updated_at,
            push_enabled = excluded.push_enabled, push_task_shared = excluded.push_task_shared,
            push_task_completed = excluded.push_task_completed, push_comment_added = excluded.push_comment_added
        """)

    private static let recipientColumns = """
        u.id, u.username, u.email, p.email_enabled, p.task_shared, p.task_completed, p.comment_added, \
        p.quiet_start, p.quiet_end, p.quiet_time_zone, p.push_enabled, p.push_task_shared, p.push_task_completed, \
        p.push_comment_added
        """
    static let recipient = SQLStatement("""
        SELECT \(recipientColumns) FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id
        WHERE u.id = $1 AND u.email_verified
        """)
    /// From the task's owner and its shares (by their keys) to users by id: one index lookup per
    /// member, whatever the size of `users`.
    static let taskRecipients = SQLStatement("""
        SELECT \(recipientColumns) FROM (
            SELECT owner_id AS user_id FROM tasks WHERE id = $1
            UNION SELECT user_id FROM task_shares WHERE task_id = $1
        ) m JOIN users u ON u.id = m.user_id LEFT JOIN notification_preferences p ON p.user_id = u.id
        WHERE u.email_verified
        ORDER BY u.id
        """)

    static func decodeRecipient(_ row: SQLRow) throws -> MailRecipient {
        MailRecipient(
            userID: try row.int64("id"), username: try row.string("username"), email: try row.string("email"),
            preferences: try decodePreferences(row)
        )
    }

    /// The preferences of a `LEFT JOIN notification_preferences p` row (defaults when absent).
    static func decodePreferences(_ row: SQLRow) throws -> NotificationPreferences {
        var preferences = NotificationPreferences.defaults
        if !(try row.isNull("email_enabled")) {
            preferences.pushEnabled = try row.bool("push_enabled")
            preferences.pushTaskShared = try row.bool("push_task_shared")
            preferences.pushTaskCompleted = try row.bool("push_task_completed")
            preferences.pushCommentAdded = try row.bool("push_comment_added")
            preferences.emailEnabled = try row.bool("email_enabled")
            preferences.taskShared = try row.bool("task_shared")
            preferences.taskCompleted = try row.bool("task_completed")
            preferences.commentAdded = try row.bool("comment_added")
            if let start = try row.optionalInt64("quiet_start"), let end = try row.optionalInt64("quiet_end"),
               let zone = try row.optionalString("quiet_time_zone") {
                preferences.quietHours = QuietHours(start: Int(start), end: Int(end), timeZone: zone)
            }
        }
        return preferences
    }

    /// Each part is one index range (`mail_outbox_due`, `mail_outbox_held`).
    static let nextDue = SQLStatement("""
        SELECT MIN(due) AS due FROM (
            SELECT MIN(next_attempt_at) AS due FROM mail_outbox WHERE state = 'queued'
            UNION ALL SELECT MIN(claimed_until) FROM mail_outbox WHERE state = 'sending'
            UNION ALL SELECT MIN(hold_until) FROM mail_outbox WHERE state = 'held'
        ) d
        """)

    static let deleteSettled = SQLStatement("""
        DELETE FROM mail_outbox WHERE state IN ('sent', 'failed', 'digested', 'dropped') AND created_at < $1
        """)

    static let columns = """
        id, message_id, user_id, kind, recipient, subject, text_body, html_body, unsubscribe_url, task_id, \
        state, hold_until, attempts, last_error, digest_id, created_at, sent_at, sender_id
        """

    static let insert = SQLStatement("""
        INSERT INTO mail_outbox
            (message_id, user_id, kind, recipient, subject, text_body, html_body, unsubscribe_url, task_id,
             state, hold_until, next_attempt_at, created_at, sender_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)
        RETURNING id
        """)

    /// The notification kinds (account mail and digests, which fold notifications already
    /// counted, are not).
    private static let notificationKinds = "kind IN ('task_shared', 'task_completed', 'comment_added')"
    /// Walks `mail_outbox_user_created (user_id, created_at)`.
    static let countToUser = SQLStatement(
        "SELECT COUNT(*) AS n FROM mail_outbox WHERE user_id = $1 AND created_at > $2 AND \(notificationKinds)")
    static let countToUserAbout = SQLStatement(
        "SELECT COUNT(*) AS n FROM mail_outbox WHERE user_id = $1 AND created_at > $2 AND kind = $3 AND task_id = $4")
    /// Walks `mail_outbox_sender (sender_id, created_at)`.
    static let countFromSender = SQLStatement(
        "SELECT COUNT(*) AS n FROM mail_outbox WHERE sender_id = $1 AND created_at > $2 AND \(notificationKinds)")
    static let byID = SQLStatement("SELECT \(columns) FROM mail_outbox WHERE id = $1")
    static let byUser = SQLStatement("SELECT \(columns) FROM mail_outbox WHERE user_id = $1 ORDER BY id")

    /// Due: queued and past its next attempt, or claimed by an instance whose lease lapsed (it
    /// died mid-send: at least once). Oldest due first.
    private static let due = """
        SELECT id FROM mail_outbox
        WHERE (state = 'queued' AND next_attempt_at <= $2) OR (state = 'sending' AND claimed_until < $2)
        ORDER BY next_attempt_at, id LIMIT $4
        """
    private static func claim(_ due: String) -> String {
        """
        UPDATE mail_outbox SET state = 'sending', claimed_by = $1, claimed_until = $3, attempts = attempts + 1
        WHERE id IN (\(due))
        RETURNING \(columns)
        """
    }
    /// Two instances never claim one row: PostgreSQL skips rows another claimer has locked;
    /// SQLite runs one write transaction at a time.
    static let claimPostgres = SQLStatement(claim(due + " FOR UPDATE SKIP LOCKED"))
    static let claimSQLite = SQLStatement(claim(due))

    /// Account mail carries a live reset or verification link: once settled, its body is no
    /// longer needed, so it does not stay readable in the database.
    private static let scrubAccountBodies = """
        text_body = CASE WHEN kind IN ('verification', 'password_reset') THEN '' ELSE text_body END,
        html_body = CASE WHEN kind IN ('verification', 'password_reset') THEN NULL ELSE html_body END
        """
    static let markSent = SQLStatement("""
        UPDATE mail_outbox SET state = 'sent', sent_at = $3, claimed_by = NULL, claimed_until = NULL, last_error = NULL,
            \(scrubAccountBodies)
        WHERE id = $1 AND state = 'sending' AND claimed_by = $2
        """)
    static let markRetry = SQLStatement("""
        UPDATE mail_outbox SET state = 'queued', next_attempt_at = $3, last_error = $4, claimed_by = NULL, claimed_until = NULL
        WHERE id = $1 AND state = 'sending' AND claimed_by = $2
        """)
    static let markFailed = SQLStatement("""
        UPDATE mail_outbox SET state = 'failed', last_error = $3, claimed_by = NULL, claimed_until = NULL,
            \(scrubAccountBodies)
        WHERE id = $1 AND state = 'sending' AND claimed_by = $2
        """)

    static let releasableUsers = SQLStatement("""
        SELECT DISTINCT user_id FROM mail_outbox
        WHERE state = 'held' AND hold_until <= $1 AND user_id IS NOT NULL
        ORDER BY user_id LIMIT $2
        """)
    private static let releasable = "SELECT \(columns) FROM mail_outbox WHERE user_id = $1 AND state = 'held' AND hold_until <= $2 ORDER BY id"
    static let releasablePostgres = SQLStatement(releasable + " FOR UPDATE SKIP LOCKED")
    static let releasableSQLite = SQLStatement(releasable)
    /// A released message becomes due now (`queued`), or is folded into a digest or dropped.
    static let settleHeld = SQLStatement("""
        UPDATE mail_outbox SET state = $2, digest_id = $3, hold_until = NULL, next_attempt_at = $4
        WHERE id = $1 AND state = 'held'
        """)
    static let reschedule = SQLStatement("UPDATE mail_outbox SET hold_until = $2 WHERE user_id = $1 AND state = 'held'")

    static func decode(_ row: SQLRow) throws -> OutboxMail {
        let kindText = try row.string("kind")
        let stateText = try row.string("state")
        guard let kind = MailKind(rawValue: kindText), let state = MailState(rawValue: stateText) else {
            throw StoreError(.failure)
        }
        let mail = NewOutboxMail(
            messageID: try row.string("message_id"),
            userID: try row.optionalInt64("user_id"),
            kind: kind,
            recipient: try row.string("recipient"),
            subject: try row.string("subject"),
            text: try row.string("text_body"),
            html: try row.optionalString("html_body"),
            unsubscribeURL: try row.optionalString("unsubscribe_url"),
            taskID: try row.optionalInt64("task_id"),
            holdUntil: try row.optionalInt64("hold_until").map(Timestamp.init(milliseconds:)),
            createdAt: Timestamp(milliseconds: try row.int64("created_at")),
            senderID: try row.optionalInt64("sender_id")
        )
        return OutboxMail(
            id: try row.int64("id"), mail: mail, state: state, attempts: try row.int("attempts"),
            lastError: try row.optionalString("last_error"),
            sentAt: try row.optionalInt64("sent_at").map(Timestamp.init(milliseconds:)),
            digestID: try row.optionalInt64("digest_id")
        )
    }
}
