import Dispatch
import Testing
@testable import SQLiteDriver

@Suite struct TransactionTests {
    @Test func aThrowingWriteRollsBack() async throws {
        try await withDatabase { database, _ in
            try await database.write { try $0.executeScript("CREATE TABLE t(v INTEGER UNIQUE)") }
            await #expect(throws: Marker.self) {
                try await database.write { connection in
                    try connection.execute("INSERT INTO t VALUES (1)")
                    throw Marker()
                }
            }
            // A failing statement after a successful one undoes both.
            let error = await sqliteError {
                try await database.write { connection in
                    try connection.execute("INSERT INTO t VALUES (2)")
                    try connection.execute("INSERT INTO t VALUES (2)")
                }
            }
            #expect(error?.isUniqueViolation == true)
            let count = try await database.read { try $0.query("SELECT count(*) FROM t")[0].int64(at: 0) }
            #expect(count == 0)
            // The writer is usable again, outside any leftover transaction.
            try await database.write { try $0.execute("INSERT INTO t VALUES (3)") }
            #expect(try await database.read { try $0.query("SELECT v FROM t")[0].int64("v") } == 3)
        }
    }

    @Test func changeCountsAndRowIDs() async throws {
        try await withDatabase { database, _ in
            let (created, inserted, rowID, updated, selected, unchanged) = try await database.write { connection in
                let created = try connection.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER)")
                let inserted = try connection.execute("INSERT INTO t(v) VALUES (1), (2), (3)")
                let rowID = connection.lastInsertRowID
                let updated = try connection.execute("UPDATE t SET v = v + 1")
                let selected = try connection.execute("SELECT * FROM t")
                let unchanged = try connection.execute("UPDATE t SET v = 0 WHERE id > 99")
                return (created, inserted, rowID, updated, selected, unchanged)
            }
            #expect(created == 0)
            #expect(inserted == 3)
            #expect(rowID == 3)
            #expect(updated == 3)
            #expect(selected == 0)
            #expect(unchanged == 0)
        }
    }

    @Test func readsAreQueryOnly() async throws {
        try await withDatabase { database, _ in
            try await database.write { try $0.executeScript("CREATE TABLE t(v)") }
            let error = await sqliteError { try await database.read { try $0.execute("INSERT INTO t VALUES (1)") } }
            #expect(error != nil)
        }
        try await withMemoryDatabase { database in
            try await database.write { try $0.executeScript("CREATE TABLE t(v)") }
            let error = await sqliteError { try await database.read { try $0.execute("INSERT INTO t VALUES (1)") } }
            #expect(error != nil)
            // query_only is switched off again for the shared writer.
            try await database.write { try $0.execute("INSERT INTO t VALUES (1)") }
        }
    }

    @Test func connectionSettingsAreApplied() async throws {
        try await withDatabase { database, _ in
            let (journal, foreignKeys, busy, synchronous) = try await database.read { connection in
                (
                    try connection.query("PRAGMA journal_mode")[0].string(at: 0),
                    try connection.query("PRAGMA foreign_keys")[0].int64(at: 0),
                    try connection.query("PRAGMA busy_timeout")[0].int64(at: 0),
                    try connection.query("PRAGMA synchronous")[0].int64(at: 0)
                )
            }
            #expect(journal == "wal")
            #expect(foreignKeys == 1)
            #expect(busy == 5000)
            #expect(synchronous == 1)
        }
    }

    @Test func readersKeepTheirSnapshotWhileAWriteCommits() async throws {
        try await withDatabase(readers: 2, threads: 4) { database, _ in
            try await database.write { try $0.executeScript("CREATE TABLE t(v); INSERT INTO t VALUES (1);") }
            let readerHasSnapshot = DispatchSemaphore(value: 0)
            let writeCommitted = DispatchSemaphore(value: 0)
            let reader = Task {
                try await database.read { connection in
                    let before = try connection.query("SELECT count(*) FROM t")[0].int64(at: 0)
                    readerHasSnapshot.signal()
                    guard writeCommitted.wait(timeout: .now() + 30) == .success else { throw Marker() }
                    let after = try connection.query("SELECT count(*) FROM t")[0].int64(at: 0)
                    let sum = try connection.query("SELECT sum(v) FROM t")[0].int64(at: 0)
                    return (before, after, sum)
                }
            }
            try await database.write { connection in
                guard readerHasSnapshot.wait(timeout: .now() + 30) == .success else { throw Marker() }
                try connection.execute("INSERT INTO t VALUES (2), (3)")
            }
            writeCommitted.signal()
            let (before, after, sum) = try await reader.value
            #expect(before == 1)
            #expect(after == 1)
            #expect(sum == 1)
            let fresh = try await database.read { try $0.query("SELECT count(*) FROM t")[0].int64(at: 0) }
            #expect(fresh == 3)
        }
    }

    @Test func concurrentWritesAreSerialized() async throws {
        try await withDatabase(readers: 2, threads: 4) { database, _ in
            try await database.write { try $0.executeScript("CREATE TABLE counter(n INTEGER); INSERT INTO counter VALUES (0);") }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        // Read-modify-write in Swift: only correct if no other write interleaves.
                        try await database.write { connection in
                            let n = try connection.query("SELECT n FROM counter")[0].int64("n")
                            try connection.execute("UPDATE counter SET n = ?", [.integer(n + 1)])
                        }
                    }
                    group.addTask {
                        _ = try await database.read { try $0.query("SELECT n FROM counter") }
                    }
                }
                try await group.waitForAll()
            }
            let n = try await database.read { try $0.query("SELECT n FROM counter")[0].int64("n") }
            #expect(n == 100)
        }
    }

    /// Writes queued behind a busy writer commit together, each in its own savepoint: the ones
    /// that throw (in Swift or in SQLite) are undone alone, the others all commit.
    @Test func writesQueuedTogetherFailAlone() async throws {
        try await withDatabase(readers: 2, threads: 4) { database, _ in
            try await database.write { try $0.executeScript("CREATE TABLE t(v INTEGER UNIQUE); INSERT INTO t VALUES (-1);") }
            let gate = DispatchSemaphore(value: 0)
            // Holds the writer until the others have queued, so they run as one batch.
            let holder = Task { try await database.write { connection in
                gate.wait()
                try connection.execute("INSERT INTO t VALUES (-2)")
            } }
            let outcomes = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for i in 0..<60 {
                    group.addTask {
                        do {
                            try await database.write { connection in
                                try connection.execute("INSERT INTO t VALUES (?)", [.integer(Int64(i))])
                                switch i % 3 {
                                case 1: throw Marker()
                                case 2: try connection.execute("INSERT INTO t VALUES (-1)")  // unique violation
                                default: break
                                }
                            }
                            return (i, "ok")
                        } catch is Marker {
                            return (i, "marker")
                        } catch let error as SQLiteError where error.isUniqueViolation {
                            return (i, "unique")
                        }
                    }
                }
                try await Task.sleep(for: .milliseconds(200))
                gate.signal()
                var outcomes: [Int: String] = [:]
                for try await (i, outcome) in group { outcomes[i] = outcome }
                return outcomes
            }
            try await holder.value
            for i in 0..<60 {
                #expect(outcomes[i] == ["ok", "marker", "unique"][i % 3], "write \(i)")
            }
            let stored = try await database.read { try $0.query("SELECT v FROM t WHERE v >= 0 ORDER BY v").map { try $0.int64(at: 0) } }
            #expect(stored == Array(stride(from: 0, to: 60, by: 3)).map(Int64.init))
            #expect(try await database.read { try $0.query("SELECT count(*) FROM t WHERE v < 0")[0].int64(at: 0) } == 2)
        }
    }

    /// A write cancelled while it waits for the writer never runs.
    @Test func aCancelledQueuedWriteNeverRuns() async throws {
        try await withDatabase(readers: 1, threads: 3) { database, _ in
            try await database.write { try $0.executeScript("CREATE TABLE t(v INTEGER)") }
            let gate = DispatchSemaphore(value: 0)
            let holding = DispatchSemaphore(value: 0)
            let holder = Task {
                try await database.write { _ in
                    holding.signal()
                    gate.wait()
                }
            }
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    holding.wait()
                    continuation.resume()
                }
            }
            let queued = Task { try await database.write { try $0.execute("INSERT INTO t VALUES (1)") } }
            try await Task.sleep(for: .milliseconds(50))
            queued.cancel()
            await #expect(throws: CancellationError.self) { try await queued.value }
            gate.signal()
            try await holder.value
            #expect(try await database.read { try $0.query("SELECT count(*) FROM t")[0].int64(at: 0) } == 0)
        }
    }

    @Test func aLockHeldElsewhereFailsAsBusyAfterTheTimeout() async throws {
        try await withDatabase(readers: 1, threads: 4) { database, path in
            try await database.write { try $0.executeScript("CREATE TABLE t(v)") }
            let other = try await SQLiteDatabase.open(
                path: path, readers: 1, threadPool: .singleton, logger: quietLogger, busyTimeout: .milliseconds(20)
            )
            let holding = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let holder = Task {
                try await database.write { connection in
                    try connection.execute("INSERT INTO t VALUES (1)")
                    holding.signal()
                    _ = release.wait(timeout: .now() + 30)
                }
            }
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    holding.wait()
                    continuation.resume()
                }
            }
            let error = await sqliteError { try await other.write { try $0.execute("INSERT INTO t VALUES (2)") } }
            #expect(error?.isBusy == true)
            #expect(error?.isConstraintViolation == false)
            // Readers are not blocked by the held write lock (WAL).
            let count = try await other.read { try $0.query("SELECT count(*) FROM t")[0].int64(at: 0) }
            #expect(count == 0)
            release.signal()
            try await holder.value
            try await other.write { try $0.execute("INSERT INTO t VALUES (2)") }
            await other.close()
        }
    }

    @Test func aLockHeldElsewhereIsWaitedForWithinTheTimeout() async throws {
        try await withDatabase(readers: 1, threads: 4) { database, path in
            try await database.write { try $0.executeScript("CREATE TABLE t(v)") }
            let other = try await SQLiteDatabase.open(path: path, readers: 1, threadPool: .singleton, logger: quietLogger)
            let holding = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let holder = Task {
                try await database.write { connection in
                    try connection.execute("INSERT INTO t VALUES (1)")
                    holding.signal()
                    _ = release.wait(timeout: .now() + 30)
                }
            }
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    holding.wait()
                    continuation.resume()
                }
            }
            let waiter = Task { try await other.write { try $0.execute("INSERT INTO t VALUES (2)") } }
            // Whether or not the waiter reached the lock yet, it must succeed once it is released.
            try await Task.sleep(for: .milliseconds(50))
            release.signal()
            try await holder.value
            _ = try await waiter.value
            let count = try await database.read { try $0.query("SELECT count(*) FROM t")[0].int64(at: 0) }
            #expect(count == 2)
            await other.close()
        }
    }
}
