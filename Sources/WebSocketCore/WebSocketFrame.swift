public import NIOCore

/// One WebSocket frame as received, with its payload already unmasked (RFC 6455 §5.2).
///
/// The parser hands out the payload as a slice of the input buffer, so a frame costs no copy.
public struct WebSocketFrame: Hashable, Sendable {
    /// Whether this is the final fragment of its message.
    public var fin: Bool
    /// RSV1: set on the first frame of a compressed message when permessage-deflate is negotiated.
    public var rsv1: Bool
    /// RSV2: no extension we speak defines it.
    public var rsv2: Bool
    /// RSV3: no extension we speak defines it.
    public var rsv3: Bool
    /// The frame's opcode.
    public var opcode: WebSocketOpcode
    /// The unmasked payload.
    public var payload: ByteBuffer

    public init(
        fin: Bool = true,
        rsv1: Bool = false,
        rsv2: Bool = false,
        rsv3: Bool = false,
        opcode: WebSocketOpcode,
        payload: ByteBuffer
    ) {
        self.fin = fin
        self.rsv1 = rsv1
        self.rsv2 = rsv2
        self.rsv3 = rsv3
        self.opcode = opcode
        self.payload = payload
    }
}
