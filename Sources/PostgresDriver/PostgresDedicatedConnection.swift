import NIOConcurrencyHelpers
import NIOPosix

/// A long-lived connection outside the pool (for LISTEN/NOTIFY), safe to share between tasks.
///
/// Calls run on the thread pool one at a time in arrival order. A `waitForNotifications` call
/// holds a thread-pool thread for up to its timeout, so keep timeouts short (about a second) and
/// size the thread pool for it.
public final class PostgresDedicatedConnection: Sendable {
    private let lease: ConnectionLease
    private let threadPool: NIOThreadPool
    private let gate = SerialGate()
    /// Channels to LISTEN to again after a reconnect.
    private let channels = NIOLockedValueBox<[String]>([])

    init(lease: ConnectionLease, threadPool: NIOThreadPool) {
        self.lease = lease
        self.threadPool = threadPool
    }

    /// Runs `body` with the connection on a thread-pool thread, after earlier calls finish.
    public func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let lease = self.lease
        return try await gate.run {
            try await threadPool.runIfActive { try body(lease.connection) }
        }
    }

    /// LISTENs to a channel, remembered so `reconnect()` restores it.
    public func listen(_ channel: String) async throws {
        try await run { try $0.listen(channel) }
        channels.withLockedValue { if !$0.contains(channel) { $0.append(channel) } }
    }

    /// Sends a notification (delivered immediately: this connection is never inside a transaction
    /// unless `run` opened one).
    public func notify(_ channel: String, payload: String) async throws {
        try await run { try $0.notify(channel, payload: payload) }
    }

    /// Waits up to `timeout` for notifications; an empty array means none arrived.
    ///
    /// - Throws: an `isConnectionFailure` error when the connection is gone; call `reconnect()`
    ///   and treat anything sent in between as missed.
    public func waitForNotifications(timeout: Duration) async throws -> [PostgresNotification] {
        try await run { try $0.waitForNotifications(timeout: timeout) }
    }

    /// Whether the connection is gone.
    public var isBroken: Bool {
        get async throws { try await run { $0.isBroken } }
    }

    /// Re-establishes the session with the same parameters and LISTENs to the same channels.
    public func reconnect() async throws {
        let channels = self.channels.withLockedValue { $0 }
        try await run { connection in
            guard connection.reset() else {
                throw PostgresError(kind: .connection, message: "reconnecting to PostgreSQL failed")
            }
            for channel in channels { try connection.listen(channel) }
        }
    }

    /// Closes the session; later calls fail with a connection error.
    public func close() async {
        let lease = self.lease
        _ = try? await gate.run { try await self.threadPool.runIfActive { lease.close() } }
    }
}
