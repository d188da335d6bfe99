/// An error from the Redis client, with a classification callers can match on.
///
/// `message` is safe to log and to wrap into a client-facing "unavailable" answer: the client
/// never puts passwords, keys' values or payloads into it, only hiredis' or the server's reason
/// ("Connection refused", "WRONGPASS …").
public struct RedisError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Where an error came from; open so that new kinds do not break callers' switches.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// Redis could not be reached, or the connection broke (I/O error, EOF, timeout).
        public static let connection = Kind("connection")
        /// A reply (or a write) took longer than the command timeout; the command may have run.
        public static let timeout = Kind("timeout")
        /// The server refused AUTH or SELECT while connecting.
        public static let handshake = Kind("handshake")
        /// The reply stream could not be parsed; the connection is unusable.
        public static let protocolViolation = Kind("protocolViolation")
        /// The URL or configuration is invalid.
        public static let configuration = Kind("configuration")
        /// Too many commands are already waiting for a connection.
        public static let overloaded = Kind("overloaded")
        /// The client was shut down.
        public static let closed = Kind("closed")

        public var description: String { name }
    }

    /// The classification of this error.
    public var kind: Kind
    /// What went wrong, without credentials or payloads.
    public var message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    /// Whether Redis is (or may be) unreachable, so callers report "unavailable" and retry later.
    public var isConnectionFailure: Bool {
        kind == .connection || kind == .timeout || kind == .protocolViolation || kind == .handshake
    }

    /// The kind only; the message is in ``debugDescription``.
    public var description: String { "RedisError(\(kind))" }

    /// With the message: for debug logs only, never sent to a client.
    public var debugDescription: String { "RedisError(\(kind)): \(message)" }
}
