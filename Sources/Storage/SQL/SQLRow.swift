package import Handlers
import PostgresDriver
import SQLiteDriver

/// One result row of either backend, read by column name with typed getters.
///
/// A value of the wrong type (or a NULL where a value must be) is a
/// ``Handlers/StoreError/Kind/failure``: the schema guarantees the types, so a mismatch is a bug,
/// never bad input.
package struct SQLRow: Sendable {
    enum Storage: Sendable {
        case sqlite(SQLiteRow)
        case postgres(PostgresRow)
    }

    let storage: Storage

    init(_ row: SQLiteRow) { storage = .sqlite(row) }
    init(_ row: PostgresRow) { storage = .postgres(row) }

    package func isNull(_ column: String) throws(StoreError) -> Bool {
        do {
            switch storage {
            case .sqlite(let row): return try row.isNull(column)
            case .postgres(let row): return try row.isNull(column)
            }
        } catch {
            throw StoreError(decoding: error)
        }
    }

    package func int64(_ column: String) throws(StoreError) -> Int64 {
        do {
            switch storage {
            case .sqlite(let row): return try row.int64(column)
            case .postgres(let row): return try row.int64(column)
            }
        } catch {
            throw StoreError(decoding: error)
        }
    }

    package func int(_ column: String) throws(StoreError) -> Int {
        let value = try int64(column)
        guard let narrow = Int(exactly: value) else { throw StoreError(.failure) }
        return narrow
    }

    package func string(_ column: String) throws(StoreError) -> String {
        do {
            switch storage {
            case .sqlite(let row): return try row.string(column)
            case .postgres(let row): return try row.string(column)
            }
        } catch {
            throw StoreError(decoding: error)
        }
    }

    /// `BOOLEAN` on PostgreSQL, 0 or 1 on SQLite.
    package func bool(_ column: String) throws(StoreError) -> Bool {
        do {
            switch storage {
            case .sqlite(let row): return try row.bool(column)
            case .postgres(let row): return try row.bool(column)
            }
        } catch {
            throw StoreError(decoding: error)
        }
    }

    package func optionalString(_ column: String) throws(StoreError) -> String? {
        try isNull(column) ? nil : string(column)
    }

    package func optionalInt64(_ column: String) throws(StoreError) -> Int64? {
        try isNull(column) ? nil : int64(column)
    }
}

extension StoreError {
    /// A row that does not hold what the schema promises.
    init(decoding error: any Error) {
        self.init(.failure, underlying: error)
    }
}
