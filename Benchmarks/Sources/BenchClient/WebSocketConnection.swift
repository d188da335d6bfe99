public import NIOCore
public import NIOWebSocket

/// What a benchmark does with one WebSocket: told on the connection's event loop when the upgrade
/// is done, for each text message, each pong and the close. Delegates are confined to that loop
/// (hence `@unchecked Sendable` on the implementations), so they keep their state without locks.
public protocol WebSocketClientDelegate: AnyObject, Sendable {
    func webSocketDidOpen(_ connection: WebSocketConnection)
    func webSocket(_ connection: WebSocketConnection, didReceiveText text: ByteBuffer)
    func webSocketDidReceivePong(_ connection: WebSocketConnection)
    func webSocketDidClose(_ connection: WebSocketConnection)
}

extension WebSocketClientDelegate {
    public func webSocketDidReceivePong(_ connection: WebSocketConnection) {}
    public func webSocketDidClose(_ connection: WebSocketConnection) {}
}

/// The client end of one upgraded connection: answers pings (the server pings quiet sessions and
/// closes silent ones), completes the closing handshake, masks what it sends with a cheap
/// per-connection generator (the system's costs a syscall per frame, which would load the client
/// more than the server under test), and leaves framing to NIOWebSocket's codec.
public final class WebSocketConnection: ChannelInboundHandler, @unchecked Sendable {
    public typealias InboundIn = WebSocketFrame
    public typealias OutboundOut = WebSocketFrame

    public let delegate: any WebSocketClientDelegate
    public private(set) var isOpen = true
    private var context: ChannelHandlerContext?
    private var closing = false
    private var needsFlush = false
    private var maskSource: SplitMix64

    init(delegate: any WebSocketClientDelegate, seed: UInt64) {
        self.delegate = delegate
        maskSource = SplitMix64(state: seed)
    }

    public var channel: (any Channel)? { context?.channel }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The HTTP upgrade handlers are still in the pipeline while this one is added: a first
        // message written now would go out through the HTTP encoder. One turn of the loop later
        // they are gone.
        context.eventLoop.execute { [self] in
            if self.context != nil { delegate.webSocketDidOpen(self) }
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            delegate.webSocket(self, didReceiveText: frame.maskKey == nil ? frame.data : frame.unmaskedData)
        case .ping:
            write(opcode: .pong, frame.unmaskedData)
            needsFlush = true
        case .pong:
            delegate.webSocketDidReceivePong(self)
        case .connectionClose:
            if closing {
                context.close(promise: nil)
            } else {
                closing = true
                var data = frame.unmaskedData
                let code = data.readSlice(length: 2) ?? ByteBuffer()
                write(opcode: .connectionClose, code)
                context.flush()
                closeSoon(context)
            }
        default:
            break
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush { needsFlush = false; context.flush() }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        isOpen = false
        delegate.webSocketDidClose(self)
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Queues one text message; `flush()` sends what is queued (so a burst goes out in one write).
    public func sendText(_ text: ByteBuffer) {
        guard isOpen, !closing else { return }
        write(opcode: .text, text)
    }

    public func flush() { context?.flush() }

    public func sendPing() {
        guard isOpen, !closing else { return }
        write(opcode: .ping, ByteBuffer())
        flush()
    }

    /// Starts the closing handshake. The server closes the TCP connection first, as RFC 6455
    /// asks, so TIME_WAIT stays on its side and the client's ephemeral ports are free again at once
    /// for the next batch of connections; a server that does not answer is cut off after 5 s.
    public func close() {
        guard let context, isOpen, !closing else { return }
        closing = true
        var code = context.channel.allocator.buffer(capacity: 2)
        code.writeInteger(UInt16(1000))
        write(opcode: .connectionClose, code)
        context.flush()
        closeSoon(context)
    }

    /// After both close frames the server drops the connection; this is for one that does not.
    private func closeSoon(_ context: ChannelHandlerContext) {
        let channel = context.channel
        context.eventLoop.scheduleTask(in: .seconds(5)) { channel.close(promise: nil) }
    }

    private func write(opcode: WebSocketOpcode, _ data: ByteBuffer) {
        guard let context else { return }
        let mask = WebSocketMaskingKey.random(using: &maskSource)
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: opcode, maskKey: mask, data: data)), promise: nil)
    }
}

/// SplitMix64: a fast generator for mask keys, which RFC 6455 wants unpredictable to
/// intermediaries, not cryptographically strong.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
