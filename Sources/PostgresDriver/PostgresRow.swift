import ByteCoding

/// One result row, read by column name with typed getters.
///
/// Values arrive in PostgreSQL's text format. Each getter checks the column's type, so reading an
/// integer column as a string works (any type has a text form) but reading text as an integer
/// throws rather than guessing. Getters throw on NULL; check `isNull` or use `value(_:)` for
/// nullable columns.
public struct PostgresRow: Sendable {
    private let columns: PostgresColumns
    private let values: [String?]

    init(columns: PostgresColumns, values: [String?]) {
        self.columns = columns
        self.values = values
    }

    /// The column names in result order.
    public var columnNames: [String] { columns.names }

    /// The position of the named column (the first of that name), for reading many rows of one
    /// result by position instead of looking the name up in each.
    public func position(of column: String) throws(PostgresError) -> Int {
        guard let index = columns.indexByName[column] else {
            throw PostgresError(kind: .decoding, message: "no column named \"\(column)\" in the result")
        }
        return index
    }

    /// Whether the column holds SQL NULL.
    public func isNull(_ column: String) throws(PostgresError) -> Bool {
        try isNull(at: position(of: column))
    }

    /// Whether the column at `index` holds SQL NULL.
    public func isNull(at index: Int) throws(PostgresError) -> Bool {
        try raw(at: index).text == nil
    }

    /// An integer column (`int2`, `int4`, `int8`, `oid`).
    public func int64(_ column: String) throws(PostgresError) -> Int64 {
        try int64(at: position(of: column))
    }

    /// The integer column at `index`.
    public func int64(at index: Int) throws(PostgresError) -> Int64 {
        let (text, type) = try nonNull(at: index)
        guard Self.isInteger(type) else { throw Self.wrongType(columns.names[index], type, "an integer") }
        guard let value = Int64(text) else { throw Self.unreadable(columns.names[index], "an integer") }
        return value
    }

    /// An integer column as `Int`.
    public func int(_ column: String) throws(PostgresError) -> Int {
        let value = try int64(column)
        guard let narrowed = Int(exactly: value) else { throw Self.unreadable(column, "an Int") }
        return narrowed
    }

    /// A floating-point column (`float4`, `float8`), or `numeric`/integer columns (may round).
    public func double(_ column: String) throws(PostgresError) -> Double {
        let (text, type) = try nonNull(column)
        guard Self.floatTypes.contains(type) || Self.isInteger(type) else {
            throw Self.wrongType(column, type, "a number")
        }
        guard let value = Double(text) else { throw Self.unreadable(column, "a number") }
        return value
    }

    /// A `bool` column.
    public func bool(_ column: String) throws(PostgresError) -> Bool {
        try bool(at: position(of: column))
    }

    /// The `bool` column at `index`.
    public func bool(at index: Int) throws(PostgresError) -> Bool {
        let (text, type) = try nonNull(at: index)
        guard type == PostgresValue.TypeOID.bool else { throw Self.wrongType(columns.names[index], type, "a boolean") }
        switch text {
        case "t": return true
        case "f": return false
        default: throw Self.unreadable(columns.names[index], "a boolean")
        }
    }

    /// The text form of any column except `bytea` (whose text form is hex, not the content).
    public func string(_ column: String) throws(PostgresError) -> String {
        try string(at: position(of: column))
    }

    /// The text form of the column at `index` (not `bytea`).
    public func string(at index: Int) throws(PostgresError) -> String {
        let (text, type) = try nonNull(at: index)
        guard type != PostgresValue.TypeOID.bytea else { throw Self.wrongType(columns.names[index], type, "text") }
        return text
    }

    /// A `bytea` column, decoded from the server's hex output format.
    public func bytea(_ column: String) throws(PostgresError) -> [UInt8] {
        let (text, type) = try nonNull(column)
        guard type == PostgresValue.TypeOID.bytea else { throw Self.wrongType(column, type, "bytea") }
        guard let bytes = Self.decodeHex(text) else { throw Self.unreadable(column, "bytea in hex format") }
        return bytes
    }

    /// The column as a `PostgresValue` chosen by its type (`.null` for NULL, `.text` for types
    /// without a case of their own).
    public func value(_ column: String) throws(PostgresError) -> PostgresValue {
        let (text, type) = try raw(column)
        guard text != nil else { return .null }
        switch type {
        case _ where Self.isInteger(type): return .int(try int64(column))
        case PostgresValue.TypeOID.float4, PostgresValue.TypeOID.float8: return .double(try double(column))
        case PostgresValue.TypeOID.bool: return .bool(try bool(column))
        case PostgresValue.TypeOID.bytea: return .bytea(try bytea(column))
        default: return .text(try string(column))
        }
    }

    /// `int2`, `int4`, `int8`, `oid`: compared directly, it runs for every integer read.
    private static func isInteger(_ type: UInt32) -> Bool {
        type == PostgresValue.TypeOID.int8 || type == PostgresValue.TypeOID.int4
            || type == PostgresValue.TypeOID.int2 || type == PostgresValue.TypeOID.oid
    }
    private static let floatTypes: Set<UInt32> = [
        PostgresValue.TypeOID.float4, PostgresValue.TypeOID.float8, PostgresValue.TypeOID.numeric,
    ]

    private func raw(_ column: String) throws(PostgresError) -> (text: String?, type: UInt32) {
        try raw(at: position(of: column))
    }

    private func raw(at index: Int) throws(PostgresError) -> (text: String?, type: UInt32) {
        guard values.indices.contains(index) else {
            throw PostgresError(kind: .decoding, message: "no column at position \(index) in the result")
        }
        return (values[index], columns.types[index])
    }

    private func nonNull(_ column: String) throws(PostgresError) -> (text: String, type: UInt32) {
        try nonNull(at: position(of: column))
    }

    private func nonNull(at index: Int) throws(PostgresError) -> (text: String, type: UInt32) {
        let (text, type) = try raw(at: index)
        guard let text else {
            throw PostgresError(kind: .decoding, message: "column \"\(columns.names[index])\" is NULL")
        }
        return (text, type)
    }

    private static func wrongType(_ column: String, _ type: UInt32, _ wanted: String) -> PostgresError {
        PostgresError(kind: .decoding, message: "column \"\(column)\" (type oid \(type)) cannot be read as \(wanted)")
    }

    private static func unreadable(_ column: String, _ wanted: String) -> PostgresError {
        PostgresError(kind: .decoding, message: "column \"\(column)\" does not hold \(wanted)")
    }

    /// Decodes `\x` followed by pairs of hex digits (PostgreSQL's default `bytea_output`).
    static func decodeHex(_ text: String) -> [UInt8]? {
        let utf8 = text.utf8
        guard utf8.starts(with: [UInt8(ascii: "\\"), UInt8(ascii: "x")]) else { return nil }
        return Hex.decode(utf8.dropFirst(2))
    }
}
