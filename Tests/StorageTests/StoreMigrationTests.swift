import Foundation
import Handlers
import Storage
import StoreTestSupport
import Testing

/// Schema migrations and store configuration.
@Suite struct StoreMigrationTests {
    static let logger = TestStoreEnvironment.logger

    @Test(arguments: TestBackend.allCases)
    func migrationIsAppliedOnceAndReopeningIsIdempotent(_ backend: TestBackend) async throws {
        try await withStoreConfiguration(backend) { configuration in
            let first = try await StoreFactory.migrate(configuration, threadPool: testThreadPool, logger: Self.logger)
            #expect(first.applied.map(\.version) == Migrations.all.map(\.version))
            #expect(first.currentVersion == Migrations.all.count)
            #expect(first.backend == backend.rawValue)

            let store = try await StoreFactory.open(configuration, threadPool: testThreadPool, logger: Self.logger)
            #expect(store.backendName == backend.rawValue)
            let alice = try await store.makeUser("alice")
            await store.close()

            let again = try await StoreFactory.migrate(configuration, threadPool: testThreadPool, logger: Self.logger)
            #expect(again.applied.isEmpty)
            #expect(again.currentVersion == Migrations.all.count)
            let reopened = try await StoreFactory.open(configuration, threadPool: testThreadPool, logger: Self.logger)
            #expect(try await reopened.read { try $0.user(id: alice.id) } == alice)
            let recorded = try await sqlStore(reopened).query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
            #expect(try recorded.map { try $0.int("version") } == Migrations.all.map(\.version))
            #expect(try recorded.map { try $0.string("name") } == Migrations.all.map(\.name))
            await reopened.close()
        }
    }

    /// Migration 6 on a database that already holds tagged tasks (written as version 5 wrote
    /// them): every tag row gets its task's creation time, and a page with a tag, which now walks
    /// the tag's entries in that order, finds them all, newest first.
    @Test(arguments: TestBackend.allCases)
    func tagPageOrderFillsTheTagRowsAlreadyThere(_ backend: TestBackend) async throws {
        try await withStoreConfiguration(backend) { configuration in
            let version5 = Array(Migrations.all.prefix(5))
            #expect(version5.last?.version == 5)
            let old = try await StoreFactory.open(configuration, migrations: version5, threadPool: testThreadPool, logger: Self.logger)
            let alice = try await old.makeUser("alice")
            for (index, createdAt) in [1_800_000_000_000, 1_800_000_500_000, 1_800_000_200_000].enumerated() {
                try await old.execute("""
                    INSERT INTO tasks (owner_id, title, title_folded, description, description_folded, completed, priority, due_date, tags, created_at, updated_at)
                    VALUES ($1, $2, $2, NULL, NULL, $3, 1, NULL, '["Red","blue"]', $4, $4)
                    """, [.int64(alice.id), .text("task \(index)"), .bool(false), .int64(Int64(createdAt))])
            }
            try await old.execute("""
                INSERT INTO task_tags (task_id, position, tag, tag_folded)
                SELECT id, 0, 'Red', 'red' FROM tasks UNION ALL SELECT id, 1, 'blue', 'blue' FROM tasks
                """)
            await old.close()

            let report = try await StoreFactory.migrate(configuration, threadPool: testThreadPool, logger: Self.logger)
            #expect(report.applied.map(\.version) == Migrations.all.dropFirst(5).map(\.version))
            let store = try await StoreFactory.open(configuration, threadPool: testThreadPool, logger: Self.logger)
            let rows = try await sqlStore(store).query("""
                SELECT COUNT(*) AS n, COUNT(CASE WHEN g.created_at = t.created_at THEN 1 END) AS filled
                FROM task_tags g JOIN tasks t ON t.id = g.task_id
                """)
            #expect(try rows[0].int("n") == 6)
            #expect(try rows[0].int("filled") == 6)
            let page = try await store.list(alice.id) { $0.tagsFolded = ["red"] }
            #expect(page.items.map(\.fields.title) == ["task 1", "task 2", "task 0"])
            #expect(page.total == 3)
            let oldestFirst = try await store.list(alice.id) { $0.tagsFolded = ["blue"]; $0.sortOrder = .asc; $0.limit = 2 }
            #expect(oldestFirst.items.map(\.fields.title) == ["task 0", "task 2"])
            #expect(oldestFirst.total == 3)
            await store.close()
        }
    }

    /// Several instances starting together: every one succeeds, each step is applied once.
    @Test(arguments: TestBackend.allCases)
    func concurrentMigrationsApplyEachStepOnce(_ backend: TestBackend) async throws {
        try await withStoreConfiguration(backend) { configuration in
            let reports = try await withThrowingTaskGroup(of: MigrationReport.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await StoreFactory.migrate(configuration, threadPool: testThreadPool, logger: Self.logger) }
                }
                var all: [MigrationReport] = []
                for try await report in group { all.append(report) }
                return all
            }
            #expect(reports.count == 4)
            #expect(reports.filter { !$0.applied.isEmpty }.count == 1)
            #expect(reports.allSatisfy { $0.currentVersion == Migrations.all.count })
            let store = try await StoreFactory.open(configuration, threadPool: testThreadPool, logger: Self.logger)
            let count = try await sqlStore(store).query("SELECT COUNT(*) AS n FROM schema_migrations")
            #expect(try count[0].int("n") == Migrations.all.count)
            await store.close()
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aSchemaNewerThanTheBuildIsRefused(_ backend: TestBackend) async throws {
        try await withStoreConfiguration(backend) { configuration in
            let store = try await StoreFactory.open(configuration, threadPool: testThreadPool, logger: Self.logger)
            let future = Migrations.all.count + 1
            try await sqlStore(store).execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from the future', 0)", [.int64(Int64(future))])
            await store.close()
            do {
                _ = try await StoreFactory.open(configuration, threadPool: testThreadPool, logger: Self.logger)
                Issue.record("a newer schema was accepted")
            } catch let error as StoreSetupError {
                #expect(error.kind == .schemaTooNew(database: future, supported: Migrations.all.count))
                #expect(error.message.contains("\(future)"))
            }
            await #expect(throws: StoreSetupError.self) {
                _ = try await StoreFactory.migrate(configuration, threadPool: testThreadPool, logger: Self.logger)
            }
        }
    }

    /// A failing step changes nothing: the whole run is one transaction.
    @Test(arguments: TestBackend.allCases)
    func aFailingStepRollsTheWholeRunBack(_ backend: TestBackend) async throws {
        try await withStoreConfiguration(backend) { configuration in
            _ = try await StoreFactory.migrate(configuration, threadPool: testThreadPool, logger: Self.logger)
            let broken = Migrations.all + [
                Migration(
                    version: Migrations.all.count + 1,
                    name: "broken",
                    sqlite: "CREATE TABLE half_done (id INTEGER); CREATE TABLE oops (",
                    postgresql: "CREATE TABLE half_done (id INTEGER); CREATE TABLE oops ("
                ),
            ]
            await #expect(throws: (any Error).self) {
                _ = try await StoreFactory.migrate(configuration, migrations: broken, threadPool: testThreadPool, logger: Self.logger)
            }
            let store = try await StoreFactory.open(configuration, threadPool: testThreadPool, logger: Self.logger)
            let versions = try await sqlStore(store).query("SELECT MAX(version) AS v FROM schema_migrations")
            #expect(try versions[0].int("v") == Migrations.all.count)
            let leftover = await storeError { _ = try await sqlStore(store).query("SELECT COUNT(*) AS n FROM half_done") }
            #expect(leftover?.kind == .failure)
            await store.close()

            // A later step is applied by a later run, on top of what is there.
            let next = Migrations.all + [
                Migration(
                    version: Migrations.all.count + 1,
                    name: "next",
                    sqlite: "CREATE TABLE next_step (id INTEGER PRIMARY KEY)",
                    postgresql: "CREATE TABLE next_step (id BIGINT PRIMARY KEY)"
                ),
            ]
            let report = try await StoreFactory.migrate(configuration, migrations: next, threadPool: testThreadPool, logger: Self.logger)
            #expect(report.applied == [MigrationReport.Step(version: next.count, name: "next")])
            #expect(report.currentVersion == next.count)
        }
    }

    @Test func sqliteFileLivesInAPrivateDataDirectory() async throws {
        try await withStoreConfiguration(.sqlite) { configuration in
            let store = try await StoreFactory.open(configuration, threadPool: testThreadPool, logger: Self.logger)
            await store.close()
            let path = configuration.dataDirectory + "/faros.sqlite"
            #expect(FileManager.default.fileExists(atPath: path))
            let attributes = try FileManager.default.attributesOfItem(atPath: configuration.dataDirectory)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)
            let mode = try await {
                let store = try await StoreFactory.open(configuration, threadPool: testThreadPool, logger: Self.logger)
                defer { Task { await store.close() } }
                return try await sqlStore(store).query("PRAGMA journal_mode")[0].string("journal_mode")
            }()
            #expect(mode == "wal")
        }
    }

    @Test func databaseURLsSelectTheBackend() throws {
        func location(_ url: String?, directory: String = "/var/lib/faros", poolSize: Int = 8) throws -> DatabaseLocation {
            try DatabaseLocation(StoreConfiguration(databaseURL: url, dataDirectory: directory, poolSize: poolSize))
        }
        func sqlitePath(_ url: String?, directory: String = "/var/lib/faros") throws -> String? {
            if case .sqlite(let path) = try location(url, directory: directory) { return path }
            return nil
        }
        #expect(try sqlitePath(nil) == "/var/lib/faros/faros.sqlite")
        #expect(try sqlitePath("") == "/var/lib/faros/faros.sqlite")
        #expect(try sqlitePath(nil, directory: "data/") == "data/faros.sqlite")
        #expect(try sqlitePath("sqlite:///srv/faros/db.sqlite") == "/srv/faros/db.sqlite")
        #expect(try sqlitePath("sqlite:relative/db.sqlite") == "relative/db.sqlite")
        for url in ["postgres://localhost/faros", "postgresql://user:pw@db.example:5433/faros?sslmode=disable", "postgres:///faros"] {
            guard case .postgresql = try location(url) else {
                Issue.record("\(url) is not PostgreSQL")
                continue
            }
        }
    }

    @Test func badConfigurationsAreRefusedWithoutRevealingSecrets() throws {
        let refused: [(url: String?, poolSize: Int, mentions: String?)] = [
            ("mysql://root:hunter2@db/faros", 8, "mysql"),
            ("POSTGRES://root:hunter2@db/faros", 8, nil),
            ("root:hunter2@db/faros", 8, nil),
            ("hunter2", 8, nil),
            ("postgres://root:hunter2@db/fa%zzros", 8, nil),
            ("postgresql://root:hunter2@db/faros?nonsense=1", 8, nil),
            ("sqlite://host/path", 8, nil),
            ("sqlite:", 8, nil),
            ("sqlite:///", 8, nil),
            ("sqlite:dir/", 8, nil),
            (nil, 0, "pool size"),
            (nil, 65, "pool size"),
        ]
        for (url, poolSize, mentions) in refused {
            do {
                _ = try DatabaseLocation(StoreConfiguration(databaseURL: url, dataDirectory: "/tmp/x", poolSize: poolSize))
                Issue.record("accepted \(url ?? "nil") with pool size \(poolSize)")
            } catch {
                #expect(error.kind == .configuration)
                #expect(!error.message.contains("hunter2"), "\(error.message)")
                if let mentions { #expect(error.message.contains(mentions), "\(error.message)") }
            }
        }
        #expect(throws: StoreSetupError.self) {
            _ = try DatabaseLocation(StoreConfiguration(dataDirectory: ""))
        }
    }

    @Test func anUnreachablePostgreSQLIsUnavailable() async throws {
        let configuration = StoreConfiguration(databaseURL: "postgres://faros@127.0.0.1:1/faros?connect_timeout=2", dataDirectory: "/nonexistent")
        do {
            _ = try await StoreFactory.open(configuration, threadPool: testThreadPool, logger: Self.logger)
            Issue.record("opened a store on a closed port")
        } catch let error as StoreError {
            #expect(error.kind == .unavailable)
        }
    }
}
