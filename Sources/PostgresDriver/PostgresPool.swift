public import Logging
import NIOConcurrencyHelpers
public import NIOPosix

/// A bounded pool of libpq connections whose blocking calls run on a `NIOThreadPool`.
///
/// Connections open lazily up to `poolSize`. A caller that finds none free waits in a FIFO queue
/// (no polling) for up to `acquireTimeout`, then gets an `isPoolTimeout` error. A connection that
/// comes back broken or still inside a transaction is closed, not reused; the next caller opens a
/// fresh one. The thread pool should have at least `poolSize` threads (plus one per dedicated
/// connection that waits for notifications), or connections sit idle waiting for threads.
public final class PostgresPool: Sendable {
    /// One `withConnection` call: its body, bound to the caller's continuation, run on whichever
    /// thread-pool thread has a connection for it.
    ///
    /// A caller that has to wait is queued as its job, not as a continuation to resume: the
    /// thread that frees a connection runs the next job on it at once. Resuming the caller on its
    /// event loop only for it to hand the body back to the thread pool cost two thread wake-ups
    /// per call whenever the pool was busy, which is when it matters.
    private struct Job: Sendable {
        /// The last instant to start; past it the job fails with `isPoolTimeout`.
        var deadline: ContinuousClock.Instant
        /// Runs the body with the lease on the current thread and resumes the caller.
        var run: @Sendable (ConnectionLease) -> Void
        /// Resumes the caller with `error`; the body never runs.
        var fail: @Sendable (any Error) -> Void
    }

    private struct State: Sendable {
        var machine: PoolStateMachine<ConnectionLease, Job>
        var nextJobID = 0
        /// Whether the task that times out queued jobs is running.
        var sweeping = false
    }

    private let configuration: PostgresConfiguration
    private let threadPool: NIOThreadPool
    private let logger: Logger
    private let state: NIOLockedValueBox<State>

    public init(configuration: PostgresConfiguration, threadPool: NIOThreadPool, logger: Logger) {
        self.configuration = configuration
        self.threadPool = threadPool
        self.logger = logger
        self.state = NIOLockedValueBox(State(machine: PoolStateMachine(capacity: max(configuration.poolSize, 1))))
    }

    /// Runs `body` with a pooled connection on a thread-pool thread.
    ///
    /// - Throws: `body`'s error, or a `PostgresError` (`isPoolTimeout`, `isConnectionFailure`),
    ///   or `CancellationError` when the caller is cancelled before `body` starts.
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        let id = state.withLockedValue { state in
            state.nextJobID += 1
            return state.nextJobID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                // A cancellation that came before this point found no job to remove.
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                let job = Job(
                    deadline: .now + configuration.acquireTimeout,
                    run: { lease in
                        let result = Result { try body(lease.connection) }
                        lease.connection.endLease()
                        continuation.resume(with: result)
                    },
                    fail: { continuation.resume(throwing: $0) }
                )
                let action = state.withLockedValue { $0.machine.acquire(id: id, waiter: job) }
                switch action {
                case .use(let lease):
                    perform(.handOver(lease, to: job))
                case .open:
                    perform(.openFor(job))
                case .wait:
                    startSweeping()
                case .fail:
                    job.fail(PostgresError(kind: .poolClosed, message: "the connection pool is closed"))
                }
            }
        } onCancel: {
            state.withLockedValue { $0.machine.cancel(id: id) }?.fail(CancellationError())
        }
    }

    /// Runs `body` inside `BEGIN` … `COMMIT`; rolls back when `body` throws. `BEGIN` travels with
    /// the first statement and `COMMIT` with the statements queued by
    /// `PostgresConnection.runAtCommit(_:)`, so neither costs a round trip of its own.
    ///
    /// A transaction that failed inside `body` (an error caught and swallowed there) is rolled back
    /// and reported as an error, since `COMMIT` would silently roll it back.
    public func transaction<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try connection.inTransaction(body)
        }
    }

    /// The pool's size, connections in use (leased or opening), and callers waiting for one.
    public var usage: (capacity: Int, inUse: Int, waiting: Int) {
        state.withLockedValue { state in
            (state.machine.capacity, state.machine.count - state.machine.idleCount, state.machine.waiterCount)
        }
    }

    /// Opens a connection outside the pool's bound for a long-lived use (LISTEN/NOTIFY).
    public func makeDedicatedConnection() async throws -> PostgresDedicatedConnection {
        let lease = try await open()
        return PostgresDedicatedConnection(lease: lease, threadPool: threadPool)
    }

    /// Fails all waiters and closes idle connections; leased ones close when they come back.
    public func close() async {
        let (idle, waiters) = state.withLockedValue { $0.machine.close() }
        for waiter in waiters {
            waiter.fail(PostgresError(kind: .poolClosed, message: "the connection pool is closed"))
        }
        for lease in idle {
            _ = try? await threadPool.runIfActive { lease.close() }
        }
    }

    private func open() async throws -> ConnectionLease {
        try await threadPool.runIfActive { [self] in try openBlocking() }
    }

    /// Opens a connection on the current (thread-pool) thread; a failure is logged here.
    private func openBlocking() throws -> ConnectionLease {
        do {
            let handle = try LibPQConnection(
                url: configuration.url,
                connectTimeoutSeconds: Int(configuration.connectTimeout.components.seconds),
                applicationName: configuration.applicationName
            )
            return ConnectionLease(connection: PostgresConnection(handle: handle))
        } catch {
            logger.warning("cannot connect to PostgreSQL", metadata: ["url": "\(configuration.redactedURL)", "error": "\(error.message)"])
            throw error
        }
    }

    /// What a job queued past `acquireTimeout` fails with.
    private var timedOut: PostgresError {
        PostgresError(kind: .poolTimeout, message: "no database connection became free within \(configuration.acquireTimeout)")
    }

    /// Runs `job` on `lease`, then, on this same thread, every queued job the connection is
    /// handed to, until none waits.
    private func run(_ first: Job, on firstLease: ConnectionLease) {
        var job = first
        var lease = firstLease
        while true {
            if job.deadline < .now {
                // Queued too long (the sweeper had not come round yet).
                job.fail(timedOut)
            } else {
                job.run(lease)
            }
            let reusable = lease.isReusable
            if !reusable {
                logger.debug("discarding a PostgreSQL connection that is broken or inside a transaction")
                lease.close()
            }
            switch state.withLockedValue({ $0.machine.release(lease, reusable: reusable) }) {
            case .none:
                return
            case .handOver(let next, let nextJob):
                lease = next
                job = nextJob
            case .openFor(let nextJob):
                openAndRun(nextJob)
                return
            case .close(let closing):
                closing.close()
                return
            }
        }
    }

    /// Opens a connection in the slot reserved for `job` and runs it there; when opening fails,
    /// `job` fails and the freed slot goes to the next queued job, which tries in turn.
    private func openAndRun(_ job: Job) {
        let lease: ConnectionLease
        do {
            lease = try openBlocking()
        } catch {
            job.fail(error)
            perform(state.withLockedValue { $0.machine.openFailed() })
            return
        }
        run(job, on: lease)
    }

    /// Runs `work` on a thread-pool thread, or `otherwise` when the thread pool has stopped.
    private func submit(_ work: @escaping @Sendable () -> Void, orElse otherwise: @escaping @Sendable (any Error) -> Void) {
        threadPool.submit { state in
            if case .active = state {
                work()
            } else {
                otherwise(PostgresError(kind: .poolClosed, message: "the connection pool's threads have stopped"))
            }
        }
    }

    /// Starts a job on a thread-pool thread: on a connection handed to it, or in a slot reserved
    /// for it to open one (a grant at `withConnection`, or a release outside ``run(_:on:)``).
    private func perform(_ action: PoolStateMachine<ConnectionLease, Job>.ReleaseAction) {
        switch action {
        case .none:
            break
        case .handOver(let lease, let job):
            submit { [self] in run(job, on: lease) } orElse: { [self] error in
                job.fail(error)
                perform(state.withLockedValue { $0.machine.release(lease, reusable: true) })
            }
        case .openFor(let job):
            submit { [self] in openAndRun(job) } orElse: { [self] error in
                job.fail(error)
                perform(state.withLockedValue { $0.machine.openFailed() })
            }
        case .close(let lease):
            discard(lease)
        }
    }

    /// Times out queued jobs: one task for the whole pool while any job waits, waking a few
    /// times per timeout (never per job: a task and a timer per waiting call cost more than the
    /// call's own query). Jobs queue in order and share one timeout, so the expired ones are
    /// always at the front.
    private func startSweeping() {
        let start = state.withLockedValue { state in
            if state.sweeping { return false }
            state.sweeping = true
            return true
        }
        guard start else { return }
        let period = min(configuration.acquireTimeout / 4, .milliseconds(250))
        let timedOut = self.timedOut
        Task { [state] in
            while true {
                try? await Task.sleep(for: period)
                let now = ContinuousClock.now
                let (expired, done) = state.withLockedValue { state in
                    let expired = state.machine.removeWaiters(whileFront: { $0.deadline < now })
                    let done = state.machine.waiterCount == 0 || state.machine.isClosed
                    if done { state.sweeping = false }
                    return (expired, done)
                }
                for job in expired {
                    job.fail(timedOut)
                }
                if done { return }
            }
        }
    }

    /// Closes a connection on the thread pool (PQfinish writes to the socket).
    private func discard(_ lease: ConnectionLease) {
        threadPool.submit { _ in lease.close() }
    }
}
