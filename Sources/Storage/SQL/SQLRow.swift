package import Handlers
import PostgresDriver
import SQLiteDriver

/// One result row of either backend, read by column name or position with typed getters.
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
        try isNull(at: position(of: column))
    }

    package func int64(_ column: String) throws(StoreError) -> Int64 {
        try int64(at: position(of: column))
    }

    package func int(_ column: String) throws(StoreError) -> Int {
        try int(at: position(of: column))
    }

    package func string(_ column: String) throws(StoreError) -> String {
        try string(at: position(of: column))
    }

    /// `BOOLEAN` on PostgreSQL, 0 or 1 on SQLite.
    package func bool(_ column: String) throws(StoreError) -> Bool {
        try bool(at: position(of: column))
    }

    package func optionalString(_ column: String) throws(StoreError) -> String? {
        try optionalString(at: position(of: column))
    }

    package func optionalInt64(_ column: String) throws(StoreError) -> Int64? {
        let index = try position(of: column)
        return try isNull(at: index) ? nil : int64(at: index)
    }

    // MARK: By position

    /// The position of the named column in this row's result. Rows of one result share their
    /// columns, so a reader of many rows looks each name up once (see `TaskSQL.Columns`).
    package func position(of column: String) throws(StoreError) -> Int {
        do {
            switch storage {
            case .sqlite(let row): return try row.position(of: column)
            case .postgres(let row): return try row.position(of: column)
            }
        } catch {
            throw StoreError(decoding: error)
        }
    }

    package func isNull(at index: Int) throws(StoreError) -> Bool {
        do {
            switch storage {
            case .sqlite(let row): return try row.isNull(at: index)
            case .postgres(let row): return try row.isNull(at: index)
            }
        } catch {
            throw StoreError(decoding: error)
        }
    }

    package func int64(at index: Int) throws(StoreError) -> Int64 {
        do {
            switch storage {
            case .sqlite(let row): return try row.int64(at: index)
            case .postgres(let row): return try row.int64(at: index)
            }
        } catch {
            throw StoreError(decoding: error)
        }
    }

    package func int(at index: Int) throws(StoreError) -> Int {
        guard let narrow = Int(exactly: try int64(at: index)) else { throw StoreError(.failure) }
        return narrow
    }

    package func string(at index: Int) throws(StoreError) -> String {
        do {
            switch storage {
            case .sqlite(let row): return try row.string(at: index)
            case .postgres(let row): return try row.string(at: index)
            }
        } catch {
            throw StoreError(decoding: error)
        }
    }

    /// `BOOLEAN` on PostgreSQL, 0 or 1 on SQLite.
    package func bool(at index: Int) throws(StoreError) -> Bool {
        do {
            switch storage {
            case .sqlite(let row): return try row.bool(at: index)
            case .postgres(let row): return try row.bool(at: index)
            }
        } catch {
            throw StoreError(decoding: error)
        }
    }

    package func optionalString(at index: Int) throws(StoreError) -> String? {
        try isNull(at: index) ? nil : string(at: index)
    }
}

extension StoreError {
    /// A row that does not hold what the schema promises.
    init(decoding error: any Error) {
        self.init(.failure, underlying: error)
    }
}
