import Foundation
import Testing
@testable import SQLiteDriver

/// Rough throughput figures, not a test: enabled with FAROS_SQLITE_BENCH=1 and meant for a
/// release build (`swift test -c release -Xswiftc -enable-testing --filter ThroughputBenchmark`).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["FAROS_SQLITE_BENCH"] == "1"))
struct ThroughputBenchmark {
    @Test func printThroughput() async throws {
        try await withDatabase(readers: 4, threads: 6) { database, _ in
            try await database.write {
                try $0.executeScript("CREATE TABLE items(id INTEGER PRIMARY KEY, title TEXT NOT NULL, done INTEGER NOT NULL)")
            }
            let batch = 100_000
            var start = ContinuousClock.now
            try await database.write { connection in
                for i in 0..<batch {
                    try connection.execute("INSERT INTO items(title, done) VALUES (?, ?)", [.text("task \(i)"), .integer(0)])
                }
            }
            let oneTransaction = Double(batch) / (ContinuousClock.now - start).seconds

            let single = 5_000
            start = .now
            for i in 0..<single {
                try await database.write { connection in
                    try connection.execute("INSERT INTO items(title, done) VALUES (?, ?)", [.text("single \(i)"), .integer(1)])
                }
            }
            let perInsert = Double(single) / (ContinuousClock.now - start).seconds

            let reads = 100_000
            let tasks = 8
            start = .now
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
            let pointReads = Double(reads) / (ContinuousClock.now - start).seconds
            print("THROUGHPUT inserts/s in one transaction: \(Int(oneTransaction)); one transaction per insert: \(Int(perInsert)); point reads/s with 4 readers (8 tasks): \(Int(pointReads))")
        }
    }
}

extension Duration {
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
