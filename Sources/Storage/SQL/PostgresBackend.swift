import PostgresDriver

/// A PostgreSQL database through the driver's bounded pool.
///
/// Reads run in `REPEATABLE READ, READ ONLY` transactions: every statement of one read sees the
/// same snapshot (a page and its total agree), and a write attempted through a reader fails.
/// Writes run in `READ COMMITTED` transactions (PostgreSQL's default): uniqueness races end in
/// a conflict rather than a serialization failure, and ``SQLTransaction/lockTask(id:viewer:)``
/// takes row locks where read-modify-write needs them.
///
/// Writes that queue up while the pool is busy commit together, each in its own savepoint
/// (``PostgresDriver/PostgresGroupCommit``): one WAL flush for several of them.
final class PostgresBackend: SQLBackend {
    let pool: PostgresPool
    let groupCommit: PostgresGroupCommit

    init(pool: PostgresPool) {
        self.pool = pool
        // Half the pool: batches of writes never hold every connection, so reads keep getting one
        // during a burst of writes. More runners only contend with each other and commit fewer
        // writes per second; fewer leave batches waiting behind one another.
        self.groupCommit = PostgresGroupCommit(pool: pool, runners: max(pool.usage.capacity / 2, 1), maximumBatch: 16)
    }

    var dialect: SQLDialect { .postgresql }

    var poolUsage: StorePoolUsage {
        let usage = pool.usage
        return StorePoolUsage(capacity: usage.capacity, inUse: usage.inUse, waiting: usage.waiting)
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await pool.withConnection { connection in
            // BEGIN goes out with the first statement; nobody waits for the COMMIT of a read (the
            // next use of the connection reads its answer), so a one-statement read is one round trip.
            connection.beginLazily("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            let value: T
            do {
                value = try body(PostgresAdapter(connection: connection))
            } catch {
                // A failed ROLLBACK means the connection is gone; the pool then discards it.
                try? connection.rollback()
                throw error
            }
            try connection.commitWithoutWaiting()
            return value
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await groupCommit.transaction { connection in
            try body(PostgresAdapter(connection: connection))
        }
    }

    func close() async {
        await pool.close()
    }
}
