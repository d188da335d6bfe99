/// The 4-bit opcode of a WebSocket frame (RFC 6455 §5.2).
///
/// A struct rather than an enum so that the set can grow with extensions without breaking a
/// `switch` somewhere else; `init?(rawValue:)` admits only the six opcodes RFC 6455 defines, so a
/// reserved opcode (3–7, 11–15) never becomes a value.
public struct WebSocketOpcode: RawRepresentable, Hashable, Sendable {
    /// The opcode as it appears in the low four bits of the frame's first byte.
    public let rawValue: UInt8

    /// Creates an opcode from its wire value; `nil` for reserved or out-of-range values.
    public init?(rawValue: UInt8) {
        switch rawValue {
        case 0x0, 0x1, 0x2, 0x8, 0x9, 0xA:
            self.rawValue = rawValue
        default:
            return nil
        }
    }

    private init(uncheckedRawValue: UInt8) {
        self.rawValue = uncheckedRawValue
    }

    /// A continuation of a fragmented text or binary message.
    public static let continuation = WebSocketOpcode(uncheckedRawValue: 0x0)
    /// The first (or only) frame of a text message.
    public static let text = WebSocketOpcode(uncheckedRawValue: 0x1)
    /// The first (or only) frame of a binary message.
    public static let binary = WebSocketOpcode(uncheckedRawValue: 0x2)
    /// A close frame, starting or answering the closing handshake.
    public static let close = WebSocketOpcode(uncheckedRawValue: 0x8)
    /// A ping, which the peer answers with a pong carrying the same payload.
    public static let ping = WebSocketOpcode(uncheckedRawValue: 0x9)
    /// A pong, the answer to a ping or an unsolicited heartbeat.
    public static let pong = WebSocketOpcode(uncheckedRawValue: 0xA)

    /// Whether this is a control frame opcode (close, ping, pong): those have the high bit of the
    /// opcode set, may not be fragmented and carry at most 125 bytes.
    public var isControl: Bool {
        self.rawValue & 0x8 != 0
    }
}

extension WebSocketOpcode: CustomStringConvertible {
    public var description: String {
        switch self.rawValue {
        case 0x0: "continuation"
        case 0x1: "text"
        case 0x2: "binary"
        case 0x8: "close"
        case 0x9: "ping"
        case 0xA: "pong"
        default: "opcode(\(self.rawValue))"
        }
    }
}
