package import Handlers
package import JSON

/// One source row's outcome as `import_map` records it (migration 11).
package enum ImportOutcome: String, Sendable {
    case imported, reserved, skipped
}

/// What `import_map` says about one source row.
package struct ImportMapEntry: Sendable, Hashable {
    package var farosID: Int64?
    package var outcome: ImportOutcome
    package var note: String?

    package init(farosID: Int64?, outcome: ImportOutcome, note: String?) {
        self.farosID = farosID
        self.outcome = outcome
        self.note = note
    }
}

/// The rows one batch of `faros import` writes, already checked against Faros's rules and with
/// every reference resolved to a Faros id. Each carries the source row's id, which goes into
/// `import_map` in the same transaction.
package enum ImportRow: Sendable {
    case user(sourceID: Int64, ImportedUser, note: String?)
    case task(sourceID: Int64, ImportedTask, note: String?)
    case share(sourceID: Int64, ImportedShare)
    case comment(sourceID: Int64, ImportedComment)
    case file(sourceID: Int64, ImportedFile)
    case preferences(sourceID: Int64, ImportedPreferences)
    case activity(sourceID: Int64, ImportedActivity)
    /// A row Faros cannot take: recorded with its reason, never retried.
    case skip(kind: String, sourceID: Int64, reason: String)
}

package struct ImportedUser: Sendable {
    package var username: String
    package var email: String
    package var emailVerified: Bool
    package var passwordHash: String
    package var createdAt: Timestamp
    package var avatar: AvatarRecord?

    package init(username: String, email: String, emailVerified: Bool, passwordHash: String, createdAt: Timestamp, avatar: AvatarRecord?) {
        self.username = username
        self.email = email
        self.emailVerified = emailVerified
        self.passwordHash = passwordHash
        self.createdAt = createdAt
        self.avatar = avatar
    }
}

package struct ImportedTask: Sendable {
    package var ownerID: Int64
    package var fields: TaskFields
    package var createdAt: Timestamp
    package var updatedAt: Timestamp

    package init(ownerID: Int64, fields: TaskFields, createdAt: Timestamp, updatedAt: Timestamp) {
        self.ownerID = ownerID
        self.fields = fields
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

package struct ImportedShare: Sendable {
    package var taskID: Int64
    package var userID: Int64
    package var permission: SharePermission
    package var sharedAt: Timestamp
    package var sharedBy: Int64?

    package init(taskID: Int64, userID: Int64, permission: SharePermission, sharedAt: Timestamp, sharedBy: Int64?) {
        self.taskID = taskID
        self.userID = userID
        self.permission = permission
        self.sharedAt = sharedAt
        self.sharedBy = sharedBy
    }
}

package struct ImportedComment: Sendable {
    package var taskID: Int64
    package var authorID: Int64
    package var content: String
    package var createdAt: Timestamp
    package var updatedAt: Timestamp

    package init(taskID: Int64, authorID: Int64, content: String, createdAt: Timestamp, updatedAt: Timestamp) {
        self.taskID = taskID
        self.authorID = authorID
        self.content = content
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

package struct ImportedFile: Sendable {
    package var taskID: Int64
    package var filename: String
    package var size: Int64
    package var contentType: String
    package var storageKey: String
    package var uploadedBy: Int64?
    package var uploadedAt: Timestamp

    package init(taskID: Int64, filename: String, size: Int64, contentType: String, storageKey: String, uploadedBy: Int64?, uploadedAt: Timestamp) {
        self.taskID = taskID
        self.filename = filename
        self.size = size
        self.contentType = contentType
        self.storageKey = storageKey
        self.uploadedBy = uploadedBy
        self.uploadedAt = uploadedAt
    }
}

package struct ImportedPreferences: Sendable {
    package var userID: Int64
    package var emailEnabled: Bool
    package var taskShared: Bool
    package var taskCompleted: Bool
    package var commentAdded: Bool
    package var updatedAt: Timestamp

    package init(userID: Int64, emailEnabled: Bool, taskShared: Bool, taskCompleted: Bool, commentAdded: Bool, updatedAt: Timestamp) {
        self.userID = userID
        self.emailEnabled = emailEnabled
        self.taskShared = taskShared
        self.taskCompleted = taskCompleted
        self.commentAdded = commentAdded
        self.updatedAt = updatedAt
    }
}

/// A history entry: numbered in the event log as it is written, with no audience, so nobody
/// receives it live and no replay sends it; timelines and `activity.list` show it.
package struct ImportedActivity: Sendable {
    package var actorID: Int64
    package var action: ActivityAction
    package var resourceID: Int64
    package var taskID: Int64
    package var details: JSONObject
    package var data: JSONValue
    package var createdAt: Timestamp

    package init(actorID: Int64, action: ActivityAction, resourceID: Int64, taskID: Int64, details: JSONObject, data: JSONValue, createdAt: Timestamp) {
        self.actorID = actorID
        self.action = action
        self.resourceID = resourceID
        self.taskID = taskID
        self.details = details
        self.data = data
        self.createdAt = createdAt
    }
}

/// The store's side of `faros import`: the id map, and batches of rows written in one
/// transaction each with their map rows, so a batch is there entirely or not at all.
package struct ImportTarget: Sendable {
    package let store: SQLStore
    /// Names the source in `import_map` (e.g. `faros://dbname/schema`).
    package let source: String

    package init(store: SQLStore, source: String) {
        self.store = store
        self.source = source
    }

    /// Gives SQLite's writer a page cache that holds an import's working set (64 MiB instead of
    /// the default 2 MiB; it is bounded, so memory stays flat): with 100,000 tasks, their five
    /// indexes, the search index and the map, the default cache re-reads and re-writes pages
    /// for every batch. The writer keeps it until the store closes. Nothing on PostgreSQL.
    package func prepareForBulkWrites() async throws {
        try await store.write(connection: { connection in
            if connection.dialect == .sqlite { try connection.executeScript("PRAGMA cache_size = -65536") }
        })
    }

    /// The highest source id of `kind` already dealt with: a run resumes after it (source ids
    /// only grow, and each batch goes in id order).
    package func cursor(kind: String) async throws -> Int64 {
        let source = self.source
        return try await store.read(connection: { connection in
            guard let row = try connection.query(ImportSQL.cursor, [.text(source), .text(kind)]).first else { return 0 }
            return try row.optionalInt64("last") ?? 0
        })
    }

    /// How many rows of each kind earlier runs recorded, by outcome.
    package func tallies() async throws -> [String: [ImportOutcome: Int]] {
        let source = self.source
        return try await store.read(connection: { connection in
            var tallies: [String: [ImportOutcome: Int]] = [:]
            for row in try connection.query(ImportSQL.tallies, [.text(source)]) {
                guard let outcome = ImportOutcome(rawValue: try row.string("outcome")) else { continue }
                tallies[try row.string("kind"), default: [:]][outcome] = try row.int("n")
            }
            return tallies
        })
    }

    /// The map's entries for these source ids of `kind` (absent: never seen).
    package func lookup(kind: String, sourceIDs: some Collection<Int64>) async throws -> [Int64: ImportMapEntry] {
        guard !sourceIDs.isEmpty else { return [:] }
        let source = self.source
        let ids = "[" + Set(sourceIDs).map(String.init).joined(separator: ",") + "]"
        return try await store.read(connection: { connection in
            var found: [Int64: ImportMapEntry] = [:]
            for row in try connection.query(ImportSQL.lookup, [.text(source), .text(kind), .text(ids)]) {
                guard let outcome = ImportOutcome(rawValue: try row.string("outcome")) else { throw StoreError(.failure) }
                found[try row.int64("source_id")] = ImportMapEntry(
                    farosID: try row.optionalInt64("faros_id"), outcome: outcome, note: try row.optionalString("note"))
            }
            return found
        })
    }

    /// Which of these folded usernames and addresses existing accounts already hold.
    package func takenAccounts(usernames: [String], emails: [String]) async throws -> (usernames: Set<String>, emails: Set<String>) {
        guard !usernames.isEmpty || !emails.isEmpty else { return ([], []) }
        // JSON arrays of strings, written as `tasks.tags` is.
        let names = TagList.encode(usernames)
        let addresses = TagList.encode(emails)
        return try await store.read(connection: { connection in
            var taken: (usernames: Set<String>, emails: Set<String>) = ([], [])
            for row in try connection.query(ImportSQL.takenUsernames, [.text(names)]) { taken.usernames.insert(try row.string("username_folded")) }
            for row in try connection.query(ImportSQL.takenEmails, [.text(addresses)]) { taken.emails.insert(try row.string("email")) }
            return taken
        })
    }

    /// Sets aside a fresh Faros id of `kind` (`task`, `comment` or `file`) for each source row
    /// the source deleted but its history names, and records it; ids already set aside are
    /// returned as they are.
    package func reserve(kind: String, sourceIDs: [Int64]) async throws -> [Int64: Int64] {
        guard !sourceIDs.isEmpty, let table = ImportSQL.reservableTables[kind] else { return [:] }
        let source = self.source
        return try await store.write(connection: { connection in
            var reserved: [Int64: Int64] = [:]
            for sourceID in sourceIDs {
                if let row = try connection.query(ImportSQL.entry, [.text(source), .text(kind), .int64(sourceID)]).first,
                   let id = try row.optionalInt64("faros_id") {
                    reserved[sourceID] = id
                    continue
                }
                let id = try ImportSQL.nextID(connection, table: table)
                try connection.execute(ImportSQL.insertMap, [
                    .text(source), .text(kind), .int64(sourceID), .int64(id), .text(ImportOutcome.reserved.rawValue), .text("deleted in the source"),
                ])
                reserved[sourceID] = id
            }
            return reserved
        })
    }

    /// Records blobs about to be written, before their batch commits.
    package func registerPendingBlobs(_ keys: [String], at: Timestamp) async throws {
        guard !keys.isEmpty else { return }
        try await store.write(connection: { connection in
            for key in keys {
                try connection.executeLater(ImportSQL.insertPendingBlob, [.text(key), .int64(at.milliseconds)])
            }
        })
    }

    /// Blobs an earlier run wrote whose batch never committed, with nothing pointing at them.
    package func orphanedPendingBlobs() async throws -> [String] {
        try await store.read(connection: { connection in
            try connection.query(ImportSQL.orphanedPendingBlobs, []).map { try $0.string("storage_key") }
        })
    }

    package func forgetPendingBlobs(_ keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        try await store.write(connection: { connection in
            for key in keys { try connection.executeLater(ImportSQL.deletePendingBlob, [.text(key)]) }
        })
    }

    /// The rows earlier runs skipped or imported with a note, in kind and id order, at most `limit`.
    package func notes(limit: Int) async throws -> [(kind: String, sourceID: Int64, outcome: ImportOutcome, note: String)] {
        let source = self.source
        return try await store.read(connection: { connection in
            try connection.query(ImportSQL.notes, [.text(source), .int64(Int64(limit))]).compactMap { row in
                guard let outcome = ImportOutcome(rawValue: try row.string("outcome")), let note = try row.optionalString("note") else { return nil }
                return (try row.string("kind"), try row.int64("source_id"), outcome, note)
            }
        })
    }

    /// Writes one batch in one transaction: each row and its `import_map` row. A row that an
    /// existing one blocks (an account whose name or address is taken, a share already there)
    /// is recorded as skipped with `conflictReason`. Returns, per row, nil when it was written
    /// as asked, else the reason it was skipped.
    package func write(_ rows: [ImportRow], kind: String, conflictReason: String) async throws -> [String?] {
        let source = self.source
        return try await store.write(connection: { connection in
            var writer = ImportWriter(connection: connection, source: source, kind: kind, conflictReason: conflictReason)
            return try writer.write(rows)
        })
    }
}

/// Writes one batch inside its transaction (``ImportTarget/write(_:kind:conflictReason:)``).
struct ImportWriter {
    let connection: any SQLConnection
    let source: String
    let kind: String
    let conflictReason: String
    /// The event log's head, locked at the first history entry of the batch.
    private var head: Int64?

    init(connection: any SQLConnection, source: String, kind: String, conflictReason: String) {
        self.connection = connection
        self.source = source
        self.kind = kind
        self.conflictReason = conflictReason
    }

    mutating func write(_ rows: [ImportRow]) throws -> [String?] {
        var results: [String?] = []
        results.reserveCapacity(rows.count)
        for row in rows {
            let (sourceID, farosID, note, skipped): (Int64, Int64?, String?, String?)
            switch row {
            case .user(let id, let user, let rowNote):
                let inserted = try insert(user)
                (sourceID, farosID, note, skipped) = (id, inserted, rowNote, inserted == nil ? conflictReason : nil)
            case .task(let id, let task, let rowNote):
                (sourceID, farosID, note, skipped) = (id, try insert(task), rowNote, nil)
            case .share(let id, let share):
                let done = try connection.execute(ImportSQL.insertShare, [
                    .int64(share.taskID), .int64(share.userID), .text(share.permission.rawValue),
                    .int64(share.sharedAt.milliseconds), share.sharedBy.map(SQLValue.int64) ?? .null,
                ]) > 0
                (sourceID, farosID, note, skipped) = (id, done ? share.userID : nil, nil, done ? nil : conflictReason)
            case .comment(let id, let comment):
                let inserted = try connection.query(ImportSQL.insertComment, [
                    .int64(comment.taskID), .int64(comment.authorID), .text(comment.content),
                    .int64(comment.createdAt.milliseconds), .int64(comment.updatedAt.milliseconds),
                ]).first?.int64("id")
                guard let inserted else { throw StoreError(.failure) }
                (sourceID, farosID, note, skipped) = (id, inserted, nil, nil)
            case .file(let id, let file):
                let inserted = try connection.query(ImportSQL.insertFile, [
                    .int64(file.taskID), .text(file.filename), .int64(file.size), .text(file.contentType), .text(file.storageKey),
                    .text("\"\(file.storageKey)\""), file.uploadedBy.map(SQLValue.int64) ?? .null, .int64(file.uploadedAt.milliseconds),
                ]).first?.int64("id")
                guard let inserted else { throw StoreError(.failure) }
                try connection.executeLater(ImportSQL.deletePendingBlob, [.text(file.storageKey)])
                (sourceID, farosID, note, skipped) = (id, inserted, nil, nil)
            case .preferences(let id, let preferences):
                let done = try connection.execute(ImportSQL.insertPreferences, [
                    .int64(preferences.userID), .bool(preferences.emailEnabled), .bool(preferences.taskShared),
                    .bool(preferences.taskCompleted), .bool(preferences.commentAdded), .int64(preferences.updatedAt.milliseconds),
                ]) > 0
                (sourceID, farosID, note, skipped) = (id, done ? preferences.userID : nil, nil, done ? nil : conflictReason)
            case .activity(let id, let activity):
                (sourceID, farosID, note, skipped) = (id, try insert(activity), nil, nil)
            case .skip(let skippedKind, let id, let reason):
                try connection.executeLater(ImportSQL.insertMap, [
                    .text(source), .text(skippedKind), .int64(id), .null, .text(ImportOutcome.skipped.rawValue), .text(reason),
                ])
                results.append(reason)
                continue
            }
            let outcome: ImportOutcome = skipped == nil ? .imported : .skipped
            try connection.executeLater(ImportSQL.insertMap, [
                .text(source), .text(kind), .int64(sourceID), farosID.map(SQLValue.int64) ?? .null,
                .text(outcome.rawValue), .text(skipped ?? note),
            ])
            results.append(skipped)
        }
        if let head { try connection.executeLater(EventLogSQL.setHead, [.int64(head)]) }
        return results
    }

    private func insert(_ user: ImportedUser) throws -> Int64? {
        let avatar = user.avatar
        let row = try connection.query(ImportSQL.insertUser, [
            .text(user.username), .text(TextRules.fold(user.username)), .text(user.email), .bool(user.emailVerified),
            .text(user.passwordHash), .text(avatar?.etag), .int64(user.createdAt.milliseconds),
            .text(avatar?.storageKey), .text(avatar?.contentType), avatar.map { SQLValue.int64($0.size) } ?? .null,
        ]).first
        if let avatar, row != nil { try connection.executeLater(ImportSQL.deletePendingBlob, [.text(avatar.storageKey)]) }
        return try row?.int64("id")
    }

    private func insert(_ task: ImportedTask) throws -> Int64 {
        let tags = TagList.folded(task.fields.tags)
        var bindings: [SQLValue] = [.int64(task.ownerID)]
        var fields = task.fields
        fields.tags = tags.map(\.tag)
        TaskSQL.appendFieldBindings(fields, to: &bindings)
        bindings.append(.int64(task.createdAt.milliseconds))
        bindings.append(.int64(task.updatedAt.milliseconds))
        guard let id = try connection.query(ImportSQL.insertTask, bindings).first?.int64("id") else { throw StoreError(.failure) }
        try SQLTransaction(connection: connection).insertTags(taskID: id, createdAt: task.createdAt, tags)
        return id
    }

    private mutating func insert(_ activity: ImportedActivity) throws -> Int64 {
        let last: Int64
        if let head { last = head } else { last = try EventLogSQL.lockHead(connection) }
        let seq = last + 1
        head = seq
        let rows = try connection.query(ImportSQL.insertActivity, [
            .int64(seq), .int64(activity.actorID), .text(activity.action.rawValue), .text(activity.action.resourceType.rawValue),
            .int64(activity.resourceID), .int64(activity.taskID),
            .text(String(decoding: JSONWriter.serialize(.object(activity.details)), as: UTF8.self)),
            .text(String(decoding: JSONWriter.serialize(activity.data), as: UTF8.self)),
            .int64(activity.createdAt.milliseconds),
        ])
        guard let id = try rows.first?.int64("id") else { throw StoreError(.failure) }
        return id
    }
}

/// `faros import`'s statements.
enum ImportSQL {
    static let cursor = SQLStatement("SELECT MAX(source_id) AS last FROM import_map WHERE source = $1 AND kind = $2")
    static let tallies = SQLStatement("SELECT kind, outcome, COUNT(*) AS n FROM import_map WHERE source = $1 GROUP BY kind, outcome")
    static let entry = SQLStatement("SELECT faros_id FROM import_map WHERE source = $1 AND kind = $2 AND source_id = $3")
    static let lookup = SQLStatement(
        postgres: """
            SELECT source_id, faros_id, outcome, note FROM import_map
            WHERE source = $1 AND kind = $2 AND source_id IN (SELECT CAST(jsonb_array_elements_text(CAST($3 AS jsonb)) AS BIGINT))
            """,
        sqlite: """
            SELECT source_id, faros_id, outcome, note FROM import_map
            WHERE source = $1 AND kind = $2 AND source_id IN (SELECT value FROM json_each($3))
            """
    )
    static let takenUsernames = SQLStatement(
        postgres: "SELECT username_folded FROM users WHERE username_folded IN (SELECT jsonb_array_elements_text(CAST($1 AS jsonb)))",
        sqlite: "SELECT username_folded FROM users WHERE username_folded IN (SELECT value FROM json_each($1))"
    )
    static let takenEmails = SQLStatement(
        postgres: "SELECT email FROM users WHERE email IN (SELECT jsonb_array_elements_text(CAST($1 AS jsonb)))",
        sqlite: "SELECT email FROM users WHERE email IN (SELECT value FROM json_each($1))"
    )
    static let notes = SQLStatement("""
        SELECT kind, source_id, outcome, note FROM import_map
        WHERE source = $1 AND note IS NOT NULL AND outcome <> 'reserved'
        ORDER BY kind, source_id LIMIT $2
        """)
    static let insertMap = SQLStatement("""
        INSERT INTO import_map (source, kind, source_id, faros_id, outcome, note) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT DO NOTHING
        """)
    static let insertPendingBlob = SQLStatement("INSERT INTO import_pending_blobs (storage_key, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
    static let deletePendingBlob = SQLStatement("DELETE FROM import_pending_blobs WHERE storage_key = $1")
    static let orphanedPendingBlobs = SQLStatement("""
        SELECT p.storage_key FROM import_pending_blobs p
        WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.storage_key = p.storage_key)
          AND NOT EXISTS (SELECT 1 FROM users u WHERE u.avatar_key = p.storage_key)
        ORDER BY p.storage_key
        """)

    static let insertUser = SQLStatement("""
        INSERT INTO users (username, username_folded, email, email_verified, password_hash, avatar_etag, created_at,
            avatar_key, avatar_content_type, avatar_size)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT DO NOTHING
        RETURNING id
        """)
    static let insertTask = SQLStatement("""
        INSERT INTO tasks (owner_id, title, title_folded, description, description_folded, completed, priority, due_date, tags, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        RETURNING id
        """)
    static let insertShare = SQLStatement("""
        INSERT INTO task_shares (task_id, user_id, permission, shared_at, shared_by) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT DO NOTHING
        """)
    static let insertComment = SQLStatement("""
        INSERT INTO comments (task_id, author_id, content, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING id
        """)
    static let insertFile = SQLStatement("""
        INSERT INTO files (task_id, filename, size, content_type, storage_key, etag, uploaded_by, uploaded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        RETURNING id
        """)
    static let insertPreferences = SQLStatement("""
        INSERT INTO notification_preferences (user_id, email_enabled, task_shared, task_completed, comment_added, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (user_id) DO NOTHING
        """)
    /// Numbered as written (`$1`), with no audience set: history, never delivered live.
    static let insertActivity = SQLStatement("""
        INSERT INTO activity (seq, actor_id, actor_username, action, resource_type, resource_id, task_id, details, data, created_at, audience_set_id)
        VALUES ($1, $2, (SELECT username FROM users WHERE id = $2), $3, $4, $5, $6, $7, $8, $9, NULL)
        RETURNING id
        """)

    /// The kinds whose ids can be set aside, and their tables.
    static let reservableTables = ["task": "tasks", "comment": "comments", "file": "files"]

    /// Draws the next id of `table` without a row: SQLite's `AUTOINCREMENT` counter or the
    /// PostgreSQL identity's sequence, so no later row ever gets it.
    static func nextID(_ connection: any SQLConnection, table: String) throws(StoreError) -> Int64 {
        switch connection.dialect {
        case .postgresql:
            guard let id = try connection.query(SQLStatement("SELECT nextval(pg_get_serial_sequence('\(table)', 'id')) AS id"), []).first?.int64("id")
            else { throw StoreError(.failure) }
            return id
        case .sqlite:
            // The counter row exists once the table has had a row; the MAX covers rows whose
            // counter is behind (never, with AUTOINCREMENT, but it costs nothing).
            try connection.execute(SQLStatement("""
                INSERT INTO sqlite_sequence (name, seq) SELECT '\(table)', (SELECT COALESCE(MAX(id), 0) FROM \(table))
                WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = '\(table)')
                """), [])
            guard let id = try connection.query(SQLStatement("UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = '\(table)' RETURNING seq"), []).first?.int64("seq")
            else { throw StoreError(.failure) }
            return id
        }
    }
}
