import PostgresDriver
import Testing

/// `BEGIN` sent with the first statement, statements sent with `COMMIT`, and a read's `COMMIT`
/// nobody waits for: the same transactions as one round trip per statement, in fewer.
@Suite(.enabled(if: TestDatabase.enabled, "needs FAROS_TEST_DATABASE_URL"))
struct PostgresLazyTransactionTests {
    @Test func theFirstStatementRunsInsideTheLazilyStartedTransaction() async throws {
        let pool = try TestDatabase.makePool(poolSize: 1)
        let (isolation, sameTransaction) = try await pool.withConnection { connection in
            connection.beginLazily("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            let isolation = try Self.isolation(connection)
            let first = try connection.query("SELECT txid_current_if_assigned() IS NULL AS none, now() AS at")[0].string("at")
            let second = try connection.query("SELECT now() AS at")[0].string("at")
            try connection.commitWithoutWaiting()
            return (isolation, first == second)
        }
        #expect(isolation == "repeatable read")
        #expect(sameTransaction)
        // The next holder of the same connection starts outside it, in the default level.
        #expect(try await Self.isolationOfTheNextHolder(pool) == "read committed")
        await pool.close()
    }

    @Test func aScriptAfterALazyBeginRunsInsideTheTransaction() async throws {
        let pool = try TestDatabase.makePool(poolSize: 1)
        let table = TestDatabase.uniqueName("lazy_script")
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            try await pool.transaction { connection in
                try connection.executeScript("CREATE TABLE \(table) (n int8); INSERT INTO \(table) VALUES (1)")
                throw Abort()
            }
        }
        let exists = try await pool.withConnection { connection in
            try connection.query("SELECT to_regclass($1) IS NOT NULL AS found", [.text(table)])[0].bool("found")
        }
        #expect(!exists)
        await pool.close()
    }

    @Test func aFailingFirstStatementRollsBackAndLeavesTheConnectionUsable() async throws {
        try await Self.withTable("lazy_fail", "n int8 PRIMARY KEY") { pool, table in
            _ = try await pool.transaction { try $0.execute("INSERT INTO \(table) VALUES ($1)", [.int(1)]) }
            // A statement never prepared before, failing with the BEGIN and its preparation in one pipeline.
            let duplicate = await #expect(throws: PostgresError.self) {
                try await pool.transaction { connection in
                    try connection.execute("INSERT INTO \(table) (n) VALUES ($1)", [.int(1)])
                }
            }
            #expect(duplicate?.isUniqueViolation == true)
            // A preparation that fails (no such column) fails the call, not the connection.
            let unknown = await #expect(throws: PostgresError.self) {
                try await pool.transaction { connection in
                    try connection.query("SELECT missing_column FROM \(table)")
                }
            }
            #expect(unknown?.sqlState == "42703")
            // The same connection (the pool holds one) goes on: the failed statement text is
            // prepared afresh and works once its row is gone.
            try await pool.transaction { connection in
                try connection.execute("DELETE FROM \(table) WHERE n = $1", [.int(1)])
                try connection.execute("INSERT INTO \(table) (n) VALUES ($1)", [.int(1)])
            }
            let count = try await pool.withConnection { try $0.query("SELECT COUNT(*) AS n FROM \(table)")[0].int64("n") }
            #expect(count == 1)
        }
    }

    @Test func statementsQueuedForCommitRunWithItAndTheirFailureRollsBack() async throws {
        try await Self.withTable("at_commit", "n int8") { pool, table in
            try await pool.transaction { connection in
                try connection.execute("INSERT INTO \(table) VALUES ($1)", [.int(1)])
                connection.runAtCommit("INSERT INTO \(table) VALUES (2)")
            }
            // Queued in a transaction that ran nothing else: BEGIN, it and COMMIT still go out.
            try await pool.transaction { connection in
                connection.runAtCommit("INSERT INTO \(table) VALUES (3)")
            }
            let failure = await #expect(throws: PostgresError.self) {
                try await pool.transaction { connection in
                    try connection.execute("INSERT INTO \(table) VALUES ($1)", [.int(4)])
                    connection.runAtCommit("SELECT 1 / 0")
                }
            }
            #expect(failure?.sqlState == "22012")
            // Statements queued by a transaction that threw are never sent.
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await pool.transaction { connection in
                    connection.runAtCommit("INSERT INTO \(table) VALUES (5)")
                    throw Abort()
                }
            }
            let values = try await pool.withConnection { connection in
                try connection.query("SELECT n FROM \(table) ORDER BY n").map { try $0.int64("n") }
            }
            #expect(values == [1, 2, 3])
        }
    }

    @Test func aBeginThatWasNeverSentDoesNotReachTheNextHolder() async throws {
        let pool = try TestDatabase.makePool(poolSize: 1)
        // Neither committed nor rolled back: the pool forgets it when the connection comes back.
        try await pool.withConnection { connection in
            connection.beginLazily("BEGIN ISOLATION LEVEL SERIALIZABLE")
        }
        #expect(try await Self.isolationOfTheNextHolder(pool) == "read committed")
        await pool.close()
    }

    @Test func unwaitedCommitsKeepTheConnectionInStep() async throws {
        let pool = try TestDatabase.makePool(poolSize: 1)
        // Many reads in a row on one connection, each leaving its COMMIT for the next to read:
        // every one starts a fresh snapshot and gets its own answer, not the one before's.
        for round in 0..<50 {
            let answer = try await pool.withConnection { connection in
                connection.beginLazily("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                let value = try connection.query("SELECT $1::int8 AS n", [.int(Int64(round))])[0].int64("n")
                try connection.commitWithoutWaiting()
                return value
            }
            #expect(answer == Int64(round))
        }
        // A write after them commits for real.
        let table = TestDatabase.uniqueName("after_reads")
        try await pool.transaction { try $0.executeScript("CREATE TABLE \(table) (n int8)") }
        let other = try TestDatabase.sharedPool()
        let found = try await other.withConnection { connection in
            try connection.query("SELECT to_regclass($1) IS NOT NULL AS found", [.text(table)])[0].bool("found")
        }
        #expect(found)
        try await other.withConnection { try $0.executeScript("DROP TABLE \(table)") }
        await pool.close()
    }

    @Test func queuedExecutionsGoOutWithWhatIsSentNext() async throws {
        try await Self.withTable("later", "n int8 PRIMARY KEY") { pool, table in
            // Seen by the next statement of the same transaction, which carries it.
            let seen = try await pool.transaction { connection in
                try connection.executeLater("INSERT INTO \(table) VALUES ($1)", [.int(1)])
                try connection.executeLater("INSERT INTO \(table) VALUES ($1)", [.int(2)])
                return try connection.query("SELECT COUNT(*) AS n FROM \(table)")[0].int64("n")
            }
            #expect(seen == 2)
            // Queued last: COMMIT carries it.
            try await pool.transaction { connection in
                try connection.executeLater("INSERT INTO \(table) VALUES ($1)", [.int(3)])
            }
            // A queued failure fails the statement that carried it, and the transaction with it.
            let duplicate = await #expect(throws: PostgresError.self) {
                try await pool.transaction { connection in
                    try connection.executeLater("INSERT INTO \(table) VALUES ($1)", [.int(4)])
                    try connection.executeLater("INSERT INTO \(table) VALUES ($1)", [.int(1)])
                    _ = try connection.query("SELECT 1 AS one")
                }
            }
            #expect(duplicate?.isUniqueViolation == true)
            // Before a script (which the simple protocol sends alone), inside the transaction.
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await pool.transaction { connection in
                    try connection.executeLater("INSERT INTO \(table) VALUES ($1)", [.int(5)])
                    try connection.executeScript("INSERT INTO \(table) VALUES (6)")
                    throw Abort()
                }
            }
            // Never sent when the lease ends first.
            try await pool.withConnection { connection in
                try connection.executeLater("INSERT INTO \(table) VALUES ($1)", [.int(7)])
            }
            let values = try await pool.withConnection { connection in
                try connection.query("SELECT n FROM \(table) ORDER BY n").map { try $0.int64("n") }
            }
            #expect(values == [1, 2, 3])
        }
    }

    static func isolation(_ connection: PostgresConnection) throws -> String {
        try connection.query("SELECT current_setting('transaction_isolation') AS level")[0].string("level")
    }

    /// The isolation level a statement outside any transaction block runs at on the pool's next
    /// connection.
    static func isolationOfTheNextHolder(_ pool: PostgresPool) async throws -> String {
        try await pool.withConnection { try isolation($0) }
    }

    /// Runs `body` with a one-connection pool and a fresh table of `columns`, dropped afterwards.
    static func withTable(_ prefix: String, _ columns: String, _ body: (PostgresPool, String) async throws -> Void) async throws {
        let pool = try TestDatabase.makePool(poolSize: 1)
        let table = TestDatabase.uniqueName(prefix)
        try await pool.withConnection { try $0.executeScript("CREATE TABLE \(table) (\(columns))") }
        try await body(pool, table)
        try await pool.withConnection { try $0.executeScript("DROP TABLE \(table)") }
        await pool.close()
    }
}
