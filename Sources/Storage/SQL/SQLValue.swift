import PostgresDriver
import SQLiteDriver

/// A statement parameter, in the five types the store binds.
///
/// Each backend stores these its natural way: booleans are `BOOLEAN` on PostgreSQL and the
/// integers 0/1 on SQLite, so the SQL text (`completed = $3`) is the same for both.
package enum SQLValue: Sendable, Hashable {
    case null
    case int64(Int64)
    case double(Double)
    case text(String)
    case bool(Bool)

    /// Text, or NULL for nil.
    static func text(_ value: String?) -> SQLValue {
        value.map(SQLValue.text) ?? .null
    }

    var sqlite: SQLiteValue {
        switch self {
        case .null: .null
        case .int64(let value): .integer(value)
        case .double(let value): .real(value)
        case .text(let value): .text(value)
        case .bool(let value): .integer(value ? 1 : 0)
        }
    }

    var postgres: PostgresValue {
        switch self {
        case .null: .null
        case .int64(let value): .int(value)
        case .double(let value): .double(value)
        case .text(let value): .text(value)
        case .bool(let value): .bool(value)
        }
    }
}
