/// A database the store runs its SQL on: units of work on a thread pool, one snapshot per read,
/// one transaction per write.
///
/// Errors come out as the drivers threw them or as the body threw them; ``SQLStore`` maps the
/// drivers' ones to ``Handlers/StoreError``.
protocol SQLBackend: Sendable {
    var dialect: SQLDialect { get }

    /// Runs `body` in one consistent, read-only snapshot.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T

    /// Connections the backend holds, in use now, and units of work waiting for one.
    var poolUsage: StorePoolUsage { get }

    /// Closes every connection; later units of work fail.
    func close() async
}

/// A connection pool's use at one instant, for `/metrics`.
public struct StorePoolUsage: Sendable, Hashable {
    public var capacity: Int
    public var inUse: Int
    public var waiting: Int

    public init(capacity: Int, inUse: Int, waiting: Int) {
        self.capacity = capacity
        self.inUse = inUse
        self.waiting = waiting
    }
}
