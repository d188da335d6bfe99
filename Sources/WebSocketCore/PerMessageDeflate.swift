public import NIOCore

/// The permessage-deflate transform of one WebSocket connection (RFC 7692 §7.2).
///
/// Owned by one connection on its event loop; not Sendable. The zlib streams are created on
/// first use and can be freed whenever the connection is idle (`releaseIdleMemory()`), so a
/// connection that negotiated compression but is quiet costs no zlib memory.
public final class PerMessageDeflate {
    /// The agreed parameters.
    public let parameters: PerMessageDeflateParameters
    private let minimumMessageSize: Int

    /// The window we deflate with.
    ///
    /// The smaller of the agreed `server_max_window_bits` and our cap, but at least 9:
    /// zlib refuses a raw window of 8 bits. Deflating with 9 bits is still safe for a peer
    /// that inflates with an 8-bit (256-byte) window, because zlib's deflate never emits a
    /// match distance beyond its window minus MIN_LOOKAHEAD (262 bytes): 512 - 262 = 250 < 256.
    let deflateWindowBits: Int
    /// The window we inflate with: the client promised never to use a larger one.
    let inflateWindowBits: Int
    private let compressionLevel: Int
    private let memLevel: Int

    private var deflater: ZlibDeflater?
    private var inflater: ZlibInflater?
    /// Whether a compressed message has frames inflated but not yet its final frame.
    private var isInflatingMessage = false
    /// Compressed bytes received so far for the message being inflated.
    private var messageInputBytes = 0
    /// Final blocks the message being inflated has restarted the stream after; each but the
    /// first counts against the message's size limit (see `ZlibInflater.restartCharge`).
    private var messageRestarts = 0
    /// Restarts after a final block over the connection's life, for tests: the work an
    /// attacker can cause with empty final blocks is bounded by counting these, not by a clock.
    private(set) var inflateRestarts = 0

    /// The four octets RFC 7692 §7.2.1 removes from each deflated message and §7.2.2 restores.
    private static let syncFlushTail = ByteBuffer(bytes: [0x00, 0x00, 0xFF, 0xFF])

    /// The payload of an empty message: a lone empty stored block without its tail (RFC 7692
    /// §7.2.3.6), valid whatever the window holds.
    private static let emptyMessagePayload = ByteBuffer(bytes: [0x00])

    /// Prepares the transform; no zlib memory is allocated until the first message.
    public init(parameters: PerMessageDeflateParameters, configuration: PerMessageDeflateConfiguration) {
        self.parameters = parameters
        self.minimumMessageSize = configuration.minimumMessageSize
        let deflateCap = min(max(configuration.deflateWindowBits, 8), 15)
        let agreedServerBits = min(max(parameters.serverMaxWindowBits, 8), 15)
        self.deflateWindowBits = max(min(agreedServerBits, deflateCap), 9)
        self.inflateWindowBits = min(max(parameters.clientMaxWindowBits, 8), 15)
        self.compressionLevel = min(max(configuration.compressionLevel, 0), 9)
        self.memLevel = min(max(configuration.memLevel, 1), 9)
    }

    /// Bytes zlib currently holds for this connection (both streams), for tests and metrics.
    public var zlibMemoryInUse: Int {
        (self.deflater?.allocatedBytes ?? 0) + (self.inflater?.allocatedBytes ?? 0)
    }

    // MARK: Inflate

    /// Inflates one frame's payload of a compressed message, appending to `output`.
    ///
    /// `isFinal` (last frame of the message) appends the `00 00 FF FF` tail (RFC 7692 §7.2.2),
    /// checks that the message then ends on a DEFLATE block boundary, and with
    /// client_no_context_takeover resets the window afterwards. The boundary check rejects a
    /// truncated message, or one whose sender left its own `00 00 FF FF` in: accepting it would
    /// leave the stream mid-block and silently corrupt the next message under context takeover.
    /// A final frame's payload of zero bytes for the whole message is taken as an empty message,
    /// and a message ending with a BFINAL block needs no tail (§7.2.3.4).
    ///
    /// - Throws: `.messageTooBig` as soon as `output.readableBytes` would exceed `limit`: the
    ///   check runs during inflation, so a deflate bomb fails after little more than `limit`
    ///   bytes are written. Each final block after the message's first also counts, as the
    ///   window it makes zlib copy (at least 4 KiB), so a flood of empty final blocks fails
    ///   after a bounded number of restarts instead of costing one per two input bytes;
    ///   `.invalidData` on a corrupt stream; `.internalError` if zlib fails.
    ///   After any error the inflate window is gone: fail the connection.
    public func inflate(
        _ input: ByteBuffer,
        isFinal: Bool,
        into output: inout ByteBuffer,
        limit: Int
    ) throws(PerMessageDeflateError) {
        do {
            try self.inflateFrame(input, isFinal: isFinal, into: &output, limit: limit)
        } catch {
            // The stream is mid-block at an unknown point: only a fresh one is trustworthy.
            self.inflater = nil
            self.isInflatingMessage = false
            self.messageInputBytes = 0
            self.messageRestarts = 0
            throw error
        }
    }

    private func inflateFrame(
        _ input: ByteBuffer,
        isFinal: Bool,
        into output: inout ByteBuffer,
        limit: Int
    ) throws(PerMessageDeflateError) {
        self.isInflatingMessage = !isFinal
        let inflater = try self.makeInflaterIfNeeded()
        self.messageInputBytes += input.readableBytes
        try self.inflate(input, with: inflater, into: &output, limit: limit)
        guard isFinal else { return }

        // A message of zero compressed bytes is taken as empty (some senders omit the lone
        // 0x00), and one that ended with a final block needs no tail.
        if self.messageInputBytes > 0 && !inflater.endedWithFinalBlock {
            try self.inflate(Self.syncFlushTail, with: inflater, into: &output, limit: limit)
            // A sender's sync flush always leaves a block boundary; anything else is truncated.
            guard inflater.isAtBlockBoundary || inflater.endedWithFinalBlock else { throw .invalidData }
        }
        self.messageInputBytes = 0
        self.messageRestarts = 0
        if self.parameters.clientNoContextTakeover {
            try inflater.reset()
        }
    }

    /// One inflate call within the current message, counting its restarts.
    private func inflate(
        _ input: ByteBuffer,
        with inflater: ZlibInflater,
        into output: inout ByteBuffer,
        limit: Int
    ) throws(PerMessageDeflateError) {
        let restartsBefore = self.messageRestarts
        defer { self.inflateRestarts += self.messageRestarts - restartsBefore }
        try inflater.inflate(input, into: &output, limit: limit, restarts: &self.messageRestarts)
    }

    private func makeInflaterIfNeeded() throws(PerMessageDeflateError) -> ZlibInflater {
        if let inflater = self.inflater { return inflater }
        let inflater = try ZlibInflater.make(windowBits: self.inflateWindowBits)
        self.inflater = inflater
        return inflater
    }

    // MARK: Deflate

    /// Whether a message of this size should be compressed (`minimumMessageSize`).
    public func shouldCompress(messageSize: Int) -> Bool {
        messageSize >= self.minimumMessageSize
    }

    /// Compresses one whole message; returns the payload for a frame with RSV1 set, with the
    /// trailing `00 00 FF FF` removed (RFC 7692 §7.2.1).
    ///
    /// With server_no_context_takeover the deflate state is reset after each message.
    public func deflate(_ message: ByteBuffer, allocator: ByteBufferAllocator) throws(PerMessageDeflateError) -> ByteBuffer {
        guard message.readableBytes > 0 else { return Self.emptyMessagePayload }
        let deflater: ZlibDeflater
        if let existing = self.deflater {
            deflater = existing
        } else {
            deflater = try ZlibDeflater.make(
                level: self.compressionLevel,
                windowBits: self.deflateWindowBits,
                memLevel: self.memLevel
            )
            self.deflater = deflater
        }
        // JSON shrinks several times; incompressible data grows the buffer once or twice.
        var output = allocator.buffer(capacity: message.readableBytes / 2 + 64)
        do {
            try deflater.compress(message, into: &output)
            if self.parameters.serverNoContextTakeover {
                try deflater.reset()
            }
        } catch {
            self.deflater = nil
            throw error
        }
        guard output.readableBytes >= 4,
            output.getBytes(at: output.writerIndex - 4, length: 4) == [0x00, 0x00, 0xFF, 0xFF]
        else {
            self.deflater = nil
            throw .internalError
        }
        output.moveWriterIndex(to: output.writerIndex - 4)
        return output
    }

    // MARK: Memory

    /// Frees the zlib streams when no message is mid-inflation; call when the connection goes
    /// idle. They are re-created on next use.
    ///
    /// The inflate stream is kept when the client uses context takeover (no
    /// client_no_context_takeover): its next message may refer to the window of earlier ones.
    /// The deflate stream is always freed: our next message may simply start without history.
    public func releaseIdleMemory() {
        self.deflater = nil
        if !self.isInflatingMessage && self.parameters.clientNoContextTakeover {
            self.inflater = nil
        }
    }
}

@available(*, unavailable)
extension PerMessageDeflate: Sendable {}
