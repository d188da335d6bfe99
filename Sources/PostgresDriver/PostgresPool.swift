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
    private enum Grant: Sendable {
        case connection(ConnectionLease)
        case open
    }

    private typealias Waiter = CheckedContinuation<Grant, any Error>

    private struct State: Sendable {
        var machine: PoolStateMachine<ConnectionLease, Waiter>
        var nextWaiterID = 0
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
    /// - Throws: `body`'s error, or a `PostgresError` (`isPoolTimeout`, `isConnectionFailure`).
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        let lease = try await acquire()
        let result: Result<T, any Error>
        do {
            // The connection goes back on the thread-pool thread, as soon as `body` is done: a
            // waiter gets it then, not after this caller has waited for its event loop.
            result = try await threadPool.runIfActive { [self] in
                let result = Result { try body(lease.connection) }
                lease.connection.endLease()
                let reusable = lease.isReusable
                if !reusable {
                    logger.debug("discarding a PostgreSQL connection that is broken or inside a transaction")
                }
                release(lease, reusable: reusable)
                return result
            }
        } catch {
            // The closure never ran (cancelled or the thread pool stopped): the connection is untouched.
            release(lease, reusable: true)
            throw error
        }
        return try result.get()
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
            waiter.resume(throwing: PostgresError(kind: .poolClosed, message: "the connection pool is closed"))
        }
        for lease in idle {
            _ = try? await threadPool.runIfActive { lease.close() }
        }
    }

    private func acquire() async throws -> ConnectionLease {
        let id = state.withLockedValue { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let timer = NIOLockedValueBox<Task<Void, Never>?>(nil)
        defer { timer.withLockedValue { $0?.cancel() } }
        let grant: Grant = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: Waiter) in
                // A cancellation that came before this point found no waiter to remove.
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                let action = state.withLockedValue { $0.machine.acquire(id: id, waiter: continuation) }
                switch action {
                case .use(let lease):
                    continuation.resume(returning: .connection(lease))
                case .open:
                    continuation.resume(returning: .open)
                case .fail:
                    continuation.resume(throwing: PostgresError(kind: .poolClosed, message: "the connection pool is closed"))
                case .wait:
                    let timeout = configuration.acquireTimeout
                    timer.withLockedValue { timer in
                        timer = Task { [state] in
                            guard (try? await Task.sleep(for: timeout)) != nil else { return }
                            state.withLockedValue { $0.machine.cancel(id: id) }?.resume(
                                throwing: PostgresError(kind: .poolTimeout, message: "no database connection became free within \(timeout)")
                            )
                        }
                    }
                }
            }
        } onCancel: {
            state.withLockedValue { $0.machine.cancel(id: id) }?.resume(throwing: CancellationError())
        }
        switch grant {
        case .connection(let lease):
            return lease
        case .open:
            do {
                return try await open()
            } catch {
                perform(state.withLockedValue { $0.machine.openFailed() })
                throw error
            }
        }
    }

    private func open() async throws -> ConnectionLease {
        let configuration = self.configuration
        let timeoutSeconds = Int(configuration.connectTimeout.components.seconds)
        do {
            return try await threadPool.runIfActive {
                let handle = try LibPQConnection(
                    url: configuration.url,
                    connectTimeoutSeconds: timeoutSeconds,
                    applicationName: configuration.applicationName
                )
                return ConnectionLease(connection: PostgresConnection(handle: handle))
            }
        } catch let error as PostgresError {
            logger.warning("cannot connect to PostgreSQL", metadata: ["url": "\(configuration.redactedURL)", "error": "\(error.message)"])
            throw error
        }
    }

    private func release(_ lease: ConnectionLease, reusable: Bool) {
        let action = state.withLockedValue { $0.machine.release(lease, reusable: reusable) }
        if !reusable { discard(lease) }
        perform(action)
    }

    private func perform(_ action: PoolStateMachine<ConnectionLease, Waiter>.ReleaseAction) {
        switch action {
        case .none:
            break
        case .handOver(let lease, let waiter):
            waiter.resume(returning: .connection(lease))
        case .openFor(let waiter):
            waiter.resume(returning: .open)
        case .close(let lease):
            discard(lease)
        }
    }

    /// Closes a connection on the thread pool (PQfinish writes to the socket).
    private func discard(_ lease: ConnectionLease) {
        threadPool.submit { _ in lease.close() }
    }
}
