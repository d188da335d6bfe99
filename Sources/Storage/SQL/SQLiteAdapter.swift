import Handlers
import SQLiteDriver

/// ``SQLConnection`` over an `SQLiteConnection` lent by `SQLiteDatabase.read` or `write`.
struct SQLiteAdapter: SQLConnection {
    let connection: SQLiteConnection

    var dialect: SQLDialect { .sqlite }

    func query(_ statement: SQLStatement, _ bindings: [SQLValue]) throws(StoreError) -> [SQLRow] {
        do {
            return try connection.query(statement.sqlite, bindings.map(\.sqlite)).map(SQLRow.init)
        } catch {
            throw StoreError(sqlite: error)
        }
    }

    @discardableResult
    func execute(_ statement: SQLStatement, _ bindings: [SQLValue]) throws(StoreError) -> Int {
        do {
            return try connection.execute(statement.sqlite, bindings.map(\.sqlite))
        } catch {
            throw StoreError(sqlite: error)
        }
    }

    func executeLater(_ statement: SQLStatement, _ bindings: [SQLValue]) throws(StoreError) {
        try execute(statement, bindings)
    }

    func executeScript(_ sql: String) throws(StoreError) {
        do {
            try connection.executeScript(sql)
        } catch {
            throw StoreError(sqlite: error)
        }
    }

    func runAtCommit(_ sql: String) throws(StoreError) {
        try executeScript(sql)
    }
}
