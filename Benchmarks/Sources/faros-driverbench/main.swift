import Logging
import NIOPosix
import PostgresDriver
import SQLiteDriver

// Throughput of the two database drivers on their own, without the server:
//   swift run -c release faros-driverbench sqlite
//   swift run -c release faros-driverbench postgres postgres://USER@HOST:PORT/DB
// Prints figures; asserts nothing. Compare a run with `pgbench` on the same statement (for
// PostgreSQL) made in the same minute: this machine's speed drifts between runs.

let logger = Logger(label: "faros.driverbench", factory: { _ in SwiftLogNoOpLogHandler() })

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Inserts in one transaction, one transaction per insert, and point reads from 8 tasks over 4 readers.
func sqlite() async throws {
    let directory = "/tmp/faros-driverbench-\(UInt64.random(in: 0...UInt64.max))"
    let threadPool = NIOThreadPool(numberOfThreads: 6)
    threadPool.start()
    let database = try await SQLiteDatabase.open(path: directory + "/bench.sqlite", readers: 4, threadPool: threadPool, logger: logger)
    try await database.write {
        try $0.executeScript("CREATE TABLE items(id INTEGER PRIMARY KEY, title TEXT NOT NULL, done INTEGER NOT NULL)")
    }
    let clock = ContinuousClock()
    let batch = 100_000
    let oneTransaction = try await clock.measure {
        try await database.write { connection in
            for i in 0..<batch {
                _ = try connection.execute("INSERT INTO items(title, done) VALUES (?, ?)", [.text("task \(i)"), .integer(0)])
            }
        }
    }
    let single = 5_000
    let perInsert = try await clock.measure {
        for i in 0..<single {
            try await database.write { connection in
                _ = try connection.execute("INSERT INTO items(title, done) VALUES (?, ?)", [.text("single \(i)"), .integer(1)])
            }
        }
    }
    let reads = 100_000
    let tasks = 8
    let pointReads = try await clock.measure {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    for i in 0..<(reads / tasks) {
                        let id = Int64((i * tasks + t) % batch + 1)
                        let rows = try await database.read { try $0.query("SELECT id, title, done FROM items WHERE id = ?", [.integer(id)]) }
                        precondition(rows.count == 1)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
    await database.close()
    try await threadPool.shutdownGracefully()
    print("SQLite inserts/s in one transaction: \(Int(Double(batch) / seconds(oneTransaction)))")
    print("SQLite inserts/s, one transaction each: \(Int(Double(single) / seconds(perInsert)))")
    print("SQLite point reads/s, 8 tasks over 4 readers: \(Int(Double(reads) / seconds(pointReads)))")
}

/// `SELECT $1::int8` round trips from 8 tasks over a pool of 8 connections.
func postgres(url: String) async throws {
    let threadPool = NIOThreadPool(numberOfThreads: 24)
    threadPool.start()
    var configuration = try PostgresConfiguration(url: url)
    configuration.poolSize = 8
    let pool = PostgresPool(configuration: configuration, threadPool: threadPool, logger: logger)
    let workers = 8
    let perWorker = 2_000
    // Warm up: open every connection and prepare the statement on each.
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<workers {
            group.addTask { _ = try await pool.withConnection { try $0.query("SELECT $1::int8 AS v", [.int(1)]) } }
        }
        try await group.waitForAll()
    }
    let elapsed = try await ContinuousClock().measure {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    for index in 0..<perWorker {
                        let value = Int64(worker * perWorker + index)
                        let back = try await pool.withConnection { try $0.query("SELECT $1::int8 AS v", [.int(value)])[0].int64("v") }
                        precondition(back == value)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
    await pool.close()
    try await threadPool.shutdownGracefully()
    let total = workers * perWorker
    print("PostgreSQL SELECT $1::int8 round trips/s with \(workers) connections: \(Int(Double(total) / seconds(elapsed)))")
}

let arguments = CommandLine.arguments.dropFirst()
switch (arguments.first, arguments.dropFirst().first) {
case ("sqlite", _):
    try await sqlite()
case ("postgres", let url?):
    try await postgres(url: url)
default:
    print("usage: faros-driverbench sqlite | postgres URL")
}
