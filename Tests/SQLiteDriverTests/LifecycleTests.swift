import Foundation
import NIOPosix
import Testing
@testable import SQLiteDriver

@Suite struct LifecycleTests {
    @Test func openCreatesTheFileAndItsDirectories() async throws {
        try await withDatabase { database, path in
            try await database.write { try $0.executeScript("CREATE TABLE t(v)") }
            #expect(FileManager.default.fileExists(atPath: path))
            let parent = (path as NSString).deletingLastPathComponent
            let permissions = try FileManager.default.attributesOfItem(atPath: parent)[.posixPermissions] as? Int
            #expect(permissions == 0o700)
        }
    }

    @Test func dataSurvivesReopening() async throws {
        try await withDatabase { database, path in
            try await database.write { try $0.executeScript("CREATE TABLE t(v); INSERT INTO t VALUES ('kept');") }
            let again = try await SQLiteDatabase.open(path: path, readers: 1, threadPool: .singleton, logger: quietLogger)
            let value = try await again.read { try $0.query("SELECT v FROM t")[0].string("v") }
            #expect(value == "kept")
            await again.close()
        }
    }

    @Test(arguments: [-1, 65])
    func readerCountIsBounded(_ readers: Int) async throws {
        let error = await sqliteError {
            _ = try await SQLiteDatabase.open(path: ":memory:", readers: readers, threadPool: .singleton, logger: quietLogger)
        }
        #expect(error?.code == 21)
    }

    @Test func anUnopenablePathFailsCleanly() async throws {
        let error = await sqliteError {
            _ = try await SQLiteDatabase.open(path: "/proc/faros/cannot/db.sqlite", readers: 1, threadPool: .singleton, logger: quietLogger)
        }
        #expect(error != nil)
    }

    @Test func closeIsIdempotentAndLaterCallsFail() async throws {
        let threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        defer { threadPool.shutdownGracefully { _ in } }
        for path in [":memory:", FileManager.default.temporaryDirectory.appendingPathComponent("faros-close-\(UUID().uuidString)/db").path] {
            let database = try await SQLiteDatabase.open(path: path, readers: 2, threadPool: threadPool, logger: quietLogger)
            try await database.write { try $0.executeScript("CREATE TABLE t(v)") }
            async let first: Void = database.close()
            async let second: Void = database.close()
            _ = await (first, second)
            await database.close()
            let write = await sqliteError { try await database.write { try $0.execute("INSERT INTO t VALUES (1)") } }
            #expect(write?.isClosed == true)
            let read = await sqliteError { _ = try await database.read { try $0.query("SELECT 1") } }
            #expect(read?.isClosed == true)
            if path != ":memory:" {
                try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
            }
        }
    }

    @Test func closeWaitsForRunningWorkAndFailsQueuedWork() async throws {
        try await withDatabase(readers: 1, threads: 4) { database, _ in
            try await database.write { try $0.executeScript("CREATE TABLE t(v)") }
            let started = AsyncStream<Void>.makeStream()
            let running = Task {
                try await database.write { connection in
                    started.continuation.yield()
                    Thread.sleep(forTimeInterval: 0.05)
                    try connection.execute("INSERT INTO t VALUES (1)")
                }
            }
            for await _ in started.stream { break }
            await database.close()
            // The running write finished (committed) before the connections closed.
            try await running.value
            let after = await sqliteError { try await database.write { _ in } }
            #expect(after?.isClosed == true)
        }
    }

    @Test func aStoppedThreadPoolFailsCleanly() async throws {
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        let database = try await SQLiteDatabase.open(path: ":memory:", readers: 1, threadPool: threadPool, logger: quietLogger)
        try await threadPool.shutdownGracefully()
        let error = await sqliteError { _ = try await database.read { try $0.query("SELECT 1") } }
        #expect(error?.isClosed == true)
        await database.close()
    }

    @Test func theStatementCacheIsBounded() async throws {
        try await withMemoryDatabase { database in
            let (counts, reused) = try await database.write { connection in
                var counts: [Int] = []
                for i in 0..<200 {
                    #expect(try connection.query("SELECT \(i) AS n")[0].int64("n") == Int64(i))
                    counts.append(connection.cachedStatementCount)
                }
                // The most recent statement survived; an evicted one is prepared again.
                let reused = try connection.query("SELECT 199 AS n")[0].int64("n")
                    + connection.query("SELECT 0 AS n")[0].int64("n")
                return (counts, reused)
            }
            #expect(counts.max() == SQLiteConnection.defaultStatementCacheCapacity)
            #expect(counts.last == SQLiteConnection.defaultStatementCacheCapacity)
            #expect(reused == 199)
        }
    }
}
