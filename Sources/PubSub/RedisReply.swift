/// One reply from Redis (RESP2), copied out of hiredis' reply objects.
public enum RedisReply: Sendable, Equatable {
    /// A simple string (`+OK`, `+PONG`).
    case status(String)
    /// An error reply (`-ERR …`, `-NOSCRIPT …`); the command failed, the connection is fine.
    case error(String)
    /// An integer reply (`:42`).
    case integer(Int64)
    /// A bulk string, byte for byte (binary-safe).
    case bulk([UInt8])
    /// The nil bulk string or nil array (`$-1`, `*-1`): a missing key, a timed-out BLPOP.
    case null
    /// A multi-bulk reply.
    indirect case array([RedisReply])

    /// The text of a status or bulk reply (bulk bytes decoded as UTF-8, invalid ones repaired).
    public var string: String? {
        switch self {
        case .status(let text): return text
        case .bulk(let bytes): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    /// The bytes of a bulk reply.
    public var bytes: [UInt8]? {
        if case .bulk(let bytes) = self { return bytes }
        return nil
    }

    /// The value of an integer reply.
    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The elements of an array reply.
    public var array: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }
}
