import Handlers
import JSON
import JSONRPC
import Logging
import NIOCore
import NIOHTTP1
import RESTBridge
import WebSocketCore

/// Serves the HTTP/1.1 side of a connection until it upgrades to a WebSocket.
///
/// `/rpc` and `/echo` (when enabled) are upgrade targets; `/health` and `/openrpc.json` answer
/// directly; everything else is a JSON 404. A connection must deliver a complete request (head and
/// body) within the handshake timeout, and again after each response on a kept-alive connection: a
/// client that trickles bytes (slowloris) is cut off.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Waiting for a request head.
        case idle
        /// A head arrived that will be answered once its body has been read (and ignored).
        case pendingResponse(HTTPRequestHead, Route)
        /// The upgrade is accepted and happens at the end of the request.
        case pendingUpgrade(HTTPRequestHead, WebSocketEndpoint, HTTPHeaders, PerMessageDeflateParameters?)
        /// The request is complete and its bearer token is being checked; reads are paused.
        case authenticating
        /// The pipeline now belongs to the WebSocket handler.
        case upgraded
        /// The REST bridge has the request (every non-WebSocket path when it is configured).
        case bridged
    }

    private enum Route {
        case health
        case openRPC
        case reject(HTTPResponseStatus, HTTPHeaders, code: Int, message: String)
    }

    private let server: ServerContext
    private let connectionID: UInt64
    /// The server's logger with this connection's id; built when a record is logged, because a
    /// per-connection copy of the metadata would cost every idle connection a dictionary.
    private var logger: Logger {
        var logger = self.server.logger
        logger[metadataKey: "ws.connection.id"] = "\(self.connectionID)"
        return logger
    }
    private let responseEncoder: HTTPResponseEncoder
    private let requestDecoder: ByteToMessageHandler<HTTPRequestDecoder>
    private var state = State.idle
    private var headerTimeout: Scheduled<Void>?
    /// The server is shutting down: no keep-alive, no new upgrades.
    private var shuttingDown = false
    /// This connection's REST bridge state, made at its first REST request.
    private var rest: RESTConnection?

    init(
        server: ServerContext,
        connectionID: UInt64,
        responseEncoder: HTTPResponseEncoder,
        requestDecoder: ByteToMessageHandler<HTTPRequestDecoder>
    ) {
        self.server = server
        self.connectionID = connectionID
        self.responseEncoder = responseEncoder
        self.requestDecoder = requestDecoder
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.armHeaderTimeout(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.headerTimeout?.cancel()
        self.headerTimeout = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            if case .bridged = self.state {
                self.rest?.head(head, clientAddress: "", context: context)  // pipelined: the bridge closes
                return
            }
            // The timeout keeps running until the answer: it bounds a slow body as well as a slow head.
            guard case .idle = self.state else { return }
            self.route(head, context: context)
        case .body(let buffer):
            if case .bridged = self.state { self.rest?.body(buffer) }
        case .end:
            switch self.state {
            case .bridged:
                self.rest?.end()
            case .pendingResponse(let head, let route):
                self.state = .idle
                self.respond(to: head, route: route, context: context)
            case .pendingUpgrade(let head, _, _, _) where self.shuttingDown:
                self.state = .idle
                self.respond(
                    to: head, route: .reject(.serviceUnavailable, HTTPHeaders(), code: -32050, message: "Server shutting down"),
                    context: context
                )
            case .pendingUpgrade(let head, let endpoint, let headers, let deflate):
                self.authorize(head: head, endpoint: endpoint, headers: headers, deflate: deflate, context: context)
            case .idle, .upgraded, .authenticating:
                break
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.rest?.channelInactive()
        context.fireChannelInactive()
    }

    /// Shutdown: an idle connection closes now; one with a request in progress gets its answer, then closes.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ServerShutdownEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        self.shuttingDown = true
        if case .idle = self.state { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Malformed HTTP: answer 400 if nothing has been sent yet, then close.
        if case .idle = self.state, context.channel.isActive {
            self.logger.debug("Bad HTTP request", metadata: ["error": "\(error)"])
            var headers = HTTPHeaders()
            headers.add(name: "Connection", value: "close")
            self.writeJSONError(
                status: .badRequest, headers: headers, code: -32600, message: "Malformed HTTP request",
                response: Response(version: .http1_1, keepAlive: false, omitBody: false), context: context
            )
        } else {
            context.close(promise: nil)
        }
    }

    private func route(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let endpoint: WebSocketEndpoint?
        switch path {
        case "/rpc": endpoint = .rpc
        case "/echo" where self.server.configuration.enableEcho: endpoint = .echo
        default: endpoint = nil
        }

        if let endpoint {
            switch WebSocketHandshake.evaluate(head, configuration: self.server.handshake(for: endpoint)) {
            case .accept(let headers, _, let deflate):
                self.state = .pendingUpgrade(head, endpoint, headers, deflate)
            case .reject(let status, let headers, let reason):
                self.logger.debug("WebSocket handshake refused", metadata: ["http.status": "\(status.code)", "reason": "\(reason)"])
                self.state = .pendingResponse(head, .reject(status, headers, code: -32600, message: reason))
            }
            return
        }

        if let bridge = self.server.rest {
            // The bridge keeps its own body timeouts (uploads may take long but must not stall).
            self.headerTimeout?.cancel()
            self.headerTimeout = nil
            self.state = .bridged
            let connection = self.rest ?? bridge.makeConnection(connectionID: self.connectionID) { [unowned self] keepAlive in
                self.bridgedRequestDone(keepAlive: keepAlive, context: context)
            }
            self.rest = connection
            connection.head(head, clientAddress: self.clientAddress(head: head, context: context), context: context)
            return
        }

        let route: Route
        switch (head.method, path) {
        case (.GET, "/health"), (.HEAD, "/health"):
            route = .health
        case (.GET, "/openrpc.json"), (.HEAD, "/openrpc.json"):
            route = .openRPC
        case (_, "/health"), (_, "/openrpc.json"):
            var headers = HTTPHeaders()
            headers.add(name: "Allow", value: "GET, HEAD")
            route = .reject(.methodNotAllowed, headers, code: -32600, message: "Method not allowed")
        default:
            route = .reject(.notFound, HTTPHeaders(), code: -32004, message: "Not found")
        }
        self.state = .pendingResponse(head, route)
    }

    /// The bridge answered and keeps the connection: wait for the next request (or close, when
    /// shutting down).
    private func bridgedRequestDone(keepAlive: Bool, context: ChannelHandlerContext) {
        guard case .bridged = self.state else { return }
        self.state = .idle
        if self.shuttingDown || !keepAlive {
            context.close(promise: nil)
        } else {
            self.armHeaderTimeout(context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, route: Route, context: ChannelHandlerContext) {
        let response = Response(version: head.version, keepAlive: head.isKeepAlive && !self.shuttingDown, omitBody: head.method == .HEAD)
        switch route {
        case .health:
            self.write(
                status: .ok, headers: HTTPHeaders([("Content-Type", "application/json")]),
                body: Array(#"{"status":"ok"}"#.utf8), response: response, context: context
            )
        case .openRPC:
            self.write(
                status: .ok,
                headers: HTTPHeaders([("Content-Type", "application/json"), ("Cache-Control", "no-cache")]),
                body: self.server.openRPCDocument, response: response, context: context
            )
        case .reject(let status, let headers, let code, let message):
            self.writeJSONError(status: status, headers: headers, code: code, message: message, response: response, context: context)
        }
    }

    /// How the answer to one request is framed.
    private struct Response {
        var version: HTTPVersion
        var keepAlive: Bool
        var omitBody: Bool
    }

    private func writeJSONError(
        status: HTTPResponseStatus, headers: HTTPHeaders, code: Int, message: String,
        response: Response, context: ChannelHandlerContext
    ) {
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        let error: JSONValue = ["error": ["code": .number(JSONNumber(code)), "message": .string(message)]]
        let body = JSONWriter.serialize(error)
        self.write(status: status, headers: headers, body: body, response: response, context: context)
    }

    private func write(
        status: HTTPResponseStatus, headers: HTTPHeaders, body: [UInt8],
        response: Response, context: ChannelHandlerContext
    ) {
        var headers = headers
        let keepAlive = response.keepAlive && !headers.contains(name: "Connection")
        headers.replaceOrAdd(name: "Content-Length", value: "\(body.count)")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: response.version, status: status, headers: headers)
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        if !response.omitBody, !body.isEmpty {
            context.write(self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        if keepAlive {
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            self.armHeaderTimeout(context: context)
        } else {
            context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// Upgrades at once without an `Authorization` header; with one (on `/rpc`), upgrades signed in
    /// once the token checks out, or answers 401 (not a valid bearer token) or 503 (the check
    /// itself failed: the database is down). Reading pauses meanwhile; the handshake timeout keeps
    /// running, so a slow check cannot hold the connection forever.
    private func authorize(
        head: HTTPRequestHead, endpoint: WebSocketEndpoint, headers: HTTPHeaders,
        deflate: PerMessageDeflateParameters?, context: ChannelHandlerContext
    ) {
        let clientAddress = self.clientAddress(head: head, context: context)
        let authorization = head.headers["Authorization"]
        guard endpoint == .rpc, !authorization.isEmpty else {
            self.upgrade(head: head, endpoint: endpoint, headers: headers, deflate: deflate,
                         clientAddress: clientAddress, principal: nil, context: context)
            return
        }
        guard authorization.count == 1, let token = Self.bearerToken(authorization[0]) else {
            self.refuseUnauthorized(head: head, context: context)
            return
        }
        self.state = .authenticating
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        let bearer = self.server.sessions.bearer
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        Task {
            let outcome: Result<Principal?, any Error>
            do {
                outcome = .success(try await bearer(token))
            } catch {
                outcome = .failure(error)
            }
            eventLoop.execute {
                let (handler, context) = loopBound.value
                guard case .authenticating = handler.state, context.channel.isActive else { return }
                context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
                handler.state = .idle
                switch outcome {
                case .success(let principal?) where !handler.shuttingDown:
                    handler.upgrade(head: head, endpoint: endpoint, headers: headers, deflate: deflate,
                                    clientAddress: clientAddress, principal: principal, context: context)
                case .success(_?):
                    handler.respond(
                        to: head, route: .reject(.serviceUnavailable, HTTPHeaders(), code: -32050, message: "Server shutting down"),
                        context: context
                    )
                case .success(nil):
                    handler.refuseUnauthorized(head: head, context: context)
                case .failure(let error):
                    handler.logger.warning("Token check failed", metadata: ["error": "\(error)"])
                    handler.respond(
                        to: head, route: .reject(.serviceUnavailable, HTTPHeaders([("Retry-After", "1")]), code: -32050, message: "Service unavailable"),
                        context: context
                    )
                }
            }
        }
    }

    /// `Bearer <token>` (scheme case-insensitive, RFC 7235); nil for anything else.
    static func bearerToken(_ value: String) -> String? {
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingSpaces
        return token.isEmpty || token.contains(" ") ? nil : token
    }

    private func refuseUnauthorized(head: HTTPRequestHead, context: ChannelHandlerContext) {
        self.state = .idle
        let headers = HTTPHeaders([("WWW-Authenticate", #"Bearer realm="faros", error="invalid_token""#)])
        self.respond(to: head, route: .reject(.unauthorized, headers, code: -32001, message: "Invalid or expired token"), context: context)
    }

    /// The peer, or with trusted proxies the client they forwarded for.
    private func clientAddress(head: HTTPRequestHead, context: ChannelHandlerContext) -> String {
        let peer = context.channel.remoteAddress?.ipAddress ?? "unknown"
        let proxies = self.server.configuration.trustedProxies
        guard !proxies.isEmpty else { return peer }
        return proxies.clientAddress(peer: peer, forwardedFor: head.headers["X-Forwarded-For"])
    }

    private func upgrade(
        head: HTTPRequestHead, endpoint: WebSocketEndpoint, headers: HTTPHeaders,
        deflate: PerMessageDeflateParameters?, clientAddress: String, principal: Principal?,
        context: ChannelHandlerContext
    ) {
        self.state = .upgraded
        let response = HTTPResponseHead(version: head.version, status: .switchingProtocols, headers: headers)
        context.write(self.wrapOutboundOut(.head(response)), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)

        let webSocket = WebSocketHandler(
            server: self.server, endpoint: endpoint, connectionID: self.connectionID,
            deflate: deflate, clientAddress: clientAddress, principal: principal
        )
        // Order matters: the WebSocket handler must be in place before the request decoder is removed,
        // because removing it forwards any bytes that followed the request (the first frames).
        do {
            let pipeline = context.pipeline.syncOperations
            try pipeline.addHandler(webSocket, position: .after(self))
            pipeline.removeHandler(self.responseEncoder, promise: nil)
            pipeline.removeHandler(context: context, promise: nil)
            pipeline.removeHandler(self.requestDecoder, promise: nil)
            // The decoder forwards the leftover bytes from a task of its own, outside any read batch,
            // so no channelReadComplete flushes what the WebSocket handler answers to them. This task
            // is queued after that one.
            let channel = context.channel
            context.eventLoop.execute { channel.flush() }
        } catch {
            self.logger.error("WebSocket upgrade failed", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    private func armHeaderTimeout(context: ChannelHandlerContext) {
        self.headerTimeout?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        self.headerTimeout = context.eventLoop.scheduleTask(in: TimeAmount(self.server.configuration.timeouts.handshake)) {
            loopBound.value.close(promise: nil)
        }
    }
}
