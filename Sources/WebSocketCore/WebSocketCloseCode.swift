/// A WebSocket close status code (RFC 6455 §7.4).
///
/// An open struct over the 16-bit wire value: the registry grows and applications may use
/// 3000–4999, so this is no closed enum.
public struct WebSocketCloseCode: RawRepresentable, Hashable, Sendable {
    /// The code as sent on the wire (big-endian in the close frame's first two bytes).
    public var rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// 1000: the purpose of the connection has been fulfilled.
    public static let normalClosure = WebSocketCloseCode(rawValue: 1000)
    /// 1001: the server is going down (Faros: shutting down, reconnect elsewhere).
    public static let goingAway = WebSocketCloseCode(rawValue: 1001)
    /// 1002: the peer broke the protocol.
    public static let protocolError = WebSocketCloseCode(rawValue: 1002)
    /// 1003: a kind of data the endpoint does not accept (Faros: binary frames on `/rpc`).
    public static let unsupportedData = WebSocketCloseCode(rawValue: 1003)
    /// 1007: data inconsistent with the message type, such as invalid UTF-8 in a text message.
    public static let invalidPayloadData = WebSocketCloseCode(rawValue: 1007)
    /// 1008: a policy was violated (Faros: origin, idle timeout, too many calls).
    public static let policyViolation = WebSocketCloseCode(rawValue: 1008)
    /// 1009: a frame or message exceeds the configured size.
    public static let messageTooBig = WebSocketCloseCode(rawValue: 1009)
    /// 1010: the client needed an extension the server did not negotiate.
    public static let mandatoryExtension = WebSocketCloseCode(rawValue: 1010)
    /// 1011: an unexpected condition on the server.
    public static let internalError = WebSocketCloseCode(rawValue: 1011)
    /// 1013: try again later (Faros: slow consumer, the outbound buffer overflowed).
    public static let tryAgainLater = WebSocketCloseCode(rawValue: 1013)

    /// Whether this code may appear in a close frame on the wire.
    ///
    /// RFC 6455 §7.4 and the IANA registry: 1000–1003 and 1007–1014 are defined for the wire;
    /// 1004 is reserved, 1005, 1006 and 1015 are for local reporting only and MUST NOT be sent;
    /// 0–999 are unused; 1016–2999 are reserved for future RFCs; 3000–3999 are registered for
    /// libraries and frameworks, 4000–4999 are private. Anything else fails the connection (1002).
    public var isValidOnWire: Bool {
        switch self.rawValue {
        case 1000...1003, 1007...1014, 3000...4999:
            true
        default:
            false
        }
    }
}

extension WebSocketCloseCode: CustomStringConvertible {
    public var description: String {
        String(self.rawValue)
    }
}
