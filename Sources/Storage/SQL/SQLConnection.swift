package import Handlers

/// A connection inside one transaction (a write) or one snapshot (a read), as the store's SQL
/// sees it: statements in, rows out, every driver error already a ``Handlers/StoreError``.
///
/// The two adapters (``SQLiteAdapter``, ``PostgresAdapter``) are used only inside the closures
/// of ``SQLBackend`` on a thread-pool thread and never escape them: the drivers' connections are
/// not `Sendable`, and neither is this.
package protocol SQLConnection {
    var dialect: SQLDialect { get }

    /// Runs one statement and returns its rows.
    func query(_ statement: SQLStatement, _ bindings: [SQLValue]) throws(StoreError) -> [SQLRow]

    /// Runs one statement and returns how many rows it inserted, updated or deleted.
    @discardableResult
    func execute(_ statement: SQLStatement, _ bindings: [SQLValue]) throws(StoreError) -> Int

    /// Runs a statement whose result nobody reads, at the latest with the next statement: on
    /// PostgreSQL in that statement's round trip (a failure is thrown there, failing the
    /// transaction); on SQLite at once.
    func executeLater(_ statement: SQLStatement, _ bindings: [SQLValue]) throws(StoreError)

    /// Runs several `;`-separated statements without parameters (migrations).
    func executeScript(_ sql: String) throws(StoreError)

    /// Runs a parameterless statement whose result nobody reads at the end of the transaction,
    /// just before it commits: on PostgreSQL in the same round trip as `COMMIT` (its failure fails
    /// the commit); on SQLite, which has no round trips, at once.
    func runAtCommit(_ sql: String) throws(StoreError)
}
