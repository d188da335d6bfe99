/// Carries one `PostgresConnection` across tasks and into thread-pool closures.
///
/// `@unchecked Sendable` is safe because ownership is exclusive: the pool's state machine hands a
/// lease to exactly one holder at a time (idle list, one waiter, or one `withConnection` call),
/// and the holder touches the connection only inside closures it runs one after another on the
/// thread pool, so two threads never use the connection concurrently.
final class ConnectionLease: @unchecked Sendable {
    let connection: PostgresConnection

    init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Whether the connection can go back to the pool: alive and outside any transaction.
    var isReusable: Bool {
        !connection.isBroken && connection.isIdle
    }

    /// Closes the server session now rather than at deinit (call on a thread-pool thread).
    func close() {
        connection.handle.finish()
    }
}
