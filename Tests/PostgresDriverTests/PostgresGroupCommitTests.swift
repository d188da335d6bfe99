import Glibc
import PostgresDriver
import Synchronization
import Testing

/// Writes that queue up while a batch runs commit together in one transaction, each in its own
/// savepoint: on the real PostgreSQL, one failing write is undone alone, a failing commit fails
/// every write of its batch, and a write that loses a deadlock runs again alone.
@Suite(.enabled(if: TestDatabase.enabled, "needs FAROS_TEST_DATABASE_URL"))
struct PostgresGroupCommitTests {
    struct Refused: Error {}

    @Test func writesQueuedBehindABatchShareOneTransaction() async throws {
        try await Self.withTable("group_share", "n int8 PRIMARY KEY") { pool, commits, table in
            // The first write holds the only runner while the others queue up behind it.
            let gate = Gate()
            async let first = commits.transaction { connection in
                gate.wait()
                return try Self.insert(connection, table, 0)
            }
            try await gate.entered()
            let transactions = try await withThrowingTaskGroup(of: Int64.self) { group in
                for n in 1...10 {
                    group.addTask { try await commits.transaction { try Self.insert($0, table, Int64(n)) } }
                }
                try await Self.waitForQueue(commits, 10)
                gate.open()
                var seen: Set<Int64> = []
                for try await transaction in group { seen.insert(transaction) }
                return seen
            }
            let firstTransaction = try await first
            #expect(!transactions.contains(firstTransaction))
            // Ten writes, queued together, committed in one transaction.
            #expect(transactions.count == 1)
            #expect(try await Self.values(pool, table) == Array(0...10))
        }
    }

    @Test func aFailingWriteIsUndoneAloneAndGetsItsOwnError() async throws {
        try await Self.withTable("group_fail", "n int8 PRIMARY KEY") { pool, commits, table in
            _ = try await commits.transaction { try Self.insert($0, table, 5) }
            let gate = Gate()
            async let blocker: Int64 = commits.transaction { connection in
                gate.wait()
                return try Self.insert(connection, table, 0)
            }
            try await gate.entered()
            let outcomes = try await withThrowingTaskGroup(of: (Int, Result<Int64, any Error>).self) { group in
                // 1: fine. 2: a duplicate key after a row of its own. 3: throws before sending
                // anything. 4: a queued write that fails when the savepoint ends. 5: swallows a
                // failed statement. 6: fine.
                group.addTask { (1, await Result { try await commits.transaction { try Self.insert($0, table, 1) } }) }
                group.addTask {
                    (2, await Result {
                        try await commits.transaction { connection in
                            _ = try Self.insert(connection, table, 2)
                            return try Self.insert(connection, table, 5)
                        }
                    })
                }
                group.addTask { (3, await Result { try await commits.transaction { _ -> Int64 in throw Refused() } }) }
                group.addTask {
                    (4, await Result {
                        try await commits.transaction { connection -> Int64 in
                            try connection.executeLater("INSERT INTO \(table) VALUES ($1)", [.int(5)])
                            return 4
                        }
                    })
                }
                group.addTask {
                    (5, await Result {
                        try await commits.transaction { connection -> Int64 in
                            _ = try? connection.execute("INSERT INTO \(table) VALUES ($1)", [.int(5)])
                            return 5
                        }
                    })
                }
                group.addTask { (6, await Result { try await commits.transaction { try Self.insert($0, table, 6) } }) }
                try await Self.waitForQueue(commits, 6)
                gate.open()
                var outcomes: [Int: Result<Int64, any Error>] = [:]
                for try await (index, outcome) in group { outcomes[index] = outcome }
                return outcomes
            }
            _ = try await blocker
            #expect((try? outcomes[1]?.get()) != nil)
            #expect((try? outcomes[6]?.get()) != nil)
            #expect(Self.error(outcomes[2])?.isUniqueViolation == true)
            #expect(Self.error(outcomes[3]) == nil && Self.refused(outcomes[3]))
            #expect(Self.error(outcomes[4])?.isUniqueViolation == true)
            #expect(Self.error(outcomes[5])?.sqlState == "25P02")
            // Only the writes that succeeded left rows: 2's own row went with its savepoint.
            #expect(try await Self.values(pool, table) == [0, 1, 5, 6])
        }
    }

    @Test func aFailingCommitFailsEveryWriteOfItsBatch() async throws {
        // A deferred key is checked at COMMIT: two writes of one batch that collide there.
        try await Self.withTable("group_commit", "n int8, UNIQUE (n) DEFERRABLE INITIALLY DEFERRED") { pool, commits, table in
            let gate = Gate()
            async let blocker: Int64 = commits.transaction { connection in
                gate.wait()
                return try Self.insert(connection, table, 0)
            }
            try await gate.entered()
            async let a = Result { try await commits.transaction { try Self.insert($0, table, 7) } }
            async let b = Result { try await commits.transaction { try Self.insert($0, table, 7) } }
            async let c = Result { try await commits.transaction { try Self.insert($0, table, 8) } }
            try await Self.waitForQueue(commits, 3)
            gate.open()
            let outcomes = await [a, b, c]
            _ = try await blocker
            for outcome in outcomes {
                #expect(Self.error(outcome)?.isUniqueViolation == true)
            }
            #expect(try await Self.values(pool, table) == [0])
            // The connection goes on.
            _ = try await commits.transaction { try Self.insert($0, table, 9) }
            #expect(try await Self.values(pool, table) == [0, 9])
        }
    }

    @Test func aWriteThatLosesADeadlockInItsBatchRunsAgainAlone() async throws {
        try await Self.withTable("group_deadlock", "n int8 PRIMARY KEY, v int8 NOT NULL", poolSize: 2) { pool, commits, table in
            try await pool.withConnection { try $0.executeScript("INSERT INTO \(table) VALUES (1, 0), (2, 0)") }
            let other = try TestDatabase.makePool(poolSize: 1)
            // Outside the batches, a transaction holds row 2 and, once a write of ours waits
            // for that row, wants row 1. Its own deadlock timeout is long, so PostgreSQL's
            // check runs on our side first and fails our write (a superuser setting, as the
            // test database's user is).
            let lockedTwo = Atomic<Bool>(false)
            async let outside = Result {
                try await other.transaction { connection in
                    try connection.execute("SET LOCAL deadlock_timeout = '30s'")
                    try connection.execute("UPDATE \(table) SET v = v + 10 WHERE n = 2")
                    lockedTwo.store(true, ordering: .sequentiallyConsistent)
                    for _ in 0..<1_000 {
                        _ = try connection.query("SELECT pg_stat_clear_snapshot()")
                        let waiting = try connection.query(
                            """
                            SELECT count(*) AS n FROM pg_stat_activity
                            WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND query LIKE '%' || $1 || '%'
                            """, [.text(table)])[0].int64("n")
                        if waiting > 0 { break }
                        try connection.execute("SELECT pg_sleep(0.01)")
                    }
                    return try connection.execute("UPDATE \(table) SET v = v + 10 WHERE n = 1")
                }
            }
            while !lockedTwo.load(ordering: .sequentiallyConsistent) { try await Task.sleep(for: .milliseconds(5)) }
            // Behind a first batch, one batch of two writes: the first locks row 1, the second
            // then waits for row 2. PostgreSQL fails the second one (the deadlock), it is rolled
            // back to its savepoint, the batch commits, and it runs again alone.
            let gate = Gate()
            async let blocker: Int = commits.transaction { _ in
                gate.wait()
                return 0
            }
            try await gate.entered()
            let secondRuns = Atomic<Int>(0)
            async let first = commits.transaction { connection in
                try connection.execute("UPDATE \(table) SET v = v + 1 WHERE n = 1")
            }
            try await Self.waitForQueue(commits, 1)  // queued in this order
            async let second = commits.transaction { connection in
                secondRuns.add(1, ordering: .sequentiallyConsistent)
                return try connection.execute("UPDATE \(table) SET v = v + 1 WHERE n = 2")
            }
            try await Self.waitForQueue(commits, 2)
            gate.open()
            _ = try await blocker
            #expect(try await first == 1)
            #expect(try await second == 1)
            let outsideOutcome = await outside
            #expect((try? outsideOutcome.get()) == 1, "\(outsideOutcome)")
            #expect(secondRuns.load(ordering: .sequentiallyConsistent) == 2)
            let rows = try await pool.withConnection { connection in
                try connection.query("SELECT v FROM \(table) ORDER BY n").map { try $0.int64("v") }
            }
            #expect(rows == [11, 11])
            await other.close()
        }
    }

    @Test func manyConcurrentWritesAllCommitOnce() async throws {
        try await Self.withTable("group_many", "n int8 PRIMARY KEY", poolSize: 4) { pool, commits, table in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<300 {
                    group.addTask { _ = try await commits.transaction { try Self.insert($0, table, Int64(n)) } }
                }
                try await group.waitForAll()
            }
            #expect(try await Self.values(pool, table) == Array(0..<300))
            #expect(commits.waiting == 0)
        }
    }

    // MARK: Helpers

    /// Inserts `n` and returns the id of the transaction it ran in.
    static func insert(_ connection: PostgresConnection, _ table: String, _ n: Int64) throws -> Int64 {
        try connection.execute("INSERT INTO \(table) VALUES ($1)", [.int(n)])
        return try connection.query("SELECT txid_current() AS id")[0].int64("id")
    }

    static func values(_ pool: PostgresPool, _ table: String) async throws -> [Int64] {
        try await pool.withConnection { connection in
            try connection.query("SELECT n FROM \(table) ORDER BY n").map { try $0.int64("n") }
        }
    }

    /// Holds the batch that runs it until opened, so that the writes after it queue up.
    final class Gate: Sendable {
        private let isOpen = Atomic<Bool>(false)
        private let isEntered = Atomic<Bool>(false)

        /// Blocks the thread-pool thread until `open()` (10 s at most).
        func wait() {
            isEntered.store(true, ordering: .sequentiallyConsistent)
            for _ in 0..<2_000 where !isOpen.load(ordering: .sequentiallyConsistent) { usleep(5_000) }
        }

        func open() { isOpen.store(true, ordering: .sequentiallyConsistent) }

        /// Waits until a batch runs `wait()`.
        func entered() async throws {
            for _ in 0..<2_000 where !isEntered.load(ordering: .sequentiallyConsistent) {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    /// Waits until `count` writes are queued.
    static func waitForQueue(_ commits: PostgresGroupCommit, _ count: Int) async throws {
        for _ in 0..<2_000 where commits.waiting < count { try await Task.sleep(for: .milliseconds(5)) }
        #expect(commits.waiting == count)
    }

    static func error<T>(_ outcome: Result<T, any Error>?) -> PostgresError? {
        guard case .failure(let error)? = outcome else { return nil }
        return error as? PostgresError
    }

    static func refused<T>(_ outcome: Result<T, any Error>?) -> Bool {
        guard case .failure(let error)? = outcome else { return false }
        return error is Refused
    }

    /// A table, a pool and a group commit with one runner (so that writes queue behind a batch).
    static func withTable(
        _ prefix: String, _ columns: String, poolSize: Int = 1,
        _ body: (PostgresPool, PostgresGroupCommit, String) async throws -> Void
    ) async throws {
        let pool = try TestDatabase.makePool(poolSize: poolSize)
        let table = TestDatabase.uniqueName(prefix)
        try await pool.withConnection { try $0.executeScript("CREATE TABLE \(table) (\(columns))") }
        let commits = PostgresGroupCommit(pool: pool, runners: 1)
        do {
            try await body(pool, commits, table)
        } catch {
            try? await pool.withConnection { try $0.executeScript("DROP TABLE \(table)") }
            await pool.close()
            throw error
        }
        try await pool.withConnection { try $0.executeScript("DROP TABLE \(table)") }
        await pool.close()
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
