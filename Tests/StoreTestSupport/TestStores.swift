import Foundation
import Handlers
import Logging
import NIOPosix
import Storage

/// Shared by all tests and never shut down: the process ends with the test run.
public let testThreadPool: NIOThreadPool = {
    let pool = NIOThreadPool(numberOfThreads: 16)
    pool.start()
    return pool
}()

/// The two storage backends every contract test runs against.
public enum TestBackend: String, CaseIterable, Sendable {
    case sqlite
    case postgresql
}

/// Where the test PostgreSQL is, and whether its absence fails the run.
///
/// `FAROS_TEST_DATABASE_URL` names a server where the tests may create schemas (scripts/test
/// starts one); without it the PostgreSQL cases return without running, unless
/// `FAROS_TEST_REQUIRE_ALL=1` (CI) turns that into a failure.
public enum TestStoreEnvironment {
    public static let databaseURL: String? = ProcessInfo.processInfo.environment["FAROS_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    public static let requireAll = ProcessInfo.processInfo.environment["FAROS_TEST_REQUIRE_ALL"] == "1"
    public static let logger = Logger(label: "faros.storage.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Creates and drops the per-test schemas; shared, never closed (the process ends first).
    static let administration: PostgresAdministration? = databaseURL.flatMap {
        try? PostgresAdministration(databaseURL: $0, threadPool: testThreadPool, logger: logger)
    }
}

public struct MissingTestDatabase: Error, CustomStringConvertible {
    public init() {}

    public var description: String { "FAROS_TEST_REQUIRE_ALL=1 but FAROS_TEST_DATABASE_URL is not set (or not a PostgreSQL URL)" }
}

/// Runs `body` with the configuration of a fresh, empty, not yet migrated database, removed
/// afterwards.
///
/// SQLite: a new temporary data directory (created by the store, mode 0700). PostgreSQL: a new
/// schema `faros_test_<random>` in the test database, selected for every connection with
/// libpq's `options=-csearch_path=…`, dropped with everything in it afterwards; tests running
/// in parallel never see each other's tables. PostgreSQL without a test database: `body` does
/// not run (or ``MissingTestDatabase`` is thrown under `FAROS_TEST_REQUIRE_ALL=1`).
///
/// `poolTimeout` is long by default: the whole suite runs in parallel on two cores, and a test
/// that waits for its turn is not a failing test (tests of the timeout itself pass a short one).
public func withStoreConfiguration(
    _ backend: TestBackend,
    poolSize: Int = 4,
    poolTimeout: Duration = .seconds(60),
    _ body: (StoreConfiguration) async throws -> Void
) async throws {
    switch backend {
    case .sqlite:
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("faros-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await body(StoreConfiguration(dataDirectory: directory.appendingPathComponent("data").path, poolSize: poolSize, poolTimeout: poolTimeout))
    case .postgresql:
        guard let url = TestStoreEnvironment.databaseURL, let administration = TestStoreEnvironment.administration else {
            if TestStoreEnvironment.requireAll { throw MissingTestDatabase() }
            return
        }
        let schema = "faros_test_\(UInt64.random(in: 0...UInt64.max))"
        try await administration.executeScript("CREATE SCHEMA \(schema)")
        let separator = url.contains("?") ? "&" : "?"
        let configuration = StoreConfiguration(
            databaseURL: url + separator + "options=-csearch_path%3D\(schema)",
            dataDirectory: "/nonexistent",
            poolSize: poolSize,
            poolTimeout: poolTimeout
        )
        do {
            try await body(configuration)
        } catch {
            try? await administration.executeScript("DROP SCHEMA \(schema) CASCADE")
            throw error
        }
        try await administration.executeScript("DROP SCHEMA \(schema) CASCADE")
    }
}

/// A fresh, empty, migrated store on `backend`, closed and removed after `body`.
///
/// See ``withStoreConfiguration(_:poolSize:poolTimeout:_:)`` for where it lives and when PostgreSQL is
/// skipped. For rows no method writes yet (shares, comments) use ``insertShare(_:taskID:userID:permission:sharedAt:sharedBy:)``,
/// ``insertComment(_:taskID:authorID:content:at:)`` or raw SQL through ``sqlStore(_:)``.
public func withStore(_ backend: TestBackend, _ body: @Sendable (any Store) async throws -> Void) async throws {
    try await withStoreConfiguration(backend) { configuration in
        let store = try await StoreFactory.open(configuration, threadPool: testThreadPool, logger: TestStoreEnvironment.logger)
        do {
            try await body(store)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }
}

/// The store under test as the SQL implementation, for raw SQL in tests:
/// `try await sqlStore(store).execute("UPDATE tasks SET … WHERE id = $1", [.int64(id)])`
/// (`$1`-style placeholders on both backends; `query` for reads, `write(connection:)` for
/// several statements in one transaction).
public func sqlStore(_ store: any Store) -> SQLStore {
    guard let sql = store as? SQLStore else { preconditionFailure("not an SQLStore: \(type(of: store))") }
    return sql
}

/// Shares `taskID` with `userID` (straight into the store, without `shares.create`).
public func insertShare(
    _ store: any Store,
    taskID: Int64,
    userID: Int64,
    permission: Permission = .view,
    sharedAt: Timestamp = Timestamp(milliseconds: 1_800_000_000_000),
    sharedBy: Int64? = nil
) async throws {
    try await sqlStore(store).execute(
        "INSERT INTO task_shares (task_id, user_id, permission, shared_at, shared_by) VALUES ($1, $2, $3, $4, $5)",
        [.int64(taskID), .int64(userID), .text(permission.rawValue), .int64(sharedAt.milliseconds), sharedBy.map { .int64($0) } ?? .null]
    )
}

/// Adds a comment by `authorID` on `taskID` (straight into the store, without `comments.create`);
/// returns its id.
@discardableResult
public func insertComment(
    _ store: any Store,
    taskID: Int64,
    authorID: Int64,
    content: String = "A comment",
    at: Timestamp = Timestamp(milliseconds: 1_800_000_000_000)
) async throws -> Int64 {
    try await sqlStore(store).write(connection: { connection in
        let rows = try connection.query(
            SQLStatement("INSERT INTO comments (task_id, author_id, content, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id"),
            [.int64(taskID), .int64(authorID), .text(content), .int64(at.milliseconds)]
        )
        return try rows[0].int64("id")
    })
}
