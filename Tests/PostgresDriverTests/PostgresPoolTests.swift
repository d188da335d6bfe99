import Dispatch
import Foundation
import NIOConcurrencyHelpers
import PostgresDriver
import Testing

@Suite(.enabled(if: TestDatabase.enabled, "needs FAROS_TEST_DATABASE_URL"))
struct PostgresPoolTests {
    @Test func executeReportsAffectedRowsAndScriptsRunSeveralStatements() async throws {
        let pool = try TestDatabase.sharedPool()
        let (inserted, updated, selected) = try await pool.withConnection { connection in
            try connection.executeScript("CREATE TEMP TABLE counts (n int8); CREATE INDEX ON counts (n)")
            defer { try? connection.executeScript("DROP TABLE counts") }
            let inserted = try connection.execute("INSERT INTO counts SELECT generate_series(1, $1)", [.int(5)])
            let updated = try connection.execute("UPDATE counts SET n = n + 1 WHERE n > $1", [.int(2)])
            let selected = try connection.query("SELECT n FROM counts ORDER BY n").map { try $0.int64("n") }
            return (inserted, updated, selected)
        }
        #expect(inserted == 5)
        #expect(updated == 3)
        #expect(selected == [1, 2, 4, 5, 6])
    }

    @Test func uniqueAndForeignKeyViolationsAreClassified() async throws {
        let pool = try TestDatabase.sharedPool()
        let (unique, foreign) = try await pool.withConnection { connection -> (PostgresError?, PostgresError?) in
            try connection.executeScript("""
                CREATE TEMP TABLE parents (id int8 PRIMARY KEY, email text CONSTRAINT parents_email_key UNIQUE);
                CREATE TEMP TABLE children (id int8 PRIMARY KEY, parent int8 NOT NULL REFERENCES parents (id))
                """)
            defer { try? connection.executeScript("DROP TABLE children; DROP TABLE parents") }
            try connection.execute("INSERT INTO parents VALUES ($1, $2)", [.int(1), .text("a@example.com")])
            var unique: PostgresError?
            do { try connection.execute("INSERT INTO parents VALUES ($1, $2)", [.int(2), .text("a@example.com")]) } catch let error as PostgresError { unique = error }
            var foreign: PostgresError?
            do { try connection.execute("INSERT INTO children VALUES ($1, $2)", [.int(1), .int(99)]) } catch let error as PostgresError { foreign = error }
            return (unique, foreign)
        }
        #expect(unique?.isUniqueViolation == true)
        #expect(unique?.sqlState == "23505")
        #expect(unique?.constraint == "parents_email_key")
        #expect(unique?.isForeignKeyViolation == false)
        #expect(unique?.isConnectionFailure == false)
        #expect(foreign?.isForeignKeyViolation == true)
        #expect(foreign?.isUniqueViolation == false)
    }

    @Test func serverErrorsCarryTheirSQLState() async throws {
        let pool = try TestDatabase.sharedPool()
        let error = await #expect(throws: PostgresError.self) {
            try await pool.withConnection { try $0.query("SELECT * FROM no_such_table_anywhere") }
        }
        #expect(error?.sqlState == "42P01")
        #expect(error?.kind == .server)
        #expect(error?.isConnectionFailure == false)
    }

    @Test func aThrowingTransactionRollsBackAndACompleteOneCommits() async throws {
        let pool = try TestDatabase.sharedPool()
        let table = TestDatabase.uniqueName("tx_probe")
        try await pool.withConnection { try $0.executeScript("CREATE TABLE \(table) (n int8)") }
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            try await pool.transaction { connection in
                try connection.execute("INSERT INTO \(table) VALUES ($1)", [.int(1)])
                throw Abort()
            }
        }
        // Swallowing an error inside the body still rolls back, and says so.
        let swallowed = await #expect(throws: PostgresError.self) {
            try await pool.transaction { connection in
                try connection.execute("INSERT INTO \(table) VALUES ($1)", [.int(2)])
                _ = try? connection.query("SELECT 1/0")
                return 0
            }
        }
        #expect(swallowed?.sqlState == "25P02")
        _ = try await pool.transaction { connection in
            try connection.execute("INSERT INTO \(table) VALUES ($1)", [.int(3)])
        }
        let rows = try await pool.withConnection { connection in
            defer { try? connection.executeScript("DROP TABLE \(table)") }
            return try connection.query("SELECT n FROM \(table)").map { try $0.int64("n") }
        }
        #expect(rows == [3])
    }

    @Test func aConnectionLeftInsideATransactionIsNotReused() async throws {
        let pool = try TestDatabase.makePool(poolSize: 1)
        let first = try await pool.withConnection { connection in
            try connection.executeScript("BEGIN")
            return try connection.query("SELECT pg_backend_pid() AS pid")[0].int64("pid")
        }
        let (second, inTransaction) = try await pool.withConnection { connection in
            let pid = try connection.query("SELECT pg_backend_pid() AS pid")[0].int64("pid")
            // SAVEPOINT fails with 25P01 outside a transaction block.
            var inTransaction = true
            do { try connection.executeScript("SAVEPOINT probe") } catch let error as PostgresError {
                inTransaction = error.sqlState != "25P01"
            }
            return (pid, inTransaction)
        }
        #expect(first != second)
        #expect(!inTransaction)
        await pool.close()
    }

    @Test func tenConcurrentCallsNeverUseMoreThanTwoConnections() async throws {
        let name = TestDatabase.uniqueName("faros_bound")
        let pool = try TestDatabase.makePool(poolSize: 2, applicationName: name)
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    try await pool.withConnection { connection in
                        try connection.execute("SELECT pg_sleep(0.05)")
                        return try connection.query(
                            "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1", [.text(name)]
                        )[0].int("n")
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(counts.count == 10)
        #expect(counts.allSatisfy { $0 >= 1 && $0 <= 2 })
        await pool.close()
    }

    @Test func aCallerWaitingLongerThanAcquireTimeoutGetsPoolTimeout() async throws {
        let pool = try TestDatabase.makePool(poolSize: 1, acquireTimeout: .milliseconds(200))
        let release = DispatchSemaphore(value: 0)
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await pool.withConnection { connection in
                _ = try connection.query("SELECT 1 AS one")
                startedContinuation.yield()
                release.wait()
            }
        }
        for await _ in started { break }
        let error = await #expect(throws: PostgresError.self) {
            try await pool.withConnection { try $0.query("SELECT 1 AS one") }
        }
        #expect(error?.isPoolTimeout == true)
        #expect(error?.isConnectionFailure == false)
        release.signal()
        try await holder.value
        // After the holder returns, the pool serves again.
        let one = try await pool.withConnection { try $0.query("SELECT 1 AS one")[0].int("one") }
        #expect(one == 1)
        await pool.close()
    }

    /// Queued callers are served in order by the connection the holder frees, the body of each
    /// running exactly once; a queued caller that is cancelled leaves the queue at once without
    /// its body ever running, and the others are still served.
    @Test func queuedCallersRunInOrderAndACancelledOneNeverRuns() async throws {
        let pool = try TestDatabase.makePool(poolSize: 1, acquireTimeout: .seconds(30))
        let release = DispatchSemaphore(value: 0)
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await pool.withConnection { _ in
                startedContinuation.yield()
                release.wait()
            }
        }
        for await _ in started { break }
        let ran = NIOLockedValueBox<[Int]>([])
        var queued: [Task<Int, any Error>] = []
        for index in 0..<6 {
            queued.append(Task {
                try await pool.withConnection { connection in
                    ran.withLockedValue { $0.append(index) }
                    return try connection.query("SELECT $1::int AS n", [.text(String(index))])[0].int("n")
                }
            })
            // Each caller queues before the next one starts.
            while pool.usage.waiting < index + 1 { try await Task.sleep(for: .milliseconds(2)) }
        }
        queued[2].cancel()
        await #expect(throws: CancellationError.self) { try await queued[2].value }
        #expect(pool.usage.waiting == 5)
        release.signal()
        try await holder.value
        for index in [0, 1, 3, 4, 5] {
            #expect(try await queued[index].value == index)
        }
        #expect(ran.withLockedValue { $0 } == [0, 1, 3, 4, 5])
        #expect(pool.usage.waiting == 0)
        await pool.close()
    }

    @Test func aKilledBackendFailsOnceThenAFreshConnectionServes() async throws {
        let pool = try TestDatabase.makePool(poolSize: 1)
        let killer = try TestDatabase.sharedPool()
        let pid = try await pool.withConnection { try $0.query("SELECT pg_backend_pid() AS pid")[0].int64("pid") }
        let terminated = try await killer.withConnection { connection in
            try connection.query("SELECT pg_terminate_backend($1::int4) AS ok", [.int(pid)])[0].bool("ok")
        }
        #expect(terminated)
        // The backend exits asynchronously; wait until the server no longer lists it.
        while try await killer.withConnection({ connection in
            try connection.query("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1::int4", [.int(pid)])[0].int("n")
        }) > 0 {
            try await Task.sleep(for: .milliseconds(10))
        }
        let error = await #expect(throws: PostgresError.self) {
            try await pool.withConnection { try $0.query("SELECT pg_backend_pid() AS pid") }
        }
        #expect(error?.isConnectionFailure == true)
        let fresh = try await pool.withConnection { try $0.query("SELECT pg_backend_pid() AS pid")[0].int64("pid") }
        #expect(fresh != pid)
        await pool.close()
    }

    @Test func thePreparedStatementCacheIsBounded() async throws {
        let pool = try TestDatabase.makePool(poolSize: 1)
        let prepared = try await pool.withConnection { connection in
            for index in 0..<200 {
                _ = try connection.query("SELECT \(index) AS n")
            }
            return try connection.query("SELECT count(*) AS n FROM pg_prepared_statements")[0].int("n")
        }
        #expect(prepared <= 128 + 1)
        #expect(prepared >= 100)
        await pool.close()
    }

    @Test func aClosedPoolRefusesCalls() async throws {
        let pool = try TestDatabase.makePool(poolSize: 1)
        _ = try await pool.withConnection { try $0.query("SELECT 1") }
        await pool.close()
        let error = await #expect(throws: PostgresError.self) {
            try await pool.withConnection { try $0.query("SELECT 1") }
        }
        #expect(error?.kind == .poolClosed)
    }

    @Test func libpqFillsWhatTheURLLeavesOutFromPGVariables() async throws {
        let url = try #require(TestDatabase.url)
        // postgres://user@host:port/database, as scripts/lib/services.sh writes it.
        let rest = try #require(url.split(separator: "://", maxSplits: 1).last)
        let authority = try #require(rest.split(separator: "/", maxSplits: 1).first)
        let database = String(try #require(rest.split(separator: "/", maxSplits: 1).last).prefix { $0 != "?" })
        let user = String(try #require(authority.split(separator: "@").first))
        let hostPort = try #require(authority.split(separator: "@").last)
        let host = String(try #require(hostPort.split(separator: ":").first))
        let port = String(try #require(hostPort.split(separator: ":").last))
        // Every other test passes a full URL, which takes precedence, so setting these
        // process-wide changes nothing for them; they are left set rather than raced to unset.
        setenv("PGUSER", user, 1)
        setenv("PGDATABASE", database, 1)
        var configuration = try PostgresConfiguration(url: "postgres://\(host):\(port)")
        configuration.poolSize = 1
        let pool = PostgresPool(configuration: configuration, threadPool: TestDatabase.threadPool, logger: TestDatabase.logger)
        let row = try await pool.withConnection { try $0.query("SELECT current_user AS u, current_database() AS d")[0] }
        #expect(try row.string("u") == user)
        #expect(try row.string("d") == database)
        await pool.close()
    }
}
