public import NIOCore

/// A complete WebSocket data message: all fragments joined and, if compressed, inflated.
public struct WebSocketMessage: Hashable, Sendable {
    /// Whether a message carries text (UTF-8) or binary data.
    public enum Kind: Hashable, Sendable {
        /// UTF-8 text; the connection machine has validated it.
        case text
        /// Arbitrary bytes.
        case binary
    }

    /// Text or binary.
    public var kind: Kind
    /// The message's bytes. For an unfragmented uncompressed message this is a slice of the input.
    public var data: ByteBuffer

    public init(kind: Kind, data: ByteBuffer) {
        self.kind = kind
        self.data = data
    }
}
