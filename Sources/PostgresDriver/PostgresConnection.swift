/// One PostgreSQL session, used only inside pool closures on a pool thread.
///
/// Not `Sendable`: libpq connections must not be used by two threads at once, and the pool
/// guarantees that by handing each connection to one closure at a time. Every call blocks.
public final class PostgresConnection {
    /// Statements kept prepared per connection.
    ///
    /// The store issues a few dozen distinct statements; 128 keeps all of them prepared while
    /// bounding server memory when callers build SQL dynamically (filters, sorts).
    static let statementCacheCapacity = 128

    let handle: LibPQConnection
    private var statements: [StatementKey: CachedStatement] = [:]
    private var nextStatementNumber = 0
    private var useCounter: UInt64 = 0

    init(handle: LibPQConnection) {
        self.handle = handle
    }

    /// Runs a statement and returns its rows; the statement is prepared once per connection and
    /// parameter types, then reused.
    public func query(_ sql: String, _ params: [PostgresValue] = []) throws(PostgresError) -> [PostgresRow] {
        let result = try runPrepared(sql, params)
        return result.rows.map { PostgresRow(columns: result.columns, values: $0) }
    }

    /// Runs a statement and returns the number of rows it inserted, updated or deleted.
    @discardableResult
    public func execute(_ sql: String, _ params: [PostgresValue] = []) throws(PostgresError) -> Int {
        try runPrepared(sql, params).affectedRows
    }

    /// Runs one or more `;`-separated statements without parameters (migrations, BEGIN/COMMIT).
    public func executeScript(_ sql: String) throws(PostgresError) {
        _ = try handle.exec(sql)
    }

    /// Subscribes this session to a channel (quoted as an identifier, so any name is safe).
    public func listen(_ channel: String) throws(PostgresError) {
        _ = try handle.exec("LISTEN " + handle.escapeIdentifier(channel))
    }

    /// Unsubscribes this session from a channel.
    public func unlisten(_ channel: String) throws(PostgresError) {
        _ = try handle.exec("UNLISTEN " + handle.escapeIdentifier(channel))
    }

    /// Sends a notification through `pg_notify`, so channel and payload travel as parameters.
    ///
    /// Inside a transaction it is delivered on commit. PostgreSQL limits payloads to 8000 bytes.
    public func notify(_ channel: String, payload: String) throws(PostgresError) {
        _ = try runPrepared("SELECT pg_notify($1, $2)", [.text(channel), .text(payload)])
    }

    /// Waits up to `timeout` for notifications on the channels this session listens to.
    ///
    /// - Returns: the notifications already received, as soon as there is at least one; an empty
    ///   array when the timeout passes first.
    public func waitForNotifications(timeout: Duration) throws(PostgresError) -> [PostgresNotification] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var received = try handle.drainNotifications()
        while received.isEmpty {
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else { break }
            let (seconds, attoseconds) = remaining.components
            let milliseconds = min(seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000, Int64(Int32.max))
            if try handle.waitReadable(milliseconds: Int32(milliseconds)) {
                received = try handle.drainNotifications()
            }
        }
        return received
    }

    /// Whether the connection is gone or in a state that forbids reuse.
    var isBroken: Bool { handle.isBroken }

    /// Whether the session is outside any transaction block.
    var isIdle: Bool { handle.isIdle }

    /// Whether the session is inside a transaction block that already failed.
    var isInFailedTransaction: Bool { handle.isInFailedTransaction }

    /// Reconnects with the same parameters; prepared statements died with the old session.
    func reset() -> Bool {
        statements.removeAll()
        return handle.reset()
    }

    private func runPrepared(_ sql: String, _ params: [PostgresValue]) throws(PostgresError) -> LibPQResult {
        var encoded: [LibPQParameter] = []
        encoded.reserveCapacity(params.count)
        for param in params {
            encoded.append(try param.encoded())
        }
        let key = StatementKey(sql: sql, types: params.map(\.parameterType))
        let name = try preparedName(for: key)
        do {
            return try handle.execPrepared(name: name, parameters: encoded)
        } catch {
            // A plan invalidated by a schema change (0A000) or a statement dropped behind our
            // back (26000) must be prepared afresh next time.
            if error.sqlState == "0A000" || error.sqlState == "26000" {
                statements[key] = nil
            }
            throw error
        }
    }

    private func preparedName(for key: StatementKey) throws(PostgresError) -> String {
        useCounter += 1
        if var cached = statements[key] {
            cached.lastUse = useCounter
            statements[key] = cached
            return cached.name
        }
        let name = "faros_\(nextStatementNumber)"
        nextStatementNumber += 1
        try handle.prepare(name: name, sql: key.sql, parameterTypes: key.types)
        if statements.count >= Self.statementCacheCapacity, let oldest = statements.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            statements[oldest.key] = nil
            // A failed DEALLOCATE (e.g. inside a failed transaction) only leaks one server-side
            // statement until the session ends; names are never reused, so nothing collides.
            _ = try? handle.exec("DEALLOCATE " + oldest.value.name)
        }
        statements[key] = CachedStatement(name: name, lastUse: useCounter)
        return name
    }

    private struct StatementKey: Hashable {
        var sql: String
        var types: [UInt32]
    }

    private struct CachedStatement {
        var name: String
        var lastUse: UInt64
    }
}
