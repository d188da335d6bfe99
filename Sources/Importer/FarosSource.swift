import Logging
import NIOPosix
import PostgresDriver

/// The FAROS database, read in batches in id order (keyset pages, so memory stays one batch
/// whatever the table's size, and a batch is one short statement, not a cursor held open).
///
/// FAROS's naive timestamps (`tasks.created_at`, `task_shares.shared_at`, …) are UTC (FAROS
/// writes them with `datetime.utcnow()`); every time comes out as milliseconds since the epoch,
/// truncated, which is Faros's precision.
struct FarosSource: Sendable {
    let pool: PostgresPool
    /// The quoted schema name, ready for SQL text.
    let schema: String
    /// Names the source in `import_map`: `faros://<database>/<schema>`.
    let name: String

    static func open(url: String, schema: String, threadPool: NIOThreadPool, logger: Logger) async throws -> FarosSource {
        var configuration = try PostgresConfiguration(url: url)
        configuration.poolSize = 2
        configuration.acquireTimeout = .seconds(30)
        configuration.applicationName = "faros import"
        let pool = PostgresPool(configuration: configuration, threadPool: threadPool, logger: logger)
        let quoted = "\"" + schema.replacing("\"", with: "\"\"") + "\""
        do {
            let found = try await pool.withConnection { connection in
                // READ ONLY: the importer never writes to FAROS, whatever a bug would try.
                try connection.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                let database = try connection.query("SELECT current_database() AS db").first?.string("db") ?? "?"
                let tables = try connection.query(
                    "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = ANY ($2)",
                    [.text(schema), .text("{" + Self.tables.joined(separator: ",") + "}")]
                ).first?.int("n") ?? 0
                return (database, tables)
            }
            guard found.1 == Self.tables.count else {
                throw ImportError("schema '\(schema)' of database '\(found.0)' is not a FAROS database: it lacks some of \(Self.tables.joined(separator: ", "))")
            }
            return FarosSource(pool: pool, schema: quoted, name: "faros://\(found.0)/\(schema)")
        } catch {
            await pool.close()
            throw error
        }
    }

    static let tables = ["users", "tasks", "task_shares", "task_comments", "task_files", "notification_preferences", "activity_logs"]

    func close() async {
        await pool.close()
    }

    /// How many rows each table holds now (for the progress bar's totals).
    func totals() async throws -> [ImportKind: Int] {
        let schema = self.schema
        return try await pool.withConnection { connection in
            var totals: [ImportKind: Int] = [:]
            for kind in ImportKind.allCases {
                let sql = "SELECT COUNT(*) AS n FROM \(schema).\(kind.sourceTable)"
                totals[kind] = try connection.query(sql).first?.int("n") ?? 0
            }
            return totals
        }
    }

    /// Up to `limit` rows of `kind` with ids above `after`, in id order.
    func batch(_ kind: ImportKind, after: Int64, limit: Int) async throws -> [SourceRow] {
        let sql = Self.query(kind, schema: schema)
        return try await pool.withConnection { connection in
            try connection.query(sql, [.int(after), .int(Int64(limit))]).map { row in
                var values: [String?] = []
                values.reserveCapacity(row.columnNames.count)
                for index in row.columnNames.indices {
                    values.append(try row.isNull(at: index) ? nil : try row.string(at: index))
                }
                return SourceRow(values)
            }
        }
    }

    private static func ms(_ column: String) -> String {
        "CAST(FLOOR(EXTRACT(EPOCH FROM \(column)) * 1000) AS BIGINT)"
    }

    /// Each kind's statement: `$1` the id to start after, `$2` the batch size. The columns come
    /// in the order the kind's row type reads them (``SourceRow``).
    static func query(_ kind: ImportKind, schema s: String) -> String {
        switch kind {
        case .user:
            // Verified if either of FAROS's two copies of the flag says so.
            return """
                SELECT u.id, u.username, u.email, u.hashed_password, \(ms("u.created_at")), u.avatar_url,
                    (COALESCE(u.email_verified, false) OR COALESCE(p.email_verified, false))
                FROM \(s).users u LEFT JOIN \(s).notification_preferences p ON p.user_id = u.id
                WHERE u.id > $1 ORDER BY u.id LIMIT $2
                """
        case .preferences:
            return """
                SELECT p.user_id, p.email_enabled, p.task_shared_with_me, p.task_completed, p.comment_on_my_task,
                    \(ms("COALESCE(p.updated_at, p.created_at)"))
                FROM \(s).notification_preferences p WHERE p.user_id > $1 ORDER BY p.user_id LIMIT $2
                """
        case .task:
            // FAROS keeps no update time: the task's last logged change stands in for it.
            return """
                SELECT t.id, t.user_id, t.title, t.description, t.completed, t.priority, \(ms("t.created_at")),
                    to_char(t.due_date, 'YYYY-MM-DD'), array_to_json(t.tags), t.notes,
                    (SELECT \(ms("MAX(a.created_at)")) FROM \(s).activity_logs a WHERE a.resource_type = 'task' AND a.resource_id = t.id)
                FROM \(s).tasks t WHERE t.id > $1 ORDER BY t.id LIMIT $2
                """
        case .share:
            return """
                SELECT sh.id, sh.task_id, sh.shared_with_user_id, sh.permission, \(ms("sh.shared_at")), sh.shared_by_user_id
                FROM \(s).task_shares sh WHERE sh.id > $1 ORDER BY sh.id LIMIT $2
                """
        case .comment:
            return """
                SELECT c.id, c.task_id, c.user_id, c.content, \(ms("c.created_at")), \(ms("c.updated_at"))
                FROM \(s).task_comments c WHERE c.id > $1 ORDER BY c.id LIMIT $2
                """
        case .file:
            // FAROS records no uploader on the row; its activity log does.
            return """
                SELECT f.id, f.task_id, f.original_filename, f.stored_filename, f.file_size, f.content_type, \(ms("f.uploaded_at")),
                    (SELECT a.user_id FROM \(s).activity_logs a
                     WHERE a.resource_type = 'file' AND a.resource_id = f.id AND a.action = 'uploaded' ORDER BY a.id LIMIT 1)
                FROM \(s).task_files f WHERE f.id > $1 ORDER BY f.id LIMIT $2
                """
        case .activity:
            // For a comment's entries: whether a later entry of the same comment exists (Faros
            // keeps a comment's text only in its latest entry), and the comment's text now.
            return """
                SELECT a.id, a.user_id, a.action, a.resource_type, a.resource_id, CAST(a.details AS text), \(ms("a.created_at")),
                    CASE WHEN a.resource_type = 'comment' THEN NOT EXISTS (
                        SELECT 1 FROM \(s).activity_logs l
                        WHERE l.resource_type = 'comment' AND l.resource_id = a.resource_id AND l.id > a.id) END,
                    CASE WHEN a.resource_type = 'comment' THEN (SELECT c.content FROM \(s).task_comments c WHERE c.id = a.resource_id) END,
                    CASE a.resource_type
                        WHEN 'task' THEN EXISTS (SELECT 1 FROM \(s).tasks t WHERE t.id = a.resource_id)
                        WHEN 'comment' THEN EXISTS (SELECT 1 FROM \(s).task_comments c WHERE c.id = a.resource_id)
                        WHEN 'file' THEN EXISTS (SELECT 1 FROM \(s).task_files f WHERE f.id = a.resource_id)
                    END
                FROM \(s).activity_logs a WHERE a.id > $1 ORDER BY a.id LIMIT $2
                """
        }
    }
}

/// One source row as text values, in its statement's column order (nil for NULL).
struct SourceRow: Sendable {
    let values: [String?]

    init(_ values: [String?]) {
        self.values = values
    }

    var id: Int64 { Int64(values[0] ?? "") ?? 0 }

    subscript(_ index: Int) -> String? { values[index] }

    func int(_ index: Int) -> Int64? { values[index].flatMap { Int64($0) } }

    func bool(_ index: Int) -> Bool? {
        switch values[index] {
        case "t"?: true
        case "f"?: false
        default: nil
        }
    }
}
