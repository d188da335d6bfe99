/// One SQLite value: a bound parameter, a column of a result row, or a function argument.
///
/// These are SQLite's five storage classes exactly, so nothing is lost or converted on the way
/// in or out; typed access with conversions lives on ``SQLiteRow``.
public enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    /// Text, stored as UTF-8; it may contain NUL characters.
    case text(String)
    case blob([UInt8])
}

extension SQLiteValue {
    /// A boolean stored the SQLite way, as the integer 0 or 1.
    public static func bool(_ value: Bool) -> SQLiteValue {
        .integer(value ? 1 : 0)
    }

    /// The name of the storage class, for error messages that must not carry the value itself.
    var typeName: String {
        switch self {
        case .null: "null"
        case .integer: "integer"
        case .real: "real"
        case .text: "text"
        case .blob: "blob"
        }
    }
}
