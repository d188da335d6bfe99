import ByteCoding
public import NIOCore

/// The per-connection WebSocket protocol state machine of a server (RFC 6455 §5, §7; RFC 7692).
///
/// It turns the bytes a client sends into actions for the channel handler: complete messages
/// (fragments joined, decompressed, text validated), pings to answer, pongs, the peer's close,
/// or a protocol failure with the close code to send. It does no I/O.
///
/// Every rule that a frame header decides is applied when the header arrives, before its
/// payload: reserved bits, fragmentation order and the message size limit. Text is validated as
/// it arrives, even inside a frame that is not complete yet, so invalid UTF-8 fails the
/// connection (1007) at the first impossible byte rather than at the end of the message.
///
/// An unfragmented, uncompressed message is the payload slice of the input buffer: no copy.
/// Fragments are joined into one buffer only when a message is fragmented.
public struct WebSocketConnectionMachine {
    /// Limits of one connection.
    public struct Configuration: Sendable {
        /// The largest frame payload; a larger frame fails the connection with 1009 as soon as
        /// its header is read. It bounds what the server buffers for one frame.
        public var maxFrameSize: Int
        /// The largest message, after joining fragments and inflating; larger fails with 1009
        /// as soon as the fragment or the inflation that crosses it is seen, so neither many
        /// fragments nor a deflate bomb can make the server hold more.
        public var maxMessageSize: Int

        public init(maxFrameSize: Int, maxMessageSize: Int) {
            self.maxFrameSize = maxFrameSize
            self.maxMessageSize = maxMessageSize
        }
    }

    /// What the channel handler must do after a read.
    public enum Action: Hashable, Sendable {
        /// A complete message: decompressed, and for text, valid UTF-8.
        case message(WebSocketMessage)
        /// A ping: answer with a pong carrying the same data.
        case ping(ByteBuffer)
        /// A pong (answer to our ping, or a heartbeat): the connection is alive.
        case pong(ByteBuffer)
        /// The peer sent a valid close, to answer with `reply` (the peer's code echoed; `nil`
        /// means an empty close payload, because the peer's close had no code) unless ours is out
        /// already: ``WebSocketLifecycleMachine/peerClosed(reply:now:)`` decides. Nothing after
        /// this is read.
        case close(reply: WebSocketCloseCode?, reason: String)
        /// The peer broke the protocol: send a close frame with this code and reason, then close
        /// the connection. Nothing after this is read.
        case fail(WebSocketCloseCode, reason: String)
    }

    /// A data message whose first frame has been seen but not its last.
    private struct MessageInProgress {
        var kind: WebSocketMessage.Kind
        /// RSV1 was set on its first frame: its payload is deflated.
        var compressed: Bool
        /// Validates the text as it arrives; unused for binary messages.
        var validator: UTF8Validator
        /// The message so far (inflated); `nil` until a second fragment arrives or, for a
        /// compressed message, until the first one is inflated.
        var data: ByteBuffer?
        /// The size of the message so far, after inflating.
        var size: Int
    }

    private let configuration: Configuration
    private let deflate: PerMessageDeflate?
    private var parser: WebSocketFrameParser
    private var message: MessageInProgress?
    /// Whether the header of the frame at the head of the input has been judged.
    private var headFrameChecked = false
    /// How many payload bytes of the frame at the head of the input have been UTF-8 validated.
    private var headFrameValidated = 0
    /// After the peer's close or a failure: input is ignored.
    private var isFinished = false
    private let allocator = ByteBufferAllocator()

    /// Creates the machine for one connection.
    ///
    /// - Parameters:
    ///   - configuration: The connection's limits.
    ///   - deflate: The permessage-deflate codec negotiated in the handshake, `nil` if none
    ///     was: then RSV1 is a protocol error.
    public init(configuration: Configuration, deflate: PerMessageDeflate?) {
        self.configuration = configuration
        self.deflate = deflate
        self.parser = WebSocketFrameParser(maxFrameSize: configuration.maxFrameSize)
    }

    /// Consumes bytes from the connection's cumulation buffer and returns the next action, or
    /// `nil` when more bytes are needed. Call it in a loop after every read until it returns
    /// `nil`, always with the same buffer (see ``WebSocketFrameParser``).
    ///
    /// After `.close` or `.fail` it returns `nil` and discards whatever else arrives.
    public mutating func next(_ buffer: inout ByteBuffer) -> Action? {
        guard !self.isFinished else {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return nil
        }
        while true {
            let step: WebSocketFrameParser.Step
            do {
                step = try self.parser.step(&buffer)
            } catch {
                return self.fail(error.closeCode, error.reason)
            }
            switch step {
            case .needMoreData:
                return nil

            case .partial(let header, let availablePayload):
                if !self.headFrameChecked {
                    if let failure = self.checkHeader(
                        opcode: header.opcode,
                        rsv1: header.rsv1,
                        rsv2: header.rsv2,
                        rsv3: header.rsv3,
                        payloadLength: header.payloadLength
                    ) {
                        return failure
                    }
                    self.headFrameChecked = true
                }
                if availablePayload > self.headFrameValidated, self.isValidatingPlainText(header.opcode) {
                    let start = header.headerLength + self.headFrameValidated
                    let end = header.headerLength + availablePayload
                    let isValid = buffer.withUnsafeReadableBytes { bytes in
                        self.message!.validator.validate(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                    }
                    guard isValid else {
                        return self.fail(.invalidPayloadData, "invalid UTF-8 in a text message")
                    }
                    self.headFrameValidated = availablePayload
                }
                return nil

            case .frame(let frame):
                if !self.headFrameChecked {
                    if let failure = self.checkHeader(
                        opcode: frame.opcode,
                        rsv1: frame.rsv1,
                        rsv2: frame.rsv2,
                        rsv3: frame.rsv3,
                        payloadLength: frame.payload.readableBytes
                    ) {
                        return failure
                    }
                }
                let validated = self.headFrameValidated
                self.headFrameChecked = false
                self.headFrameValidated = 0

                switch frame.opcode {
                case .ping:
                    return .ping(frame.payload)
                case .pong:
                    return .pong(frame.payload)
                case .close:
                    return self.receiveClose(frame.payload)
                default:
                    if let action = self.receiveData(frame, validated: validated) {
                        return action
                    }
                // A fragment that does not end its message: read on.
                }
            }
        }
    }

    /// Applies the rules a frame header decides; starts a message on its first frame.
    private mutating func checkHeader(
        opcode: WebSocketOpcode,
        rsv1: Bool,
        rsv2: Bool,
        rsv3: Bool,
        payloadLength: Int
    ) -> Action? {
        if rsv2 || rsv3 {
            return self.fail(.protocolError, "reserved bit set")
        }
        if opcode.isControl {
            return rsv1 ? self.fail(.protocolError, "RSV1 on a control frame") : nil
        }
        let maxMessageSize = self.configuration.maxMessageSize
        if opcode == .continuation {
            guard let message = self.message else {
                return self.fail(.protocolError, "continuation frame without a message")
            }
            if rsv1 {
                return self.fail(.protocolError, "RSV1 on a continuation frame")
            }
            if !message.compressed, payloadLength > maxMessageSize - message.size {
                return self.fail(.messageTooBig, "message too big")
            }
            return nil
        }
        if self.message != nil {
            return self.fail(.protocolError, "new message before the previous one ended")
        }
        if rsv1, self.deflate == nil {
            return self.fail(.protocolError, "RSV1 without a negotiated extension")
        }
        if !rsv1, payloadLength > maxMessageSize {
            return self.fail(.messageTooBig, "message too big")
        }
        self.message = MessageInProgress(
            kind: opcode == .text ? .text : .binary,
            compressed: rsv1,
            validator: UTF8Validator(),
            data: nil,
            size: 0
        )
        return nil
    }

    /// Whether the payload of a data frame with this opcode is text to validate as it arrives
    /// (compressed text is validated after inflating).
    private func isValidatingPlainText(_ opcode: WebSocketOpcode) -> Bool {
        guard !opcode.isControl, let message = self.message else { return false }
        return message.kind == .text && !message.compressed
    }

    /// Adds a data frame to its message; returns the message when it is complete, a failure,
    /// or `nil` when more fragments are to come.
    ///
    /// - Parameter validated: How many payload bytes were UTF-8 validated while the frame was
    ///   still arriving.
    private mutating func receiveData(_ frame: WebSocketFrame, validated: Int) -> Action? {
        // Taken out of `self` so that appending to its buffer does not trigger a copy.
        var message = self.message!
        self.message = nil
        let maxMessageSize = self.configuration.maxMessageSize

        if message.compressed {
            // Moved out of `message` so that inflating into it does not copy it.
            var data: ByteBuffer
            if let existing = message.data {
                data = existing
                message.data = nil
            } else {
                data = self.allocator.buffer(capacity: min(maxMessageSize, max(256, frame.payload.readableBytes * 4)))
            }
            let start = data.writerIndex
            do {
                try self.deflate!.inflate(frame.payload, isFinal: frame.fin, into: &data, limit: maxMessageSize)
            } catch {
                switch error {
                case .messageTooBig:
                    return self.fail(.messageTooBig, "message too big")
                case .invalidData:
                    return self.fail(.invalidPayloadData, "invalid compressed data")
                default:
                    return self.fail(.internalError, "decompression failed")
                }
            }
            if message.kind == .text {
                let newBytes = (start - data.readerIndex)...
                let isValid = data.withUnsafeReadableBytes { bytes in
                    message.validator.validate(UnsafeRawBufferPointer(rebasing: bytes[newBytes]))
                }
                guard isValid else {
                    return self.fail(.invalidPayloadData, "invalid UTF-8 in a text message")
                }
            }
            message.size = data.readableBytes
            message.data = data
        } else {
            if message.kind == .text {
                let isValid = frame.payload.withUnsafeReadableBytes { bytes in
                    message.validator.validate(UnsafeRawBufferPointer(rebasing: bytes[validated...]))
                }
                guard isValid else {
                    return self.fail(.invalidPayloadData, "invalid UTF-8 in a text message")
                }
            }
            if frame.fin, message.data == nil {
                // The whole message is this frame: hand out its slice.
                guard message.kind == .binary || message.validator.isComplete else {
                    return self.fail(.invalidPayloadData, "truncated UTF-8 in a text message")
                }
                return .message(WebSocketMessage(kind: message.kind, data: frame.payload))
            }
            // The size limit was checked against this frame's header.
            if message.data == nil {
                message.data = self.allocator.buffer(capacity: frame.payload.readableBytes * 2)
            }
            message.data!.writeImmutableBuffer(frame.payload)
            message.size += frame.payload.readableBytes
        }

        guard frame.fin else {
            self.message = message
            return nil
        }
        guard message.kind == .binary || message.validator.isComplete else {
            return self.fail(.invalidPayloadData, "truncated UTF-8 in a text message")
        }
        return .message(WebSocketMessage(kind: message.kind, data: message.data ?? self.allocator.buffer(capacity: 0)))
    }

    /// Judges the peer's close frame (RFC 6455 §5.5.1, §7.4).
    private mutating func receiveClose(_ payload: ByteBuffer) -> Action {
        switch payload.readableBytes {
        case 0:
            self.isFinished = true
            return .close(reply: nil, reason: "")
        case 1:
            return self.fail(.protocolError, "close frame with a 1-byte payload")
        default:
            let code = WebSocketCloseCode(rawValue: payload.getInteger(at: payload.readerIndex, as: UInt16.self)!)
            guard code.isValidOnWire else {
                return self.fail(.protocolError, "invalid close code")
            }
            let reason = payload.getSlice(at: payload.readerIndex + 2, length: payload.readableBytes - 2)!
            guard UTF8Validator.isValid(reason) else {
                return self.fail(.invalidPayloadData, "invalid UTF-8 in the close reason")
            }
            self.isFinished = true
            return .close(reply: code, reason: String(buffer: reason))
        }
    }

    private mutating func fail(_ code: WebSocketCloseCode, _ reason: String) -> Action {
        self.isFinished = true
        self.message = nil
        return .fail(code, reason: reason)
    }
}

@available(*, unavailable)
extension WebSocketConnectionMachine: Sendable {}
