/// One result row: its values by column index and by column name.
///
/// The typed getters throw ``SQLiteError`` (`SQLITE_RANGE` for a missing column,
/// `SQLITE_MISMATCH` for a value of the wrong type or a NULL) instead of trapping, because column
/// names are strings that only the database checks. The only silent conversion is integer to
/// Double, which SQLite itself does for REAL columns.
public struct SQLiteRow: Sendable {
    /// Column names, shared by all rows of one result.
    public var columns: [String] { layout.names }
    /// The values in column order.
    public let values: [SQLiteValue]

    let layout: Layout

    init(layout: Layout, values: [SQLiteValue]) {
        self.layout = layout
        self.values = values
    }

    /// Column names and their indices, built once per result and shared by its rows.
    final class Layout: Sendable {
        let names: [String]
        /// The first column of each name wins, as in SQL: `SELECT a.id, b.id` reads `a.id` by "id".
        let indexByName: [String: Int]

        init(names: [String]) {
            self.names = names
            var indexByName: [String: Int] = [:]
            for (index, name) in names.enumerated() where indexByName[name] == nil {
                indexByName[name] = index
            }
            self.indexByName = indexByName
        }
    }

    /// The value of the named column.
    public func value(_ name: String) throws(SQLiteError) -> SQLiteValue {
        values[try position(of: name)]
    }

    /// The position of the named column (the first of that name), for reading many rows of one
    /// result by position instead of looking the name up in each.
    public func position(of name: String) throws(SQLiteError) -> Int {
        guard let index = layout.indexByName[name] else { throw .missingColumn(name) }
        return index
    }

    /// The value at a column index.
    public func value(at index: Int) throws(SQLiteError) -> SQLiteValue {
        guard values.indices.contains(index) else { throw .missingColumn(at: index) }
        return values[index]
    }

    public func isNull(_ name: String) throws(SQLiteError) -> Bool {
        try value(name) == .null
    }

    public func int64(_ name: String) throws(SQLiteError) -> Int64 {
        try Self.int64(value(name), column: name)
    }

    public func int(_ name: String) throws(SQLiteError) -> Int {
        let wide = try int64(name)
        guard let narrow = Int(exactly: wide) else {
            throw SQLiteError(code: SQLiteError.Codes.range, message: "column \(name) does not fit in Int")
        }
        return narrow
    }

    public func double(_ name: String) throws(SQLiteError) -> Double {
        switch try value(name) {
        case .real(let number): number
        case .integer(let number): Double(number)
        case let other: throw .typeMismatch(column: name, expected: "real", found: other)
        }
    }

    public func string(_ name: String) throws(SQLiteError) -> String {
        switch try value(name) {
        case .text(let text): text
        case let other: throw .typeMismatch(column: name, expected: "text", found: other)
        }
    }

    /// A boolean stored as 0 or 1; any other value is a mismatch rather than a guess.
    public func bool(_ name: String) throws(SQLiteError) -> Bool {
        switch try int64(name) {
        case 0: false
        case 1: true
        default: throw SQLiteError(code: SQLiteError.Codes.mismatch, message: "column \(name) is neither 0 nor 1")
        }
    }

    public func blob(_ name: String) throws(SQLiteError) -> [UInt8] {
        switch try value(name) {
        case .blob(let bytes): bytes
        case let other: throw .typeMismatch(column: name, expected: "blob", found: other)
        }
    }

    public func isNull(at index: Int) throws(SQLiteError) -> Bool {
        try value(at: index) == .null
    }

    public func int64(at index: Int) throws(SQLiteError) -> Int64 {
        try Self.int64(value(at: index), column: name(at: index))
    }

    public func string(at index: Int) throws(SQLiteError) -> String {
        switch try value(at: index) {
        case .text(let text): text
        case let other: throw .typeMismatch(column: name(at: index), expected: "text", found: other)
        }
    }

    /// A boolean stored as 0 or 1 at `index`; any other value is a mismatch.
    public func bool(at index: Int) throws(SQLiteError) -> Bool {
        switch try int64(at: index) {
        case 0: false
        case 1: true
        default: throw SQLiteError(code: SQLiteError.Codes.mismatch, message: "column \(name(at: index)) is neither 0 nor 1")
        }
    }

    /// The column's name for messages (only called once `index` is known to be in range).
    private func name(at index: Int) -> String {
        layout.names.indices.contains(index) ? layout.names[index] : "#\(index)"
    }

    private static func int64(_ value: SQLiteValue, column: String) throws(SQLiteError) -> Int64 {
        switch value {
        case .integer(let number): number
        case let other: throw .typeMismatch(column: column, expected: "integer", found: other)
        }
    }
}
