import Handlers
import Logging
import SystemTime

/// Applies the pending ``Migration``s in one transaction, safely when several processes start
/// at once.
///
/// The applied versions live in `schema_migrations (version, name, applied_at)`. The whole run
/// (creating that table, reading it, every pending step, recording each) is one transaction: a
/// failing step leaves the database exactly as it was, on both backends, since both have
/// transactional DDL. Concurrency:
/// - PostgreSQL: the transaction first takes an advisory lock on (`advisoryLockClass`, a hash of
///   the current schema) — one Faros schema, one lock; schemas of unrelated deployments (or of
///   parallel tests) sharing a database never wait on each other — and only
///   then creates and reads `schema_migrations`; a second instance starting at the same moment
///   waits on the lock and then finds the steps already recorded. The lock ends with the
///   transaction, so a crashed run leaves nothing held.
/// - SQLite: the writer's `BEGIN IMMEDIATE` already excludes every other writer of the file
///   (another process waits up to the busy timeout).
///
/// A database recording a version this build does not know was migrated by a newer build; it
/// is refused with ``StoreSetupError/Kind/schemaTooNew(database:supported:)`` rather than run
/// by code that does not understand it.
enum Migrator {
    /// Arbitrary but fixed across releases: `"frMG"` as big-endian bytes. Any process migrating a
    /// Faros database must use the same class (the second key is the schema's hash).
    static let advisoryLockClass: Int32 = 0x6672_4D47

    static func run(
        _ migrations: [Migration],
        on backend: any SQLBackend,
        logger: Logger
    ) async throws -> MigrationReport {
        precondition(
            migrations.enumerated().allSatisfy { $0.offset + 1 == $0.element.version },
            "migration versions must be 1, 2, 3, …"
        )
        let now = SystemClock.now().milliseconds
        let dialect = backend.dialect
        let (applied, current) = try await backend.write { connection in
            try migrate(migrations, connection, now: now)
        }
        for step in applied {
            logger.info("Applied schema migration", metadata: ["db.migration.version": "\(step.version)", "db.migration.name": "\(step.name)"])
        }
        logger.info("Database schema is current", metadata: ["db.backend": "\(dialect.rawValue)", "db.schema.version": "\(current)"])
        return MigrationReport(backend: dialect.rawValue, applied: applied, currentVersion: current)
    }

    private static func migrate(
        _ migrations: [Migration],
        _ connection: any SQLConnection,
        now: Int64
    ) throws -> ([MigrationReport.Step], Int) {
        if connection.dialect == .postgresql {
            try connection.executeScript("SELECT pg_advisory_xact_lock(\(advisoryLockClass), hashtext(current_schema()))")
        }
        try connection.executeScript(createTable(connection.dialect))
        let recorded = Set(try connection.query(selectVersions, []).map { try $0.int("version") })
        let supported = migrations.last?.version ?? 0
        if let newest = recorded.max(), newest > supported {
            throw StoreSetupError(
                .schemaTooNew(database: newest, supported: supported),
                "the database schema is at version \(newest) but this build knows versions up to \(supported); upgrade Faros instead of running an older build against it"
            )
        }
        var applied: [MigrationReport.Step] = []
        for migration in migrations where !recorded.contains(migration.version) {
            try connection.executeScript(migration.script(for: connection.dialect))
            try connection.execute(insertVersion, [.int64(Int64(migration.version)), .text(migration.name), .int64(now)])
            applied.append(MigrationReport.Step(version: migration.version, name: migration.name))
        }
        return (applied, max(recorded.max() ?? 0, applied.last?.version ?? 0))
    }

    private static func createTable(_ dialect: SQLDialect) -> String {
        switch dialect {
        case .sqlite:
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT"
        case .postgresql:
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
        }
    }

    private static let selectVersions = SQLStatement("SELECT version FROM schema_migrations")
    private static let insertVersion = SQLStatement("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
}
