import Foundation
import PostgresDriver
import Testing

/// A throughput figure, not a test: runs only with `FAROS_PG_BENCHMARK=1` and asserts nothing
/// about speed. Run it in a release build (`swift test -c release -Xswiftc -enable-testing`).
@Suite(.enabled(if: TestDatabase.url != nil && ProcessInfo.processInfo.environment["FAROS_PG_BENCHMARK"] == "1"))
struct PostgresThroughputTests {
    @Test func selectRoundTripsPerSecondWithEightConnections() async throws {
        let pool = try TestDatabase.makePool(poolSize: 8)
        let workers = 8
        let perWorker = 2_000
        // Warm up: open every connection and prepare the statement on each.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask { _ = try await pool.withConnection { try $0.query("SELECT $1::int8 AS v", [.int(1)]) } }
            }
            try await group.waitForAll()
        }
        let clock = ContinuousClock()
        let elapsed = try await clock.measure {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        for index in 0..<perWorker {
                            let value = Int64(worker * perWorker + index)
                            let back = try await pool.withConnection { try $0.query("SELECT $1::int8 AS v", [.int(value)])[0].int64("v") }
                            #expect(back == value)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let total = workers * perWorker
        print("PostgresDriver throughput (noisy: shared 2-core machine, nice 19): \(total) SELECT $1::int8 round trips with \(workers) connections in \(String(format: "%.2f", seconds)) s = \(Int(Double(total) / seconds)) calls/s")
        await pool.close()
    }
}
