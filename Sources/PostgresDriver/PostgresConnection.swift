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

    /// The `BEGIN …` of a transaction not yet sent: it goes out with the first statement, in the
    /// same round trip (``beginLazily(_:)``).
    private var pendingBegin: String?

    /// Parameterless statements that go out with `COMMIT`, in the same round trip.
    private var atCommit: [String] = []

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

    /// Runs one or more `;`-separated statements without parameters (migrations).
    public func executeScript(_ sql: String) throws(PostgresError) {
        _ = try exec(sql)
    }

    // MARK: Transactions in fewer round trips

    /// Starts a transaction with `statement` (`BEGIN …`) without a round trip of its own: it is
    /// sent together with the first statement that follows, and never when none follows.
    public func beginLazily(_ statement: String) {
        pendingBegin = statement
        atCommit.removeAll()
    }

    /// Queues a parameterless statement (a `pg_notify`) to run just before `COMMIT`, in the same
    /// round trip; its failure fails the commit.
    public func runAtCommit(_ sql: String) {
        atCommit.append(sql)
    }

    /// Commits what ``beginLazily(_:)`` started, with the queued ``runAtCommit(_:)`` statements
    /// in one round trip; sends nothing when the transaction ran nothing.
    ///
    /// A failure before `COMMIT` leaves the transaction rolled back.
    public func commit() throws(PostgresError) {
        let queued = atCommit
        atCommit.removeAll()
        var requests: [LibPQRequest] = []
        if let begin = pendingBegin {
            pendingBegin = nil
            guard !queued.isEmpty else { return }
            requests.append(.statement(begin))
        }
        guard !queued.isEmpty || !requests.isEmpty else {
            _ = try handle.exec("COMMIT")
            return
        }
        requests += queued.map(LibPQRequest.statement)
        requests.append(.statement("COMMIT"))
        do {
            _ = try handle.pipeline(requests)
        } catch {
            if handle.isInFailedTransaction { _ = try? handle.exec("ROLLBACK") }
            throw error
        }
    }

    /// Ends a read-only transaction: `COMMIT` goes out but nobody waits for it (its result is
    /// read by the next request on this connection), so a read costs one round trip less.
    public func commitWithoutWaiting() throws(PostgresError) {
        atCommit.removeAll()
        if pendingBegin != nil {
            pendingBegin = nil
            return
        }
        try handle.sendWithoutWaiting("COMMIT")
    }

    /// Rolls back what ``beginLazily(_:)`` started; sends nothing when nothing was sent.
    public func rollback() throws(PostgresError) {
        atCommit.removeAll()
        if pendingBegin != nil {
            pendingBegin = nil
            return
        }
        _ = try handle.exec("ROLLBACK")
    }

    /// Forgets a transaction start and statements that were never sent (the pool calls this when
    /// the connection comes back, so they cannot leak into the next holder's work).
    func endLease() {
        pendingBegin = nil
        atCommit.removeAll()
    }

    /// Runs `sql` in the simple-query protocol, after a pending `BEGIN` in the same message.
    private func exec(_ sql: String) throws(PostgresError) -> LibPQResult {
        guard let begin = pendingBegin else { return try handle.exec(sql) }
        pendingBegin = nil
        return try handle.exec(begin + ";\n" + sql)
    }

    // MARK: Notifications

    /// Subscribes this session to a channel (quoted as an identifier, so any name is safe).
    public func listen(_ channel: String) throws(PostgresError) {
        _ = try exec("LISTEN " + handle.escapeIdentifier(channel))
    }

    /// Unsubscribes this session from a channel.
    public func unlisten(_ channel: String) throws(PostgresError) {
        _ = try exec("UNLISTEN " + handle.escapeIdentifier(channel))
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
        endLease()
        return handle.reset()
    }

    /// Prepares (once per connection and parameter types) and runs a statement; a pending
    /// `BEGIN` and the preparation go out with it, so it costs one round trip either way.
    private func runPrepared(_ sql: String, _ params: [PostgresValue]) throws(PostgresError) -> LibPQResult {
        var encoded: [LibPQParameter] = []
        encoded.reserveCapacity(params.count)
        for param in params {
            encoded.append(try param.encoded())
        }
        let key = StatementKey(sql: sql, types: params.map(\.parameterType))
        useCounter += 1
        var requests: [LibPQRequest] = []
        if let begin = pendingBegin {
            requests.append(.statement(begin))
        }
        let name: String
        let isNew: Bool
        if var cached = statements[key] {
            cached.lastUse = useCounter
            statements[key] = cached
            name = cached.name
            isNew = false
        } else {
            try LibPQConnection.requireNoNUL(sql, what: "SQL text")
            name = "faros_\(nextStatementNumber)"
            nextStatementNumber += 1
            requests.append(.prepare(name: name, sql: key.sql, parameterTypes: key.types))
            isNew = true
        }
        requests.append(.execute(name: name, parameters: encoded))
        // The BEGIN is sent whatever happens next: a failure leaves a failed transaction to roll back.
        pendingBegin = nil
        let result: LibPQResult
        do {
            result = try requests.count == 1 ? handle.execPrepared(name: name, parameters: encoded) : handle.pipeline(requests)
        } catch {
            // A plan invalidated by a schema change (0A000) or a statement dropped behind our
            // back (26000) must be prepared afresh next time.
            if error.sqlState == "0A000" || error.sqlState == "26000" {
                statements[key] = nil
            }
            // A new statement stays out of the cache: its preparation may have succeeded before
            // the execution failed, but names are never reused, so the leftover only costs
            // server memory until the session ends.
            throw error
        }
        if isNew {
            if statements.count >= Self.statementCacheCapacity, let oldest = statements.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                statements[oldest.key] = nil
                // A failed DEALLOCATE (e.g. inside a failed transaction) only leaks one server-side
                // statement until the session ends; names are never reused, so nothing collides.
                _ = try? handle.exec("DEALLOCATE " + oldest.value.name)
            }
            statements[key] = CachedStatement(name: name, lastUse: useCounter)
        }
        return result
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
