public import NIOCore

/// Writes server-to-client frame headers and close payloads (RFC 6455 §5.2, §5.5.1).
///
/// Server frames are never masked (RFC 6455 §5.1), so the payload is written as is after the
/// header: the encoder writes only the header, and the caller writes (or chains) the payload
/// without a copy.
public enum WebSocketFrameEncoder {
    /// The longest header a server frame has: 2 bytes plus a 64-bit length.
    public static let maxHeaderLength = 10

    /// The largest payload of a control frame (RFC 6455 §5.5).
    public static let maxControlPayloadLength = 125

    /// Writes an unmasked frame header with the shortest length encoding (7, 16 or 64 bits).
    ///
    /// - Parameters:
    ///   - fin: Whether this frame ends its message.
    ///   - rsv1: Set on the first frame of a message compressed with permessage-deflate.
    ///   - opcode: The frame's opcode.
    ///   - payloadLength: The number of payload bytes that will follow.
    ///   - buffer: The buffer to append the header to.
    public static func writeHeader(
        fin: Bool,
        rsv1: Bool,
        opcode: WebSocketOpcode,
        payloadLength: Int,
        into buffer: inout ByteBuffer
    ) {
        precondition(payloadLength >= 0, "negative payload length")
        precondition(!opcode.isControl || (fin && payloadLength <= Self.maxControlPayloadLength))
        var first = opcode.rawValue
        if fin { first |= 0x80 }
        if rsv1 { first |= 0x40 }
        switch payloadLength {
        case 0...125:
            buffer.writeMultipleIntegers(first, UInt8(payloadLength))
        case 126...Int(UInt16.max):
            buffer.writeMultipleIntegers(first, UInt8(126), UInt16(payloadLength), endianness: .big)
        default:
            buffer.writeMultipleIntegers(first, UInt8(127), UInt64(payloadLength), endianness: .big)
        }
    }

    /// The payload of a close frame: the code, then as much of `reason` as fits.
    ///
    /// A control frame carries at most 125 bytes, so the reason is cut to 123 bytes, at a
    /// Unicode scalar boundary so that the peer still receives valid UTF-8 (RFC 6455 §5.5.1).
    public static func closePayload(
        code: WebSocketCloseCode,
        reason: String,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        let maxReasonLength = Self.maxControlPayloadLength - 2
        var utf8 = reason.utf8[...]
        if utf8.count > maxReasonLength {
            var end = utf8.index(utf8.startIndex, offsetBy: maxReasonLength)
            // Back off over continuation bytes so the cut falls before a lead byte.
            while end > utf8.startIndex, utf8[end] & 0xC0 == 0x80 {
                end = utf8.index(before: end)
            }
            utf8 = utf8[..<end]
        }
        var buffer = allocator.buffer(capacity: 2 + utf8.count)
        buffer.writeInteger(code.rawValue, endianness: .big)
        buffer.writeBytes(utf8)
        return buffer
    }
}
