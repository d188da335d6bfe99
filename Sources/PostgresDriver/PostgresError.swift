/// An error from the PostgreSQL driver, with a stable classification callers can match on.
///
/// `message` comes from the server or libpq and may name tables, constraints or values: it is for
/// logs, never for clients. SQL parameters and passwords are never put into it by the driver.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Where an error came from; open so that new kinds do not break callers' switches.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The server rejected a statement; `sqlState` says why.
        public static let server = Kind("server")
        /// The connection could not be opened or was lost.
        public static let connection = Kind("connection")
        /// No pooled connection became free within `acquireTimeout`.
        public static let poolTimeout = Kind("poolTimeout")
        /// The pool was closed.
        public static let poolClosed = Kind("poolClosed")
        /// The configuration (the URL) is invalid.
        public static let configuration = Kind("configuration")
        /// A value the driver refuses to send (text with NUL) or a bad identifier.
        public static let invalidArgument = Kind("invalidArgument")
        /// A row lacks the requested column or holds another type.
        public static let decoding = Kind("decoding")

        public var description: String { name }
    }

    /// The classification of this error.
    public var kind: Kind
    /// The five-character SQLSTATE from the server (e.g. `23505`), when the server sent one.
    public var sqlState: String?
    /// The primary message from the server or the driver; unsafe to show to clients.
    public var message: String
    /// The constraint a violation names (e.g. which unique index), when the server sent one.
    public var constraint: String?

    public init(kind: Kind, sqlState: String? = nil, message: String, constraint: String? = nil) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.constraint = constraint
    }

    /// A unique constraint was violated (SQLSTATE 23505).
    public var isUniqueViolation: Bool { sqlState == "23505" }

    /// A foreign-key constraint was violated (SQLSTATE 23503).
    public var isForeignKeyViolation: Bool { sqlState == "23503" }

    /// A serialization failure or deadlock (40001, 40P01): the transaction may be retried.
    public var isSerializationFailure: Bool { sqlState == "40001" || sqlState == "40P01" }

    /// The database is unreachable or the connection is gone; callers report "unavailable".
    ///
    /// Class 08 is connection exceptions; 57P01–57P03 are the server shutting down or terminating
    /// this session, after which the connection is gone too.
    public var isConnectionFailure: Bool {
        if kind == .connection { return true }
        guard let sqlState else { return false }
        return sqlState.hasPrefix("08") || sqlState == "57P01" || sqlState == "57P02" || sqlState == "57P03"
    }

    /// No pooled connection became free within the pool's `acquireTimeout`.
    public var isPoolTimeout: Bool { kind == .poolTimeout }

    /// The kind and SQLSTATE only: the server's text can quote the statement's values
    /// (passwords, tokens, mail addresses), so it is in ``debugDescription`` alone.
    public var description: String {
        if let sqlState { return "PostgresError(\(kind), \(sqlState))" }
        return "PostgresError(\(kind))"
    }

    /// With the server's or driver's message: for debug logs only, never sent to a client.
    public var debugDescription: String {
        var text = self.description + ": " + self.message
        if let constraint { text += " (constraint \(constraint))" }
        return text
    }
}
