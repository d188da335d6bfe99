import SQLiteDriver

/// The SQLite database file: reads on the reader connections (WAL snapshots), writes serialized
/// on the one writer (`BEGIN IMMEDIATE`).
final class SQLiteBackend: SQLBackend {
    let database: SQLiteDatabase

    init(database: SQLiteDatabase) {
        self.database = database
    }

    var dialect: SQLDialect { .sqlite }

    var poolUsage: StorePoolUsage {
        let usage = database.poolUsage
        return StorePoolUsage(capacity: usage.capacity, inUse: usage.inUse, waiting: usage.waiting)
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await database.read { connection in
            try body(SQLiteAdapter(connection: connection))
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await database.write { connection in
            try body(SQLiteAdapter(connection: connection))
        }
    }

    func close() async {
        await database.close()
    }
}
