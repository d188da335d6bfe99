import NIOConcurrencyHelpers

/// Write transactions that queue up while the pool is busy commit together.
///
/// Every commit with `fsync` on costs PostgreSQL a WAL flush and the client a round trip; on a
/// small machine those, not the statements, bound how many writes go through (pgbench, 2 cores,
/// the statements of `tasks.create`: 2,400 transactions/s at best one write each, 4,300 writes/s
/// eight to a transaction). So at most `runners` batches run at once, one per pool connection;
/// each takes up to `maximumBatch` queued writes and runs them in one `BEGIN … COMMIT`, each
/// inside its own savepoint:
///
/// - a write that throws is rolled back to its savepoint alone and gets its error; the others go on;
/// - every caller resumes only after the shared `COMMIT`, with its value or, when that fails, the
///   commit's error: nobody is told "done" for a write that is not durable;
/// - a batch of one is a plain transaction, with no savepoint;
/// - writes of one batch run one after the other and see each other's rows, exactly as if they
///   had committed in that order;
/// - a write of a batch that loses a deadlock (`40P01`) runs again alone: the deadlock can come
///   from holding the locks of the writes before it, which alone it would not have held.
public final class PostgresGroupCommit: Sendable {
    private struct Job: Sendable {
        let body: @Sendable (PostgresConnection) throws -> any Sendable
        let continuation: CheckedContinuation<any Sendable, any Error>
    }

    private struct State {
        var queue: [Job] = []
        var head = 0
        var runners = 0

        var waiting: Int { queue.count - head }

        mutating func take(_ count: Int) -> [Job] {
            let end = min(queue.count, head + count)
            let jobs = Array(queue[head..<end])
            head = end
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            }
            return jobs
        }
    }

    /// How many writes at most share one transaction.
    public let maximumBatch: Int
    /// How many batches at most run at once.
    public let runners: Int

    private let pool: PostgresPool
    private let state = NIOLockedValueBox(State())

    /// - Parameters:
    ///   - runners: batches at once, each holding one pool connection.
    ///   - maximumBatch: writes per transaction at most.
    public init(pool: PostgresPool, runners: Int, maximumBatch: Int = 16) {
        self.pool = pool
        self.runners = max(runners, 1)
        self.maximumBatch = max(maximumBatch, 1)
    }

    /// Runs `body` inside a transaction, possibly shared with other writes (see the type); rolls
    /// back what `body` did when it throws, and returns only once that transaction committed.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let value = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Sendable, any Error>) in
            let startRunner = state.withLockedValue { state in
                state.queue.append(Job(body: { try body($0) }, continuation: continuation))
                guard state.runners < runners else { return false }
                state.runners += 1
                return true
            }
            if startRunner {
                Task { await self.run() }
            }
        }
        return value as! T
    }

    /// Takes batches off the queue until it is empty.
    private func run() async {
        while true {
            let jobs = state.withLockedValue { state in
                let jobs = state.take(maximumBatch)
                if jobs.isEmpty { state.runners -= 1 }
                return jobs
            }
            guard !jobs.isEmpty else { return }
            await runBatch(jobs)
        }
    }

    private func runBatch(_ jobs: [Job]) async {
        let outcomes: [Result<any Sendable, any Error>]
        do {
            outcomes = try await pool.withConnection { connection in
                try Self.runTransaction(jobs, on: connection)
            }
        } catch {
            for job in jobs { job.continuation.resume(throwing: error) }
            return
        }
        var again: [Job] = []
        for (job, outcome) in zip(jobs, outcomes) {
            if jobs.count > 1, case .failure(let error as PostgresError) = outcome, error.sqlState == "40P01" {
                again.append(job)
            } else {
                job.continuation.resume(with: outcome)
            }
        }
        for job in again {
            do {
                job.continuation.resume(returning: try await pool.transaction(job.body))
            } catch {
                job.continuation.resume(throwing: error)
            }
        }
    }

    /// The jobs in one transaction on `connection`: each job's outcome, or a thrown error when
    /// the transaction as a whole failed (a savepoint's rollback or the commit).
    private static func runTransaction(_ jobs: [Job], on connection: PostgresConnection) throws -> [Result<any Sendable, any Error>] {
        guard jobs.count > 1 else {
            return [Result { try connection.inTransaction(jobs[0].body) }]
        }
        connection.beginLazily("BEGIN")
        do {
            let outcomes = try jobs.map { try runInSavepoint($0, on: connection) }
            try connection.commit()
            return outcomes
        } catch {
            // A failed ROLLBACK means the connection is gone; the pool sees that and discards it.
            try? connection.rollback()
            throw error
        }
    }

    /// One write of a shared transaction, in its own savepoint: its value, or its own error once
    /// what it did is undone; throws only when it cannot be undone.
    private static func runInSavepoint(_ job: Job, on connection: PostgresConnection) throws -> Result<any Sendable, any Error> {
        connection.savepointLazily()
        do {
            let value = try job.body(connection)
            try connection.requireUsableTransaction()
            try connection.releaseSavepoint()
            return .success(value)
        } catch {
            try connection.rollbackToSavepoint()
            return .failure(error)
        }
    }

    /// Writes waiting for a batch (for metrics and tests).
    public var waiting: Int { state.withLockedValue { $0.waiting } }
}
