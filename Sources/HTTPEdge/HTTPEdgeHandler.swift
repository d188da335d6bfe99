import JSONRPC
import Logging
import NIOCore
import NIOHTTP1

/// Serves the HTTP/1.1 side of one connection: routes each request by the route table, carries
/// out upgrades, forwards everything else to the responder, and owns the connection's timers.
///
/// A connection must deliver a request head within the handshake timeout, and again after each
/// answer on a kept-alive connection (a client that trickles bytes is cut off); an upgrade
/// request must be complete within it. An answer that ends the connection (its head says
/// `Connection: close`) is flushed for at most the close timeout before the socket closes. If
/// the request body is still arriving then, the rest is read and dropped for a moment first, so
/// that the client sees the answer instead of a reset.
final class HTTPEdgeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPEdgeRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Waiting for a request head.
        case idle
        /// An upgrade path's request; the decision is carried out at the end of the request.
        case upgrading(HTTPRequestHead, HTTPUpgradeDecision)
        /// An upgrader's check runs off the loop; reads are paused.
        case checking(HTTPRequestHead)
        /// The edge answers this request itself once its body has been read (and ignored).
        case answering(HTTPRequestHead, HTTPStaticResponse)
        /// The responder has the request.
        case forwarding(Exchange)
        /// An answer that closes went out before the request's end: its body is dropped until
        /// the end arrives or the deadline passes, then the connection closes.
        case discarding
        /// The pipeline belongs to the protocol the connection switched to.
        case upgraded
        /// The last answer is being flushed; the connection closes when it is, or at the deadline.
        case closing
    }

    /// One request in the responder's hands.
    private struct Exchange {
        var requestEnded = false
        var responseEnded = false
        /// The answer's head said `Connection: close` (or the server is shutting down).
        var closeAfter = false
    }

    /// How long the rest of a body is dropped after an early answer that closes the connection.
    private static let discardPeriod = TimeAmount.seconds(2)

    private let routes: HTTPRouteTable
    private let configuration: HTTPEdgeConfiguration
    private let connectionID: UInt64
    private let baseLogger: Logger
    /// The logger with this connection's id; built when a record is logged, because a
    /// per-connection copy of the metadata would cost every idle connection a dictionary.
    private var logger: Logger {
        var logger = self.baseLogger
        logger[metadataKey: "ws.connection.id"] = "\(self.connectionID)"
        return logger
    }
    private let responseEncoder: HTTPResponseEncoder
    private let requestDecoder: ByteToMessageHandler<HTTPRequestDecoder>
    private var state = State.idle
    private var timer: Scheduled<Void>?
    private var responderAdded = false
    /// The server is shutting down: no keep-alive, no new upgrades.
    private var shuttingDown = false

    init(
        routes: HTTPRouteTable, configuration: HTTPEdgeConfiguration, connectionID: UInt64, logger: Logger,
        responseEncoder: HTTPResponseEncoder, requestDecoder: ByteToMessageHandler<HTTPRequestDecoder>
    ) {
        self.routes = routes
        self.configuration = configuration
        self.connectionID = connectionID
        self.baseLogger = logger
        self.responseEncoder = responseEncoder
        self.requestDecoder = requestDecoder
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.arm(TimeAmount(self.configuration.handshakeTimeout), context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.cancelTimer()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.receive(head, context: context)
        case .body(let buffer):
            if case .forwarding(let exchange) = self.state, !exchange.requestEnded {
                context.fireChannelRead(self.wrapInboundOut(.body(buffer)))
            }
        case .end:
            self.requestEnded(context: context)
        }
    }

    private func receive(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard case .idle = self.state else {
            // Pipelining is not supported: a second request before the first one's answer
            // would be answered out of order by the responder, so the connection ends instead.
            if case .forwarding = self.state { self.closeNow(context: context) }
            return
        }
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let info = HTTPRequestInfo(connectionID: self.connectionID, clientAddress: self.clientAddress(head: head, context: context))
        if let upgrader = self.routes.upgrades[path] {
            // The handshake timeout keeps running until the answer: it bounds the whole request.
            switch upgrader.decide(head, info: info) {
            case .refuse(let refusal):
                self.logger.debug("Upgrade refused", metadata: ["http.status": "\(refusal.status.code)", "reason": "\(refusal.error.message)"])
                self.state = .answering(head, HTTPStaticResponse(refusal))
            case let decision:
                self.state = .upgrading(head, decision)
            }
            return
        }
        for responder in self.routes.staticResponders {
            if let response = responder.respond(to: head) {
                self.state = .answering(head, response)
                return
            }
        }
        guard let makeResponder = self.routes.responder else {
            self.state = .answering(head, HTTPStaticResponse(HTTPRefusal(RPCError(.notFound, message: "Not found"))))
            return
        }
        // The responder keeps its own body timeouts: uploads may take long but must not stall.
        self.cancelTimer()
        if !self.responderAdded {
            do {
                try context.pipeline.syncOperations.addHandler(makeResponder(), position: .after(self))
                self.responderAdded = true
            } catch {
                self.logger.error("Responder could not be added", metadata: ["error": "\(error)"])
                self.closeNow(context: context)
                return
            }
        }
        self.state = .forwarding(Exchange())
        context.fireChannelRead(self.wrapInboundOut(.head(head, info)))
    }

    private func requestEnded(context: ChannelHandlerContext) {
        switch self.state {
        case .forwarding(var exchange):
            exchange.requestEnded = true
            self.state = .forwarding(exchange)
            context.fireChannelRead(self.wrapInboundOut(.end))
            // The responder may have answered before the end (and kept the connection).
            if case .forwarding(let current) = self.state, current.responseEnded { self.answered(context: context) }
        case .discarding:
            self.closeNow(context: context)
        case .answering(let head, let response):
            self.answer(head, response, context: context)
        case .upgrading(let head, let decision):
            self.carryOut(decision, head: head, context: context)
        case .idle, .checking, .upgraded, .closing:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.cancelTimer()
        context.fireChannelInactive()
    }

    /// Shutdown: an idle connection closes now; one with a request in progress gets its answer, then closes.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ServerShutdownEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        self.shuttingDown = true
        if case .idle = self.state { self.closeNow(context: context) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Malformed HTTP: answer 400 if nothing has been sent yet, then close.
        guard case .idle = self.state, context.channel.isActive else {
            self.closeNow(context: context)
            return
        }
        self.logger.debug("Bad HTTP request", metadata: ["error": "\(error)"])
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["Connection": "close"])
        self.answer(head, HTTPStaticResponse(HTTPRefusal(RPCError(.invalidRequest, message: "Malformed HTTP request"))), context: context)
    }

    // MARK: Outbound (the responder's answers pass through here)

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .forwarding(var exchange) = self.state else {
            context.write(data, promise: promise)
            return
        }
        switch self.unwrapOutboundIn(data) {
        case .head(var head):
            exchange.closeAfter = Self.closes(head.headers) || self.shuttingDown
            if self.shuttingDown, !Self.closes(head.headers) {
                head.headers.replaceOrAdd(name: "Connection", value: "close")
            }
            self.state = .forwarding(exchange)
            context.write(self.wrapOutboundOut(.head(head)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            exchange.responseEnded = true
            self.state = .forwarding(exchange)
            if exchange.closeAfter {
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.cascade(to: promise)
                context.write(data, promise: written)
                if exchange.requestEnded {
                    self.close(afterFlushOf: written.futureResult, context: context)
                } else {
                    self.state = .discarding
                    self.arm(Self.discardPeriod, context: context)
                }
            } else {
                context.write(data, promise: promise)
                if exchange.requestEnded { self.answered(context: context) }
            }
        }
    }

    /// The responder's answer is out and the connection stays: wait for the next request.
    private func answered(context: ChannelHandlerContext) {
        self.state = .idle
        self.arm(TimeAmount(self.configuration.handshakeTimeout), context: context)
    }

    private static func closes(_ headers: HTTPHeaders) -> Bool {
        headers[canonicalForm: "connection"].contains { $0.lowercased() == "close" }
    }

    // MARK: The edge's own answers

    private func carryOut(_ decision: HTTPUpgradeDecision, head: HTTPRequestHead, context: ChannelHandlerContext) {
        if self.shuttingDown {
            self.answer(head, HTTPStaticResponse(HTTPRefusal(.unavailable(message: "Server shutting down"))), context: context)
            return
        }
        switch decision {
        case .upgrade(let headers, let makeHandler):
            self.upgrade(head: head, headers: headers, handler: makeHandler(), context: context)
        case .refuse(let refusal):
            self.answer(head, HTTPStaticResponse(refusal), context: context)
        case .check(let check):
            self.state = .checking(head)
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            Task {
                let decision = await check()
                eventLoop.execute {
                    let (handler, context) = loopBound.value
                    guard case .checking = handler.state, context.channel.isActive else { return }
                    context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
                    handler.carryOut(decision, head: head, context: context)
                }
            }
        }
    }

    private func answer(_ head: HTTPRequestHead, _ response: HTTPStaticResponse, context: ChannelHandlerContext) {
        var headers = response.headers
        let keepAlive = head.isKeepAlive && !self.shuttingDown && !Self.closes(headers)
        let bodyless = response.status == .notModified || response.status == .noContent
        headers.replaceOrAdd(name: "Content-Length", value: "\(bodyless ? 0 : response.body.readableBytes)")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))), promise: nil)
        if head.method != .HEAD, !bodyless, response.body.readableBytes > 0 {
            context.write(self.wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        let written = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if keepAlive {
            self.answered(context: context)
        } else {
            self.close(afterFlushOf: written, context: context)
        }
    }

    private func upgrade(head: HTTPRequestHead, headers: HTTPHeaders, handler: any ChannelHandler, context: ChannelHandlerContext) {
        self.state = .upgraded
        self.cancelTimer()
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .switchingProtocols, headers: headers))), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        // Order matters: the new handler must be in place before the request decoder is removed,
        // because removing it forwards any bytes that followed the request (the first frames).
        do {
            let pipeline = context.pipeline.syncOperations
            try pipeline.addHandler(handler, position: .after(self))
            pipeline.removeHandler(self.responseEncoder, promise: nil)
            pipeline.removeHandler(context: context, promise: nil)
            pipeline.removeHandler(self.requestDecoder, promise: nil)
            // The decoder forwards the leftover bytes from a task of its own, outside any read batch,
            // so no channelReadComplete flushes what the new handler answers to them. This task
            // is queued after that one.
            let channel = context.channel
            context.eventLoop.execute { channel.flush() }
        } catch {
            self.logger.error("Upgrade failed", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    /// The peer, or with trusted proxies the client they forwarded for.
    private func clientAddress(head: HTTPRequestHead, context: ChannelHandlerContext) -> String {
        let peer = context.channel.remoteAddress?.ipAddress ?? "unknown"
        let proxies = self.configuration.trustedProxies
        guard !proxies.isEmpty else { return peer }
        return proxies.clientAddress(peer: peer, forwardedFor: head.headers["X-Forwarded-For"])
    }

    // MARK: Closing and timers

    /// Closes once `flushed` completes, or at the close timeout if the peer does not read.
    private func close(afterFlushOf flushed: EventLoopFuture<Void>, context: ChannelHandlerContext) {
        self.state = .closing
        self.arm(TimeAmount(self.configuration.closeTimeout), context: context)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        flushed.whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    private func closeNow(context: ChannelHandlerContext) {
        self.state = .closing
        self.cancelTimer()
        context.close(promise: nil)
    }

    /// One timer at a time: the handshake timeout, the discard period or the close deadline;
    /// whichever it is, when it fires the connection closes.
    private func arm(_ delay: TimeAmount, context: ChannelHandlerContext) {
        self.timer?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        self.timer = context.eventLoop.scheduleTask(in: delay) {
            loopBound.value.close(promise: nil)
        }
    }

    private func cancelTimer() {
        self.timer?.cancel()
        self.timer = nil
    }
}
