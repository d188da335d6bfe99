import Handlers
import PostgresDriver

/// ``SQLConnection`` over a `PostgresConnection` lent by the pool, inside a transaction block.
struct PostgresAdapter: SQLConnection {
    let connection: PostgresConnection

    var dialect: SQLDialect { .postgresql }

    func query(_ statement: SQLStatement, _ bindings: [SQLValue]) throws(StoreError) -> [SQLRow] {
        do {
            return try connection.query(statement.postgres, bindings.map(\.postgres)).map(SQLRow.init)
        } catch {
            throw StoreError(postgres: error)
        }
    }

    @discardableResult
    func execute(_ statement: SQLStatement, _ bindings: [SQLValue]) throws(StoreError) -> Int {
        do {
            return try connection.execute(statement.postgres, bindings.map(\.postgres))
        } catch {
            throw StoreError(postgres: error)
        }
    }

    func executeLater(_ statement: SQLStatement, _ bindings: [SQLValue]) throws(StoreError) {
        do {
            try connection.executeLater(statement.postgres, bindings.map(\.postgres))
        } catch {
            throw StoreError(postgres: error)
        }
    }

    func executeScript(_ sql: String) throws(StoreError) {
        do {
            try connection.executeScript(sql)
        } catch {
            throw StoreError(postgres: error)
        }
    }

    func runAtCommit(_ sql: String) throws(StoreError) {
        connection.runAtCommit(sql)
    }
}
