import Handlers
import HTTPEdge
import Logging
import NIOCore
import WebSocketCore

/// One WebSocket connection after the upgrade: carries out what its two machines decide, framing
/// (``WebSocketConnectionMachine``) and the connection's life (``WebSocketLifecycleMachine``: the
/// close handshake and its deadline, keepalive, draining, when to read), and hands complete
/// messages to the endpoint.
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

    private let server: ServerContext
    private let endpoint: WebSocketEndpoint
    private let connectionID: UInt64
    /// The server's logger with this connection's id, built only when a record is logged (a per-connection copy of the metadata would cost every idle connection a dictionary).
    private var logger: Logger {
        var logger = self.server.logger
        logger[metadataKey: "ws.connection.id"] = "\(self.connectionID)"
        return logger
    }
    private let deflate: PerMessageDeflate?
    private var machine: WebSocketConnectionMachine
    private var lifecycle: WebSocketLifecycleMachine
    private var session: RPCSession?
    /// Bytes of a frame that has not fully arrived yet.
    private var cumulation: ByteBuffer?
    private var flushScheduled = false
    private var timers: [WebSocketLifecycleMachine.Timer: Scheduled<Void>] = [:]
    private var context: ChannelHandlerContext?

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
        let closeTimeout = TimeAmount(server.configuration.timeouts.close)
        let lifecycle: WebSocketLifecycleMachine.Configuration
        switch endpoint {
        case .rpc:
            lifecycle = .init(
                closeTimeout: closeTimeout, idleTimeout: TimeAmount(server.configuration.timeouts.idle),
                maxCallsInFlight: server.configuration.rpc.maxInflight, whenUnwritable: .closeSlowConsumer
            )
        case .echo:
            // Echo answers as fast as the peer reads: pausing reads while unwritable bounds its memory.
            lifecycle = .init(closeTimeout: closeTimeout, idleTimeout: nil, maxCallsInFlight: nil, whenUnwritable: .pauseReads)
        }
        self.lifecycle = WebSocketLifecycleMachine(configuration: lifecycle, now: .now())
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
        case .echo:
            _ = try? context.channel.syncOptions?.setOption(
                .writeBufferWaterMark, value: .init(low: 256 << 10, high: 1 << 20)
            )
        }
        self.logger.debug("WebSocket session opened", metadata: ["ws.endpoint": "\(self.endpoint)"])
        self.perform(self.lifecycle.start(now: .now()), context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        for timer in self.timers.values { timer.cancel() }
        self.timers = [:]
        self.deflate?.releaseIdleMemory()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.lifecycle.channelClosed()
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
        self.lifecycle.inboundReceived(now: .now())
        self.process(&buffer, context: context)
    }

    /// Runs the protocol machine over buffered bytes until they run out, the connection stops
    /// reading frames, or the session is paused for calls (at its in-flight limit, or draining:
    /// it starts no more calls, even ones already received); what is left waits in `cumulation`.
    ///
    /// After our close, frames are still parsed so the peer's close frame is seen; its data is dropped.
    private func process(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        while self.lifecycle.isReadingFrames, !self.lifecycle.isPausedForCalls, let action = self.machine.next(&buffer) {
            self.handle(action, context: context)
        }
        if buffer.readableBytes > 0, self.lifecycle.isReadingFrames {
            self.cumulation = buffer
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        self.flushScheduled = false
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.perform(self.lifecycle.writabilityChanged(isWritable: context.channel.isWritable, now: .now()), context: context)
        self.resumeReadingIfPossible(context: context)
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let shutdown = event as? ServerShutdownEvent {
            self.perform(self.lifecycle.shutdown(deadline: shutdown.deadline, now: .now()), context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.logger.debug("Connection error", metadata: ["error": "\(error)"])
        self.perform(self.lifecycle.transportFailed(), context: context)
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        if self.lifecycle.readRequested() {
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
            break  // The read already told the lifecycle: any traffic proves the peer alive.
        case .close(let reply, _):
            self.perform(self.lifecycle.peerClosed(reply: reply, now: .now()), context: context)
        case .fail(let code, let reason):
            self.logger.debug("WebSocket protocol violation", metadata: ["ws.close_code": "\(code.rawValue)", "reason": "\(reason)"])
            self.failConnection(code, reason: reason, context: context)
        }
    }

    private func deliver(_ message: WebSocketMessage, context: ChannelHandlerContext) {
        guard self.lifecycle.isSendingData else { return }
        switch self.endpoint {
        case .echo:
            self.writeFrame(opcode: message.kind == .text ? .text : .binary, payload: message.data, compress: true, context: context)
        case .rpc:
            guard message.kind == .text else {
                self.failConnection(.unsupportedData, reason: "binary messages are not accepted", context: context)
                return
            }
            self.session?.receive(message.data)
            self.perform(self.lifecycle.callsInFlightChanged(to: self.session?.inflight ?? 0, now: .now()), context: context)
        }
    }

    /// Sends a JSON-RPC answer or notification produced by the session; flushed once per loop tick.
    func sendText(_ bytes: [UInt8]) {
        guard let context = self.context, self.lifecycle.isSendingData else { return }
        let payload = context.channel.allocator.buffer(bytes: bytes)
        self.writeFrame(opcode: .text, payload: payload, compress: true, context: context)
        self.scheduleFlush(context: context)
    }

    /// Sends a batch of notifications and flushes at once: the batch is one loop task's work
    /// (``LoopDeliveryQueue``), so there is nothing to coalesce with.
    func sendTexts(_ messages: [[UInt8]], frames: TextFrameCache) {
        guard let context = self.context, self.lifecycle.isSendingData else {
            EventMetrics.dropped.increment(by: messages.count)
            return
        }
        for (index, bytes) in messages.enumerated() {
            guard self.lifecycle.isSendingData else {  // a write can fail the connection
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
        self.perform(self.lifecycle.callsInFlightChanged(to: self.session?.inflight ?? 0, now: .now()), context: context)
        if !self.lifecycle.isPausedForCalls, var pending = self.cumulation {
            self.cumulation = nil
            self.process(&pending, context: context)
            self.scheduleFlush(context: context)
        }
        self.resumeReadingIfPossible(context: context)
    }

    /// Called by the session when the peer keeps calling after being rate limited.
    func closeForPolicy(reason: String) {
        guard let context = self.context else { return }
        self.perform(self.lifecycle.close(.policyViolation, reason: reason, now: .now()), context: context)
    }

    // MARK: Writing

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

    // MARK: Carrying out the lifecycle

    private func perform(_ actions: [WebSocketLifecycleMachine.Action], context: ChannelHandlerContext) {
        for action in actions {
            self.perform(action, context: context)
        }
    }

    private func perform(_ action: WebSocketLifecycleMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .sendPing:
            // A quiet session keeps no zlib windows (tens of KiB each); they come back on the next message.
            self.deflate?.releaseIdleMemory()
            self.writeFrame(opcode: .ping, payload: context.channel.allocator.buffer(capacity: 0), compress: false, context: context)
        case .sendClose(let code, let reason):
            let payload = code.map {
                WebSocketFrameEncoder.closePayload(code: $0, reason: reason, allocator: context.channel.allocator)
            } ?? context.channel.allocator.buffer(capacity: 0)
            self.writeFrame(opcode: .close, payload: payload, compress: false, context: context)
        case .flush:
            context.flush()
        case .flushAndReport:
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.writeAndFlush(self.wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                let handler = loopBound.value
                guard let context = handler.context else { return }
                handler.perform(handler.lifecycle.writesFlushed(), context: context)
            }
        case .schedule(let timer, let deadline):
            self.timers[timer]?.cancel()
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            self.timers[timer] = context.eventLoop.scheduleTask(deadline: deadline) {
                let handler = loopBound.value
                handler.timers[timer] = nil
                guard let context = handler.context else { return }
                handler.perform(handler.lifecycle.timerFired(timer, now: .now()), context: context)
            }
        case .closeTCP:
            context.close(promise: nil)
        case .slowConsumerCutOff:
            self.logger.info("Slow consumer cut off", metadata: ["ws.outbound_buffer_bytes": "\(self.server.configuration.rpc.outboundBufferBytes)"])
            EventMetrics.slowConsumers.increment()
            // Nothing more is queued for it: it resumes with `since` after reconnecting.
            self.session?.client.events.reset()
        case .drainDeadlinePassed:
            self.logger.info("Shutdown deadline passed with calls in flight", metadata: ["rpc.inflight": "\(self.lifecycle.callsInFlight)"])
        }
    }

    /// Fails the connection (RFC 6455 §7.1.7): a close frame with the code, then the TCP close.
    private func failConnection(_ code: WebSocketCloseCode, reason: String, context: ChannelHandlerContext) {
        self.perform(self.lifecycle.protocolFailure(code, reason: reason, now: .now()), context: context)
    }

    private func resumeReadingIfPossible(context: ChannelHandlerContext) {
        if self.lifecycle.releaseHeldRead() {
            context.read()
        }
    }
}
