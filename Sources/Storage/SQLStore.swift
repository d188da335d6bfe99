public import Handlers

/// The ``Handlers/Store`` on SQLite or PostgreSQL: one implementation of every reader and writer
/// method in SQL (``SQLTransaction``), run on either backend.
///
/// Open it with ``StoreFactory/open(_:threadPool:logger:)``, which also brings the schema up to
/// date. Errors: the drivers' errors come out as ``Handlers/StoreError`` (see
/// `StoreError(sqlite:)` / `StoreError(postgres:)`); whatever a body throws comes out unchanged.
public final class SQLStore: Store {
    let backend: any SQLBackend

    init(backend: any SQLBackend) {
        self.backend = backend
    }

    public var backendName: String { backend.dialect.rawValue }

    /// The connection pool's use now (`/metrics`).
    public var poolUsage: StorePoolUsage { backend.poolUsage }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        do {
            return try await backend.read { connection in
                try body(SQLTransaction(connection: connection))
            }
        } catch {
            throw StoreError.mapping(error)
        }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter) throws -> T) async throws -> T {
        do {
            return try await backend.write { connection in
                try body(SQLTransaction(connection: connection))
            }
        } catch {
            throw StoreError.mapping(error)
        }
    }

    public func close() async {
        await backend.close()
    }

    // MARK: For tests and maintenance (same package only)

    /// Runs one statement in its own write transaction; returns the rows it changed.
    @discardableResult
    package func execute(_ sql: String, _ bindings: [SQLValue] = []) async throws -> Int {
        let statement = SQLStatement(sql)
        return try await write(connection: { try $0.execute(statement, bindings) })
    }

    /// Runs one query in its own read snapshot.
    package func query(_ sql: String, _ bindings: [SQLValue] = []) async throws -> [SQLRow] {
        let statement = SQLStatement(sql)
        return try await read(connection: { try $0.query(statement, bindings) })
    }

    /// Runs `body` on the raw connection inside one read snapshot.
    package func read<T: Sendable>(connection body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        do {
            return try await backend.read(body)
        } catch {
            throw StoreError.mapping(error)
        }
    }

    /// Runs `body` on the raw connection inside one write transaction.
    package func write<T: Sendable>(connection body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        do {
            return try await backend.write(body)
        } catch {
            throw StoreError.mapping(error)
        }
    }
}
