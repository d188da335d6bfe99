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

    /// Executions (with the preparations they need) queued by ``executeLater(_:_:)``: they go out
    /// in front of whatever is sent next.
    private var unsent: [LibPQRequest] = []

    /// Where in ``unsent`` the `SAVEPOINT` queued by ``savepointLazily()`` sits, while it has not
    /// gone out yet.
    private var unsentSavepoint: Int?

    /// Statements cached as prepared whose `PREPARE` has not been confirmed yet (queued, or in
    /// the request on its way); a failed send forgets them.
    private var unconfirmed: [StatementKey] = []

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

    /// Queues a statement whose result nobody reads (no rows, no count): it is sent with the next
    /// statement, `COMMIT` or script, in the same round trip, and its failure is thrown there.
    ///
    /// For writes inside a transaction that the caller does not branch on (a task's tag rows).
    public func executeLater(_ sql: String, _ params: [PostgresValue] = []) throws(PostgresError) {
        unsent += try requests(for: sql, params)
    }

    /// Runs one or more `;`-separated statements without parameters (migrations).
    public func executeScript(_ sql: String) throws(PostgresError) {
        _ = try exec(sql)
    }

    // MARK: Transactions in fewer round trips

    /// Starts a transaction with `statement` (`BEGIN …`) without a round trip of its own: it is
    /// sent together with the first statement that follows, and never when none follows.
    public func beginLazily(_ statement: String) {
        endLease()
        pendingBegin = statement
    }

    /// Runs `body` inside `BEGIN … COMMIT` (``PostgresPool/transaction(_:)``): rolled back when it
    /// throws or leaves the transaction failed.
    func inTransaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        // BEGIN goes out with the first statement, not in a round trip of its own.
        beginLazily("BEGIN")
        let value: T
        do {
            value = try body(self)
            try requireUsableTransaction()
        } catch {
            // A failed ROLLBACK means the connection is gone; the pool sees that and discards it.
            try? rollback()
            throw error
        }
        try commit()
        return value
    }

    /// Throws when a statement failed inside a body that caught and swallowed the error: `COMMIT`
    /// would silently roll the transaction back.
    func requireUsableTransaction() throws(PostgresError) {
        guard !isInFailedTransaction else {
            throw PostgresError(kind: .server, sqlState: "25P02", message: "the transaction failed inside its body and was rolled back")
        }
    }

    /// Queues a parameterless statement (a `pg_notify`) to run just before `COMMIT`, in the same
    /// round trip; its failure fails the commit.
    public func runAtCommit(_ sql: String) {
        // Several writes committed together may each ask for the same notification.
        if !atCommit.contains(sql) { atCommit.append(sql) }
    }

    // MARK: Savepoints (several writes in one transaction)

    /// The one savepoint name group commit uses; savepoints do not nest here.
    static let savepointName = "faros_write"

    /// Marks the start of one write inside a transaction shared with others: `SAVEPOINT` goes
    /// out with the next statement, not in a round trip of its own.
    public func savepointLazily() {
        unsentSavepoint = unsent.count
        unsent.append(.statement("SAVEPOINT " + Self.savepointName))
    }

    /// Ends that write's savepoint, keeping what it did; sends the write's queued statements with
    /// it and waits, so that their failure is that write's, not the next one's.
    public func releaseSavepoint() throws(PostgresError) {
        if let index = unsentSavepoint, unsent.count == index + 1 {
            // The write sent nothing: nothing to keep and no savepoint on the server.
            unsent.removeLast()
            unsentSavepoint = nil
            return
        }
        _ = try send([.statement("RELEASE SAVEPOINT " + Self.savepointName)])
    }

    /// Undoes the write since ``savepointLazily()`` and ends its savepoint; the transaction goes
    /// on with the writes before it. What the write queued but never sent is dropped.
    public func rollbackToSavepoint() throws(PostgresError) {
        if let index = unsentSavepoint {
            // The savepoint never went out, so neither did anything after it.
            unsent.removeSubrange(index...)
            unsentSavepoint = nil
            forgetUnconfirmed()
            return
        }
        unsent.removeAll()
        forgetUnconfirmed()
        _ = try send([
            .statement("ROLLBACK TO SAVEPOINT " + Self.savepointName),
            .statement("RELEASE SAVEPOINT " + Self.savepointName),
        ])
    }

    /// Commits what ``beginLazily(_:)`` started, with the queued ``runAtCommit(_:)`` statements
    /// in one round trip; sends nothing when the transaction ran nothing.
    ///
    /// A failure before `COMMIT` leaves the transaction rolled back.
    public func commit() throws(PostgresError) {
        let queued = atCommit.map(LibPQRequest.statement)
        atCommit.removeAll()
        if pendingBegin != nil, queued.isEmpty, unsent.isEmpty {
            // Nothing ran and nothing is queued: there is no transaction to end.
            pendingBegin = nil
            return
        }
        do {
            _ = try send(queued + [.statement("COMMIT")])
        } catch {
            if handle.isInFailedTransaction { _ = try? handle.exec("ROLLBACK") }
            throw error
        }
    }

    /// Ends a read-only transaction: `COMMIT` goes out but nobody waits for it (its result is
    /// read by the next request on this connection), so a read costs one round trip less.
    public func commitWithoutWaiting() throws(PostgresError) {
        guard atCommit.isEmpty, unsent.isEmpty else {
            // Queued writes need their outcome: commit and wait.
            return try commit()
        }
        if pendingBegin != nil {
            pendingBegin = nil
            return
        }
        try handle.sendWithoutWaiting("COMMIT")
    }

    /// Rolls back what ``beginLazily(_:)`` started; sends nothing when nothing was sent.
    public func rollback() throws(PostgresError) {
        let begun = pendingBegin == nil
        endLease()
        if begun { _ = try handle.exec("ROLLBACK") }
    }

    /// Forgets a transaction start and statements that were never sent (the pool calls this when
    /// the connection comes back, so they cannot leak into the next holder's work).
    func endLease() {
        pendingBegin = nil
        atCommit.removeAll()
        unsent.removeAll()
        unsentSavepoint = nil
        forgetUnconfirmed()
    }

    /// Runs `sql` in the simple-query protocol, after a pending `BEGIN` in the same message (and
    /// after queued executions, which that protocol cannot carry: they go in a round trip first).
    private func exec(_ sql: String) throws(PostgresError) -> LibPQResult {
        if !unsent.isEmpty {
            _ = try send([])
        }
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
    /// `BEGIN`, queued executions and the preparation go out with it, in one round trip.
    private func runPrepared(_ sql: String, _ params: [PostgresValue]) throws(PostgresError) -> LibPQResult {
        try send(requests(for: sql, params))
    }

    /// The execution of `sql`, preceded by its preparation when this connection has not prepared
    /// it yet (it is cached at once, and forgotten again if the send fails).
    private func requests(for sql: String, _ params: [PostgresValue]) throws(PostgresError) -> [LibPQRequest] {
        var encoded: [LibPQParameter] = []
        encoded.reserveCapacity(params.count)
        for param in params {
            encoded.append(try param.encoded())
        }
        let key = StatementKey(sql: sql, types: params.map(\.parameterType))
        useCounter += 1
        if var cached = statements[key] {
            cached.lastUse = useCounter
            statements[key] = cached
            return [.execute(name: cached.name, parameters: encoded)]
        }
        try LibPQConnection.requireNoNUL(sql, what: "SQL text")
        let name = "faros_\(nextStatementNumber)"
        nextStatementNumber += 1
        statements[key] = CachedStatement(name: name, lastUse: useCounter)
        unconfirmed.append(key)
        return [.prepare(name: name, sql: key.sql, parameterTypes: key.types), .execute(name: name, parameters: encoded)]
    }

    /// Sends the pending `BEGIN`, the queued executions and `requests` together and returns the
    /// last result: one round trip, however many requests.
    private func send(_ requests: [LibPQRequest]) throws(PostgresError) -> LibPQResult {
        var all: [LibPQRequest] = []
        if let begin = pendingBegin { all.append(.statement(begin)) }
        all += unsent
        all += requests
        // Sent whatever happens next: a failure leaves a failed transaction to roll back.
        pendingBegin = nil
        unsent.removeAll()
        unsentSavepoint = nil
        let result: LibPQResult
        do {
            // A lone request needs no pipeline mode (entering and leaving it costs libpq calls).
            switch (all.count, all.first) {
            case (1, .execute(let name, let parameters)?):
                result = try handle.execPrepared(name: name, parameters: parameters)
            case (1, .statement(let sql)?):
                result = try handle.exec(sql)
            default:
                result = try handle.pipeline(all)
            }
        } catch {
            // New statements may or may not have been prepared before the failure; names are
            // never reused, so a leftover only costs server memory until the session ends.
            forgetUnconfirmed()
            // A plan invalidated by a schema change (0A000) or a statement dropped behind our
            // back (26000) must be prepared afresh next time: which one failed is not known in a
            // pipeline, so each one sent is.
            if error.sqlState == "0A000" || error.sqlState == "26000" {
                let names = Set(all.compactMap { request -> String? in
                    if case .execute(let name, _) = request { return name } else { return nil }
                })
                statements = statements.filter { !names.contains($0.value.name) }
            }
            throw error
        }
        unconfirmed.removeAll()
        evictBeyondCapacity()
        return result
    }

    private func forgetUnconfirmed() {
        for key in unconfirmed { statements[key] = nil }
        unconfirmed.removeAll()
    }

    /// Deallocates the least recently used statements beyond ``statementCacheCapacity``.
    private func evictBeyondCapacity() {
        while statements.count > Self.statementCacheCapacity, let oldest = statements.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            statements[oldest.key] = nil
            // A failed DEALLOCATE (e.g. inside a failed transaction) only leaks one server-side
            // statement until the session ends; names are never reused, so nothing collides.
            _ = try? handle.exec("DEALLOCATE " + oldest.value.name)
        }
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
