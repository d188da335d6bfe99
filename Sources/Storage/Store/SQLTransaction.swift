import Handlers

/// Every ``Handlers/StoreReader`` and ``Handlers/StoreWriter`` method, written once in SQL, over
/// one connection inside one transaction (writes) or one read-only snapshot (reads).
///
/// Rules the methods keep:
/// - Each query shape has one constant SQL text (a `static let` ``SQLStatement``), so both
///   drivers prepare it once per connection; dynamic SQL is limited to `tasks.list` filters and
///   tag lists, whose shapes are few.
/// - No per-row queries: a page of tasks is one statement (tags come from `tasks.tags`,
///   `shareCount` and the owner's name from subqueries and joins inside it).
/// - Folded columns are computed here with ``Handlers/TextRules/fold(_:)`` on every write.
/// - Inserts that may meet a unique key use `ON CONFLICT DO NOTHING` and then find out which
///   key was taken, so a conflict never aborts the PostgreSQL transaction (the caller may go on
///   using it) and both backends behave alike.
struct SQLTransaction: StoreWriter {
    let connection: any SQLConnection

    var dialect: SQLDialect { connection.dialect }

    func query(_ statement: SQLStatement, _ bindings: [SQLValue]) throws(StoreError) -> [SQLRow] {
        try connection.query(statement, bindings)
    }

    @discardableResult
    func execute(_ statement: SQLStatement, _ bindings: [SQLValue]) throws(StoreError) -> Int {
        try connection.execute(statement, bindings)
    }
}
