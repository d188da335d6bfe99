/// An error from SQLite or from this driver, classified by SQLite's own result codes.
///
/// `code` is the primary result code (`SQLITE_CONSTRAINT` = 19, …) and `extendedCode` the
/// extended one (`SQLITE_CONSTRAINT_UNIQUE` = 2067, …), so callers match on stable numbers, not
/// on text. `message` comes from SQLite and may name tables, columns or SQL: it is for logs only
/// and must never be shown to clients. It never contains bound parameter values.
public struct SQLiteError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The primary result code (the low byte of `extendedCode`).
    public var code: Int32
    /// The extended result code; equal to `code` when SQLite gave no extended detail.
    public var extendedCode: Int32
    /// SQLite's explanation, or the driver's. Not client-safe.
    public var message: String

    public init(code: Int32, extendedCode: Int32? = nil, message: String) {
        self.code = code
        self.extendedCode = extendedCode ?? code
        self.message = message
    }

    init(extendedCode: Int32, message: String) {
        self.init(code: extendedCode & 0xFF, extendedCode: extendedCode, message: message)
    }

    /// The codes only: SQLite's text can quote SQL and values, so it is in ``debugDescription`` alone.
    public var description: String {
        "SQLiteError(code: \(code), extendedCode: \(extendedCode))"
    }

    /// With SQLite's message: for debug logs only, never sent to a client.
    public var debugDescription: String {
        "SQLiteError(code: \(code), extendedCode: \(extendedCode), message: \(message))"
    }

    /// A UNIQUE or PRIMARY KEY constraint failed: the row already exists.
    public var isUniqueViolation: Bool {
        extendedCode == Codes.constraintUnique || extendedCode == Codes.constraintPrimaryKey
    }

    /// A FOREIGN KEY constraint failed: the referenced row is missing, or still referenced.
    public var isForeignKeyViolation: Bool {
        extendedCode == Codes.constraintForeignKey
    }

    /// The database stayed locked by another connection for longer than the busy timeout.
    public var isBusy: Bool {
        code == Codes.busy
    }

    /// Any constraint failed (unique, foreign key, NOT NULL, CHECK, …).
    public var isConstraintViolation: Bool {
        code == Codes.constraint
    }

    /// The database was closed, or its thread pool stopped, before the call could run.
    public var isClosed: Bool {
        code == Codes.misuse && extendedCode == Codes.closedByDriver
    }

    /// SQLite's result codes, as fixed by its file-format and API stability guarantee.
    enum Codes {
        static let error: Int32 = 1
        static let busy: Int32 = 5
        static let constraint: Int32 = 19
        static let mismatch: Int32 = 20
        static let misuse: Int32 = 21
        static let range: Int32 = 25
        static let constraintForeignKey: Int32 = 787
        static let constraintPrimaryKey: Int32 = 1555
        static let constraintUnique: Int32 = 2067
        /// Not an SQLite code: SQLITE_MISUSE with an extension byte SQLite does not use, marking
        /// "used after close" so it is matchable apart from other misuse.
        static let closedByDriver: Int32 = misuse | (0x7F << 8)
    }

    static let closed = SQLiteError(code: Codes.misuse, extendedCode: Codes.closedByDriver, message: "the database is closed")

    static func missingColumn(_ name: String) -> SQLiteError {
        SQLiteError(code: Codes.range, message: "no column named \(name) in the result")
    }

    static func missingColumn(at index: Int) -> SQLiteError {
        SQLiteError(code: Codes.range, message: "no column at index \(index) in the result")
    }

    static func typeMismatch(column: String, expected: String, found: SQLiteValue) -> SQLiteError {
        SQLiteError(code: Codes.mismatch, message: "column \(column) holds \(found.typeName), not \(expected)")
    }

    static func misuse(_ message: String) -> SQLiteError {
        SQLiteError(code: Codes.misuse, message: message)
    }
}
