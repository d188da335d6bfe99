public import NIOCore

/// An incremental parser of client-to-server WebSocket frames (RFC 6455 §5.2).
///
/// Feed it the connection's cumulation buffer after every read and call ``parse(_:)`` until it
/// returns `nil`. Bytes may arrive split anywhere; a buffer may hold many frames.
///
/// Everything that can be judged from a frame header is judged as soon as the header bytes are
/// there, before the payload arrives, so a peer cannot make the server buffer a frame it will
/// refuse anyway: reserved opcodes, unmasked client frames, fragmented or oversized control
/// frames, 64-bit lengths with the top bit set (1002) and frames over `maxFrameSize` (1009).
/// The RSV bits are left to ``WebSocketConnectionMachine``, which knows the extensions.
///
/// Payloads are unmasked in place in the input buffer and handed out as slices of it, so parsing
/// copies nothing. All bytes available are unmasked in one pass over the buffer (not one frame at
/// a time): once a payload slice has been handed out and is still held, the next in-place write
/// forces a copy-on-write of the buffer, and doing all writes of one read in one pass keeps that
/// to at most one copy per read instead of one per frame.
///
/// The parser remembers how far it has unmasked, relative to the reader index: pass the same
/// cumulation buffer every time (compacting it with `discardReadBytes()` is fine) and do not
/// read from it yourself.
public struct WebSocketFrameParser: Sendable {
    /// The largest payload accepted in one frame.
    public let maxFrameSize: Int
    /// Whether frames must be masked: true on a server, where RFC 6455 §5.1 requires every
    /// client frame to be masked. False lets tests and clients read server frames.
    public let requiresMasking: Bool

    /// How many bytes after the reader index are prepared: headers checked, payload unmasked.
    private var prepared = 0
    /// Payload bytes of the frame the preparation pass stopped in, still to unmask.
    private var scanPayloadRemaining = 0
    /// The mask key of that frame, `nil` if it is not masked.
    private var scanMaskKey: UInt32?
    /// The position in that frame's payload where the preparation pass stopped.
    private var scanPayloadOffset = 0

    /// Creates a parser.
    ///
    /// - Parameters:
    ///   - maxFrameSize: Frames with a longer payload fail with 1009 as soon as their header is
    ///     read; this bounds what one frame can make the server buffer.
    ///   - requiresMasking: Leave it true on a server.
    public init(maxFrameSize: Int, requiresMasking: Bool = true) {
        precondition(maxFrameSize >= 125, "a control frame may carry 125 bytes")
        self.maxFrameSize = maxFrameSize
        self.requiresMasking = requiresMasking
    }

    /// Parses the next complete frame at the start of `buffer`'s readable bytes.
    ///
    /// - Returns: The frame, with its payload unmasked, or `nil` if more bytes are needed.
    /// - Throws: ``WebSocketProtocolError`` with the close code to fail the connection with.
    public mutating func parse(_ buffer: inout ByteBuffer) throws(WebSocketProtocolError) -> WebSocketFrame? {
        if case .frame(let frame) = try self.step(&buffer) {
            return frame
        }
        return nil
    }

    /// A frame header, decoded and checked.
    struct Header: Hashable, Sendable {
        var fin: Bool
        var rsv1: Bool
        var rsv2: Bool
        var rsv3: Bool
        var opcode: WebSocketOpcode
        var maskKey: UInt32?
        var payloadLength: Int
        /// The header's size on the wire: 2 to 14 bytes.
        var headerLength: Int
    }

    /// What ``step(_:)`` found at the start of the buffer.
    enum Step {
        /// A complete frame, consumed from the buffer.
        case frame(WebSocketFrame)
        /// A frame whose header is there but whose payload is not complete yet; the first
        /// `availablePayload` payload bytes, after `header.headerLength` bytes of header at the
        /// reader index, are unmasked and may be inspected.
        case partial(Header, availablePayload: Int)
        /// Not even a complete header.
        case needMoreData
    }

    /// Parses what is at the start of `buffer`, reporting a frame in progress too, so that the
    /// connection machine can judge a frame's header and validate a text payload before the
    /// whole frame is there.
    mutating func step(_ buffer: inout ByteBuffer) throws(WebSocketProtocolError) -> Step {
        let maxFrameSize = self.maxFrameSize
        let requiresMasking = self.requiresMasking
        let decoded = try buffer.withUnsafeReadableBytes { bytes throws(WebSocketProtocolError) in
            try Self.decodeHeader(bytes, maxFrameSize: maxFrameSize, requiresMasking: requiresMasking)
        }
        guard let header = decoded else { return .needMoreData }

        let readable = buffer.readableBytes
        if self.prepared < readable {
            self.prepare(&buffer)
        }
        // The head frame's header is valid and complete, so the preparation pass got past it.
        assert(self.prepared >= header.headerLength)

        let frameLength = header.headerLength + header.payloadLength
        guard readable >= frameLength else {
            return .partial(header, availablePayload: self.prepared - header.headerLength)
        }
        // Every readable byte that belongs to a frame with a valid header is prepared.
        assert(self.prepared >= frameLength)
        buffer.moveReaderIndex(forwardBy: header.headerLength)
        let payload = buffer.readSlice(length: header.payloadLength)!
        self.prepared -= frameLength
        let frame = WebSocketFrame(
            fin: header.fin,
            rsv1: header.rsv1,
            rsv2: header.rsv2,
            rsv3: header.rsv3,
            opcode: header.opcode,
            payload: payload
        )
        return .frame(frame)
    }

    /// Walks the unprepared bytes of `buffer` frame by frame, unmasking payloads in place, up to
    /// the end of the buffer or to a header that is incomplete or invalid (which `step` will
    /// report when it reaches it).
    private mutating func prepare(_ buffer: inout ByteBuffer) {
        let maxFrameSize = self.maxFrameSize
        let requiresMasking = self.requiresMasking
        buffer.withUnsafeMutableReadableBytes { bytes in
            let end = bytes.count
            var position = self.prepared
            while position < end {
                if self.scanPayloadRemaining > 0 {
                    let count = min(self.scanPayloadRemaining, end - position)
                    if let key = self.scanMaskKey {
                        WebSocketMasking.unmask(
                            UnsafeMutableRawBufferPointer(rebasing: bytes[position..<(position + count)]),
                            maskKey: key,
                            keyOffset: self.scanPayloadOffset
                        )
                    }
                    self.scanPayloadRemaining -= count
                    self.scanPayloadOffset &+= count
                    position += count
                } else {
                    let rest = UnsafeRawBufferPointer(rebasing: bytes[position...])
                    guard
                        let header = try? Self.decodeHeader(
                            rest,
                            maxFrameSize: maxFrameSize,
                            requiresMasking: requiresMasking
                        )
                    else { break }
                    position += header.headerLength
                    self.scanPayloadRemaining = header.payloadLength
                    self.scanMaskKey = header.maskKey
                    self.scanPayloadOffset = 0
                }
            }
            self.prepared = position
        }
    }

    /// Decodes and checks the header at the start of `bytes`.
    ///
    /// - Returns: `nil` if `bytes` ends before the header does.
    /// - Throws: As soon as the bytes present break a rule, even if the header is incomplete.
    static func decodeHeader(
        _ bytes: UnsafeRawBufferPointer,
        maxFrameSize: Int,
        requiresMasking: Bool
    ) throws(WebSocketProtocolError) -> Header? {
        guard bytes.count >= 2 else { return nil }
        let first = bytes[0]
        let second = bytes[1]
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else {
            throw .protocolError("reserved opcode")
        }
        let fin = first & 0x80 != 0
        let masked = second & 0x80 != 0
        let shortLength = Int(second & 0x7F)
        if opcode.isControl {
            guard fin else { throw .protocolError("fragmented control frame") }
            guard shortLength <= 125 else { throw .protocolError("control frame longer than 125 bytes") }
        }
        if requiresMasking, !masked {
            throw .protocolError("unmasked client frame")
        }

        var headerLength = 2
        let payloadLength: Int
        switch shortLength {
        case 126:
            guard bytes.count >= 4 else { return nil }
            payloadLength = Int(bytes[2]) << 8 | Int(bytes[3])
            headerLength = 4
        case 127:
            guard bytes.count >= 10 else { return nil }
            let length = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt64.self))
            guard length & (1 << 63) == 0 else {
                throw .protocolError("64-bit length with the top bit set")
            }
            // Beyond Int.max (32-bit platforms) is beyond any maxFrameSize.
            payloadLength = Int(exactly: length) ?? Int.max
            headerLength = 10
        default:
            payloadLength = shortLength
        }
        guard payloadLength <= maxFrameSize else {
            throw WebSocketProtocolError(closeCode: .messageTooBig, reason: "frame too big")
        }

        var maskKey: UInt32?
        if masked {
            guard bytes.count >= headerLength + 4 else { return nil }
            maskKey = bytes.loadUnaligned(fromByteOffset: headerLength, as: UInt32.self)
            headerLength += 4
        }
        return Header(
            fin: fin,
            rsv1: first & 0x40 != 0,
            rsv2: first & 0x20 != 0,
            rsv3: first & 0x10 != 0,
            opcode: opcode,
            maskKey: maskKey,
            payloadLength: payloadLength,
            headerLength: headerLength
        )
    }
}
