import NIOCore
import NIOPosix
import Synchronization

/// A fixed set of connections, each used by one job at a time on a thread-pool thread, jobs
/// queuing in FIFO order when every connection is busy.
///
/// A connection never travels back to the caller's task: the thread that finishes a job with it
/// takes the oldest queued job and runs it on the same connection straight away, and only returns
/// the connection to the idle set when no job waits. A connection is therefore busy only while
/// SQLite works, not while a finished caller waits for its event loop to resume it (under load
/// that wait was longer than the query and left connections idle with work queued).
final class ConnectionPool: Sendable {
    /// A connection on its way between the pool and one job.
    ///
    /// `@unchecked Sendable` is safe because the pool hands each connection to one job at a time
    /// (checkout and return happen under the pool's lock), and a job uses it on one thread-pool
    /// thread; the connection itself is never shared concurrently.
    final class Lease: @unchecked Sendable {
        let connection: SQLiteConnection
        init(_ connection: SQLiteConnection) { self.connection = connection }
    }

    /// Work for a connection, its result type erased.
    struct Job: Sendable {
        fileprivate let id: UInt64
        /// Whether it may share a transaction with the jobs queued beside it (see `batchRunner`).
        let batchable: Bool
        /// Does the work on a thread-pool thread; `false` when it threw (the error is kept).
        let attempt: @Sendable (SQLiteConnection) -> Bool
        /// Resumes the caller with what `attempt` produced, or with `error` when one is given
        /// (the work did not run, or its transaction did not commit).
        let finish: @Sendable (_ error: (any Error)?) -> Void
    }

    /// Runs several batchable jobs on one connection (in one transaction); each job must be
    /// attempted at most once and finished exactly once.
    typealias BatchRunner = @Sendable (SQLiteConnection, [Job]) -> Void

    /// How many batchable jobs at most run together.
    static let maximumBatch = 32

    /// Queued jobs per busy connection beyond which an idle connection starts working too.
    static let jobsPerBusyConnection = 4

    private struct State {
        var idle: [Lease]
        var waiting = CircularBuffer<Job>()
        var nextJobID: UInt64 = 0
        var lent = 0
        var closed = false
        /// Who waits in `drain` for the lent connections to come back.
        var drainWaiter: CheckedContinuation<Void, Never>?
    }

    private enum Start { case now(Lease, Job), queued, closed }

    private let state: Mutex<State>
    private let threadPool: NIOThreadPool
    /// What a job gets when the thread pool has stopped.
    private let stoppedError: any Error
    private let batchRunner: BatchRunner?

    /// - Parameter batchRunner: runs the batchable jobs found together at the head of the
    ///   queue; without one every job runs alone.
    init(_ connections: [SQLiteConnection], threadPool: NIOThreadPool, stoppedError: any Error, batchRunner: BatchRunner? = nil) {
        state = Mutex(State(idle: connections.map(Lease.init)))
        capacity = connections.count
        self.threadPool = threadPool
        self.stoppedError = stoppedError
        self.batchRunner = batchRunner
    }

    /// How many connections the pool holds.
    let capacity: Int

    /// Connections busy now, and jobs waiting for one (metrics).
    var usage: (inUse: Int, waiting: Int) {
        state.withLock { ($0.lent, $0.waiting.count) }
    }

    /// Runs `body` with a connection on a thread-pool thread, after the jobs queued before it
    /// when every connection is busy.
    ///
    /// A task cancelled while its job waits leaves the queue with `CancellationError`; a job
    /// that has started runs to its end. A `batchable` job may run in one call of the pool's
    /// batch runner together with the batchable jobs queued right after it.
    func run<T: Sendable>(batchable: Bool = false, _ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        let id: UInt64 = state.withLock { state in
            defer { state.nextJobID += 1 }
            return state.nextJobID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let outcome = Outcome<T>()
                let job = Job(
                    id: id,
                    batchable: batchable && batchRunner != nil,
                    attempt: { connection in
                        outcome.result = Result { try body(connection) }
                        if case .success = outcome.result { return true }
                        return false
                    },
                    finish: { error in
                        if let error {
                            continuation.resume(throwing: error)
                        } else {
                            continuation.resume(with: outcome.result ?? .failure(SQLiteError.misuse("a job finished without running")))
                        }
                    }
                )
                let start: Start = state.withLock { state in
                    if state.closed { return .closed }
                    state.waiting.append(job)
                    // Another connection (and thread) joins only when the queue outgrows the
                    // busy ones: waking a sleeping thread costs more than a short read, and a
                    // busy thread takes the next job without sleeping.
                    guard state.lent == 0 || state.waiting.count > Self.jobsPerBusyConnection * state.lent,
                          let lease = state.idle.popLast()
                    else { return .queued }
                    state.lent += 1
                    return .now(lease, state.waiting.removeFirst())
                }
                switch start {
                case .now(let lease, let first): startWorking(on: lease, with: first)
                case .queued: break
                case .closed: job.finish(SQLiteError.closed)
                }
            }
        } onCancel: {
            let job: Job? = state.withLock { state in
                guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiting.remove(at: index)
            }
            job?.finish(CancellationError())
        }
    }

    /// Hands `lease` to a thread-pool thread that runs `job`, then every job queued meanwhile.
    private func startWorking(on lease: Lease, with job: Job) {
        threadPool.submit { [self] workState in
            guard case .active = workState else {
                // The thread pool has stopped: nothing can run, so every queued job fails too.
                job.finish(stoppedError)
                while let next = nextJobs(after: lease) {
                    for job in next { job.finish(stoppedError) }
                }
                return
            }
            var current = [job]
            while true {
                // Only batchable jobs come in groups, and only when there is a runner.
                if current[0].batchable, let batchRunner {
                    batchRunner(lease.connection, current)
                } else {
                    _ = current[0].attempt(lease.connection)
                    current[0].finish(nil)
                }
                guard let next = nextJobs(after: lease) else { return }
                current = next
            }
        }
    }

    /// The next work for a connection that just became free: the oldest queued job, with the
    /// batchable jobs queued right after it when it is batchable; or `nil` after putting the
    /// connection back with the idle ones.
    private func nextJobs(after lease: Lease) -> [Job]? {
        let (next, drained): ([Job]?, CheckedContinuation<Void, Never>?) = state.withLock { state in
            if let first = state.waiting.popFirst() {
                var jobs = [first]
                while first.batchable, jobs.count < Self.maximumBatch, let following = state.waiting.first, following.batchable {
                    jobs.append(state.waiting.removeFirst())
                }
                return (jobs, nil)
            }
            state.lent -= 1
            state.idle.append(lease)
            if state.closed, state.lent == 0, let drainWaiter = state.drainWaiter {
                state.drainWaiter = nil
                return (nil, drainWaiter)
            }
            return (nil, nil)
        }
        drained?.resume()
        return next
    }

    /// Refuses new jobs, fails the queued ones, waits until every busy connection is free, and
    /// returns all connections for closing. A second call returns none.
    func drain() async -> [Lease] {
        let queued: [Job] = state.withLock { state in
            state.closed = true
            defer { state.waiting.removeAll() }
            return Array(state.waiting)
        }
        for job in queued {
            job.finish(SQLiteError.closed)
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.lent == 0 { return true }
                state.drainWaiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
        return state.withLock { state in
            defer { state.idle.removeAll() }
            return state.idle
        }
    }
}

/// Where a job keeps its result between `attempt` and `finish`.
///
/// `@unchecked Sendable` is safe because `attempt` writes it once on the thread that runs the
/// job and `finish` reads it afterwards, on that thread or one the pool's lock ordered after it.
private final class Outcome<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
