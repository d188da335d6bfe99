import Handlers
import HTTPEdge
import Logging
import NIOCore
import WebSocketCore

/// One WebSocket connection after the upgrade: framing, the close handshake, keepalive, backpressure,
/// and hand-off of complete messages to the endpoint.
///
/// Writes are coalesced: frames are written as messages become ready and flushed once per read
/// batch (echo) or once per event-loop tick in which answers completed (JSON-RPC). Reads stop while
/// a session has `maxInflight` calls running, and while the socket is not writable on `/echo`. On
/// `/rpc` a socket that stays unwritable past `outboundBufferBytes` is a slow consumer and is closed
/// with 1013, so it can never hold the server's memory or slow other sessions.
final class WebSocketHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case open
        /// Shutting down: reads are stopped; the close frame goes out once in-flight calls finish or the deadline passes.
        case draining
        /// Our close frame is out; waiting for the peer's (or the close timeout).
        case closeSent
        case closed
    }

    private let server: ServerContext
    private let endpoint: WebSocketEndpoint
    private let connectionID: UInt64
    /// The server's logger with this connection's id, built only when a record is logged (see `HTTPHandler.logger`).
    private var logger: Logger {
        var logger = self.server.logger
        logger[metadataKey: "ws.connection.id"] = "\(self.connectionID)"
        return logger
    }
    private let deflate: PerMessageDeflate?
    private var machine: WebSocketConnectionMachine
    private var session: RPCSession?
    private var state = State.open
    /// Bytes of a frame that has not fully arrived yet.
    private var cumulation: ByteBuffer?
    /// A `read()` from the channel that we are holding back (backpressure).
    private var readHeld = false
    private var flushScheduled = false
    private var lastInbound = NIODeadline.now()
    /// When a keepalive ping went out with nothing arrived since; nil when none is outstanding.
    private var pingSentAt: NIODeadline?
    private var keepalive: Scheduled<Void>?
    private var closeTimer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    /// How long to wait for the peer's close frame after ours before dropping the TCP connection.
    private static let closeTimeout = TimeAmount.seconds(3)

    /// The client's address (after trusted proxies) and the principal of a bearer token on the upgrade.
    private let clientAddress: String
    private let principal: Principal?

    init(
        server: ServerContext, endpoint: WebSocketEndpoint, connectionID: UInt64,
        deflate: PerMessageDeflateParameters?, clientAddress: String, principal: Principal?
    ) {
        self.clientAddress = clientAddress
        self.principal = principal
        self.server = server
        self.endpoint = endpoint
        self.connectionID = connectionID
        let codec = deflate.map { PerMessageDeflate(parameters: $0, configuration: server.configuration.deflate ?? .default) }
        self.deflate = codec
        let limit: Int
        switch endpoint {
        case .rpc: limit = server.configuration.rpc.maxMessageBytes
        case .echo: limit = server.configuration.echo.maxMessageBytes
        }
        self.machine = WebSocketConnectionMachine(
            configuration: .init(maxFrameSize: limit, maxMessageSize: limit),
            deflate: codec
        )
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        switch self.endpoint {
        case .rpc:
            let bytes = self.server.configuration.rpc.outboundBufferBytes
            _ = try? context.channel.syncOptions?.setOption(
                .writeBufferWaterMark, value: .init(low: bytes / 2, high: max(bytes, 1))
            )
            let session = RPCSession(
                server: self.server,
                connectionID: self.connectionID,
                clientAddress: self.clientAddress,
                principal: self.principal,
                eventLoop: context.eventLoop
            )
            session.handler = self
            self.session = session
            self.armKeepalive(context: context)
        case .echo:
            // Echo answers as fast as the peer reads: pausing reads while unwritable bounds its memory.
            _ = try? context.channel.syncOptions?.setOption(
                .writeBufferWaterMark, value: .init(low: 256 << 10, high: 1 << 20)
            )
        }
        self.logger.debug("WebSocket session opened", metadata: ["ws.endpoint": "\(self.endpoint)"])
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.keepalive?.cancel()
        self.closeTimer?.cancel()
        self.deflate?.releaseIdleMemory()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.state = .closed
        self.session?.connectionClosed()
        self.logger.debug("WebSocket session closed")
        context.fireChannelInactive()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        if var pending = self.cumulation {
            self.cumulation = nil
            // Bytes of frames already parsed are dead weight in a long fragmented message.
            if pending.readerIndex > 64 << 10 { pending.discardReadBytes() }
            pending.writeBuffer(&buffer)
            buffer = pending
        }
        self.lastInbound = .now()
        self.pingSentAt = nil
        self.process(&buffer, context: context)
    }

    /// Runs the protocol machine over buffered bytes until they run out, the connection ends, or the
    /// session is at its in-flight limit; what is left waits in `cumulation`.
    ///
    /// In `closeSent`, frames are still parsed so the peer's close frame is seen; its data is dropped.
    private func process(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        while !self.isTerminal, !self.isPausedForCalls, let action = self.machine.next(&buffer) {
            self.handle(action, context: context)
        }
        if buffer.readableBytes > 0, !self.isTerminal {
            self.cumulation = buffer
        }
    }

    /// A session at its in-flight limit (or draining for shutdown) starts no more calls, even ones already received.
    private var isPausedForCalls: Bool {
        guard case .rpc = self.endpoint else { return false }
        if case .draining = self.state { return true }
        return (self.session?.inflight ?? 0) >= self.server.configuration.rpc.maxInflight
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        self.flushScheduled = false
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        switch self.endpoint {
        case .rpc where !writable:
            if case .open = self.state {
                self.logger.info("Slow consumer cut off", metadata: ["ws.outbound_buffer_bytes": "\(self.server.configuration.rpc.outboundBufferBytes)"])
                self.sendClose(.tryAgainLater, reason: "slow consumer: outbound buffer overflow", context: context)
                EventMetrics.slowConsumers.increment()
                // Nothing more is queued for it: it resumes with `since` after reconnecting.
                self.session?.client.events.reset()
            }
        case .rpc, .echo:
            self.resumeReadingIfPossible(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let shutdown = event as? ServerShutdownEvent {
            self.beginDraining(deadline: shutdown.deadline, context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.logger.debug("Connection error", metadata: ["error": "\(error)"])
        self.state = .closed
        context.close(promise: nil)
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        if self.shouldHoldReads(context: context) {
            self.readHeld = true
        } else {
            context.read()
        }
    }

    // MARK: Protocol actions

    private func handle(_ action: WebSocketConnectionMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .message(let message):
            self.deliver(message, context: context)
        case .ping(let data):
            self.writeFrame(opcode: .pong, payload: data, compress: false, context: context)
        case .pong:
            break  // lastInbound is already refreshed: any traffic proves the peer alive.
        case .close(let reply, _):
            switch self.state {
            case .closeSent:
                self.closeConnection(context: context)
            case .open, .draining:
                let payload = reply.map {
                    WebSocketFrameEncoder.closePayload(code: $0, reason: "", allocator: context.channel.allocator)
                } ?? context.channel.allocator.buffer(capacity: 0)
                self.sendFinalClose(payload, context: context)
            case .closed:
                break
            }
        case .fail(let code, let reason):
            self.logger.debug("WebSocket protocol violation", metadata: ["ws.close_code": "\(code.rawValue)", "reason": "\(reason)"])
            self.failConnection(code, reason: reason, context: context)
        }
    }

    private func deliver(_ message: WebSocketMessage, context: ChannelHandlerContext) {
        guard self.canSendData else { return }
        switch self.endpoint {
        case .echo:
            self.writeFrame(opcode: message.kind == .text ? .text : .binary, payload: message.data, compress: true, context: context)
        case .rpc:
            guard message.kind == .text else {
                self.failConnection(.unsupportedData, reason: "binary messages are not accepted", context: context)
                return
            }
            self.session?.receive(message.data)
        }
    }

    /// Sends a JSON-RPC answer or notification produced by the session; flushed once per loop tick.
    func sendText(_ bytes: [UInt8]) {
        guard let context = self.context, self.canSendData else { return }
        let payload = context.channel.allocator.buffer(bytes: bytes)
        self.writeFrame(opcode: .text, payload: payload, compress: true, context: context)
        self.scheduleFlush(context: context)
    }

    /// Sends a batch of notifications and flushes at once: the batch is one loop task's work
    /// (``LoopDeliveryQueue``), so there is nothing to coalesce with.
    func sendTexts(_ messages: [[UInt8]], frames: TextFrameCache) {
        guard let context = self.context, self.canSendData else {
            EventMetrics.dropped.increment(by: messages.count)
            return
        }
        for (index, bytes) in messages.enumerated() {
            guard self.canSendData else {  // a write can fail the connection
                EventMetrics.dropped.increment(by: messages.count - index)
                break
            }
            if self.deflate?.shouldCompress(messageSize: bytes.count) ?? false {
                let payload = context.channel.allocator.buffer(bytes: bytes)
                self.writeFrame(opcode: .text, payload: payload, compress: true, context: context)
            } else {
                // Uncompressed: the loop's frame of these very bytes when the last session got
                // them too, else header and payload into one new buffer.
                let frame = frames.frame(for: bytes, allocator: context.channel.allocator)
                context.write(self.wrapOutboundOut(frame), promise: nil)
            }
        }
        context.flush()
    }

    /// Called by the session when a call finished, so held reads and shutdown can proceed.
    func callsCompleted() {
        guard let context = self.context else { return }
        if case .draining = self.state, (self.session?.inflight ?? 0) == 0 {
            self.sendClose(.goingAway, reason: "server shutting down", context: context)
            return
        }
        if !self.isPausedForCalls, var pending = self.cumulation {
            self.cumulation = nil
            self.process(&pending, context: context)
            self.scheduleFlush(context: context)
        }
        self.resumeReadingIfPossible(context: context)
    }

    /// Called by the session when the peer keeps calling after being rate limited.
    func closeForPolicy(reason: String) {
        guard let context = self.context else { return }
        self.sendClose(.policyViolation, reason: reason, context: context)
    }

    // MARK: Writing

    private var canSendData: Bool {
        switch self.state {
        case .open, .draining: return true
        case .closeSent, .closed: return false
        }
    }

    private func writeFrame(opcode: WebSocketOpcode, payload: ByteBuffer, compress: Bool, context: ChannelHandlerContext) {
        var payload = payload
        var rsv1 = false
        if compress, let deflate = self.deflate, deflate.shouldCompress(messageSize: payload.readableBytes) {
            do {
                payload = try deflate.deflate(payload, allocator: context.channel.allocator)
                rsv1 = true
            } catch {
                self.logger.error("Compression failed", metadata: ["error": "\(error)"])
                self.failConnection(.internalError, reason: "compression failed", context: context)
                return
            }
        }
        let length = payload.readableBytes
        // Small frames go out as one buffer; large ones as header + payload so the payload is never copied.
        if length <= 1024 {
            var frame = context.channel.allocator.buffer(capacity: length + 4)
            WebSocketFrameEncoder.writeHeader(fin: true, rsv1: rsv1, opcode: opcode, payloadLength: length, into: &frame)
            frame.writeBuffer(&payload)
            context.write(self.wrapOutboundOut(frame), promise: nil)
        } else {
            var header = context.channel.allocator.buffer(capacity: 10)
            WebSocketFrameEncoder.writeHeader(fin: true, rsv1: rsv1, opcode: opcode, payloadLength: length, into: &header)
            context.write(self.wrapOutboundOut(header), promise: nil)
            context.write(self.wrapOutboundOut(payload), promise: nil)
        }
    }

    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !self.flushScheduled else { return }
        self.flushScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = loopBound.value
            guard handler.flushScheduled, let context = handler.context else { return }
            handler.flushScheduled = false
            context.flush()
        }
    }

    // MARK: Closing

    /// Starts the close handshake: our close frame now, the TCP close when the peer answers or the timer fires.
    private func sendClose(_ code: WebSocketCloseCode, reason: String, context: ChannelHandlerContext) {
        guard self.canSendData else { return }
        self.state = .closeSent
        self.machine.closeSent()
        self.keepalive?.cancel()
        let payload = WebSocketFrameEncoder.closePayload(code: code, reason: reason, allocator: context.channel.allocator)
        self.writeFrame(opcode: .close, payload: payload, compress: false, context: context)
        context.flush()
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.closeTimer = context.eventLoop.scheduleTask(in: Self.closeTimeout) {
            if let context = loopBound.value.context { loopBound.value.closeConnection(context: context) }
        }
    }

    /// Fails the connection (RFC 6455 §7.1.7): a close frame with the code, then the TCP close.
    private func failConnection(_ code: WebSocketCloseCode, reason: String, context: ChannelHandlerContext) {
        guard self.canSendData else {
            self.closeConnection(context: context)
            return
        }
        self.machine.closeSent()
        self.sendFinalClose(
            WebSocketFrameEncoder.closePayload(code: code, reason: reason, allocator: context.channel.allocator),
            context: context
        )
    }

    /// Writes the last frame of the connection, a close, and closes TCP once it has been written.
    private func sendFinalClose(_ payload: ByteBuffer, context: ChannelHandlerContext) {
        self.state = .closed
        self.writeFrame(opcode: .close, payload: payload, compress: false, context: context)
        context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func closeConnection(context: ChannelHandlerContext) {
        self.state = .closed
        self.closeTimer?.cancel()
        context.close(promise: nil)
    }

    private var isTerminal: Bool {
        if case .closed = self.state { return true }
        return false
    }

    private func beginDraining(deadline: NIODeadline, context: ChannelHandlerContext) {
        guard case .open = self.state else { return }
        self.state = .draining
        if (self.session?.inflight ?? 0) == 0 {
            self.sendClose(.goingAway, reason: "server shutting down", context: context)
            return
        }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(deadline: deadline) {
            let handler = loopBound.value
            guard case .draining = handler.state, let context = handler.context else { return }
            handler.logger.info("Shutdown deadline passed with calls in flight", metadata: ["rpc.inflight": "\(handler.session?.inflight ?? 0)"])
            handler.sendClose(.goingAway, reason: "server shutting down", context: context)
        }
    }

    // MARK: Backpressure and keepalive

    private func shouldHoldReads(context: ChannelHandlerContext) -> Bool {
        switch self.endpoint {
        case .echo: return !context.channel.isWritable
        case .rpc: return self.isPausedForCalls
        }
    }

    private func resumeReadingIfPossible(context: ChannelHandlerContext) {
        guard self.readHeld, !self.shouldHoldReads(context: context) else { return }
        self.readHeld = false
        context.read()
    }

    /// Pings a peer quiet for half the idle timeout and closes it with 1008 once quiet for all of it.
    ///
    /// The timer ticks at a quarter of the timeout, so a ping normally goes out between one half and
    /// three quarters of the way. A peer is never closed without having been asked: when a loaded
    /// loop runs a tick late, past the whole timeout, that tick pings, and the close waits until the
    /// ping has gone unanswered for a quarter of the timeout.
    private func armKeepalive(context: ChannelHandlerContext) {
        let idle = TimeAmount(self.server.configuration.timeouts.idle)
        let half = TimeAmount.nanoseconds(idle.nanoseconds / 2)
        let grace = TimeAmount.nanoseconds(max(idle.nanoseconds / 4, 1))
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.keepalive = context.eventLoop.scheduleTask(in: grace) {
            let handler = loopBound.value
            guard case .open = handler.state, let context = handler.context else { return }
            let now = NIODeadline.now()
            let quiet = now - handler.lastInbound
            if quiet >= idle, let sent = handler.pingSentAt, now - sent >= grace {
                handler.sendClose(.policyViolation, reason: "idle timeout", context: context)
                return
            }
            if quiet >= half, handler.pingSentAt == nil {
                handler.pingSentAt = now
                // A quiet session keeps no zlib windows (tens of KiB each); they come back on the next message.
                handler.deflate?.releaseIdleMemory()
                handler.writeFrame(opcode: .ping, payload: context.channel.allocator.buffer(capacity: 0), compress: false, context: context)
                context.flush()
            }
            handler.armKeepalive(context: context)
        }
    }
}
