import BlobStore
import Handlers
public import HTTPEdge
import JSON
import JSONRPC
public import NIOCore
public import NIOHTTP1

/// The bridge's handler on one connection, behind the HTTP edge: it reads the request parts the
/// edge forwards for non-WebSocket paths, runs the route, and writes the answer.
///
/// Request bodies: an upload streams through an ``UploadPump`` into the blob store; other bodies
/// are kept up to ``RESTConfiguration/maxFormBytes``. A body that stalls past
/// ``RESTConfiguration/bodyIdleTimeout`` (or, for small requests, does not complete within it)
/// closes the connection and removes any partial blob; an upload that falls behind its
/// ``UploadPace`` is answered 408 and its partial blob removed. An error in the middle of a body is
/// answered at once with `Connection: close`; the edge then drops the rest of the body for a
/// moment and closes. Downloads stream through a ``DownloadPump``.
public final class RESTResponder: ChannelInboundHandler {
    public typealias InboundIn = HTTPEdgeRequestPart
    public typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// Reading a small body; the route (or an answer decided at the head) runs at its end.
        case collecting(ByteBuffer, limit: Int, answer: RESTResponse?)
        /// An upload's body streams into the blob store.
        case uploading(UploadPump)
        /// The route is running or the answer is being written.
        case answering
        /// A download streams from the blob store.
        case streaming(DownloadPump)
        case closed
    }

    private let bridge: RESTBridge
    private var context: ChannelHandlerContext?
    private var state = State.idle
    private var request: RESTRequest?
    private var version = HTTPVersion.http1_1
    private var keepAlive = true
    private var corsOrigin: String?
    private var lastActivity = NIODeadline.now()
    private var requestDeadline: NIODeadline?
    private var watchdog: RepeatedTask?
    /// Who is uploading, once the bearer token checked out.
    private var uploader: Principal?
    /// The current upload's deadline and rate, until its body has ended.
    private var uploadPace: UploadPace?

    init(bridge: RESTBridge) {
        self.bridge = bridge
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.stopWatchdog()
        self.context = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.lastActivity = self.now
        switch self.unwrapInboundIn(data) {
        case .head(let head, let info): self.head(head, info: info, context: context)
        case .body(let buffer): self.body(buffer)
        case .end: self.end()
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        let previous = self.state
        self.state = .closed
        self.stopWatchdog()
        switch previous {
        case .uploading(let upload): upload.abort()  // the client went away mid-upload: nothing is left behind
        case .streaming(let download): download.stop()
        default: break
        }
        context.fireChannelInactive()
    }

    // MARK: Requests

    private func head(_ head: HTTPRequestHead, info: HTTPRequestInfo, context: ChannelHandlerContext) {
        self.version = head.version
        self.keepAlive = head.isKeepAlive
        self.requestDeadline = self.now + TimeAmount(self.bridge.configuration.bodyIdleTimeout)
        self.startWatchdog(context: context)
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let origin = head.headers.first(name: "Origin")
        self.corsOrigin = origin.flatMap { self.bridge.isAllowed(origin: $0, host: head.headers["Host"]) ? $0 : nil }

        guard let route = RESTRoute.match(path: parts.first.map(String.init) ?? "") else {
            self.answerAfterBody(.error(RPCError(.notFound, message: "Not found")))
            return
        }
        let request = RESTRequest(method: head.method, route: route, query: QueryString(parts.count > 1 ? parts[1] : nil),
                                  headers: head.headers, clientAddress: info.clientAddress, connectionID: info.connectionID)
        self.request = request
        if head.method == .OPTIONS {
            self.answerAfterBody(self.preflight(route: route, origin: origin))
            return
        }
        guard route.methods.contains(head.method) else {
            var response = RESTResponse.error(RPCError(.methodNotFound, message: "Method not allowed"))
            response.headers.add(name: "Allow", value: (route.methods + [.OPTIONS]).map(\.rawValue).joined(separator: ", "))
            self.answerAfterBody(response)
            return
        }
        // A state-changing request from a page on another origin is refused (the reset form
        // and uploads must come from the app or the server's own pages).
        if origin != nil, self.corsOrigin == nil, [.POST, .DELETE].contains(head.method) {
            self.answerAfterBody(.error(RPCError(.forbidden, message: "Origin not allowed")))
            return
        }
        switch (route, head.method) {
        case (.taskFiles(let taskID), .POST):
            self.startUpload(.taskFile(taskID: taskID), head: head, request: request, context: context)
        case (.myAvatar, .POST):
            self.startUpload(.avatar, head: head, request: request, context: context)
        default:
            let limit = self.bridge.configuration.maxFormBytes
            if let length = head.headers.first(name: "Content-Length").flatMap(Int.init), length > limit {
                self.fail(.tooLarge(limit: limit, message: "Request body too large"))
                return
            }
            self.state = .collecting(context.channel.allocator.buffer(capacity: 0), limit: limit, answer: nil)
        }
    }

    private func body(_ buffer: ByteBuffer) {
        switch self.state {
        case .collecting(var body, let limit, let answer):
            guard body.readableBytes + buffer.readableBytes <= limit else {
                self.fail(.tooLarge(limit: limit, message: "Request body too large"))
                return
            }
            var buffer = buffer
            self.state = .answering  // no copy-on-write of the collected body
            body.writeBuffer(&buffer)
            self.state = .collecting(body, limit: limit, answer: answer)
        case .uploading(let upload):
            self.uploadPace?.receive(buffer.readableBytes)
            upload.receive(buffer)
        case .idle, .answering, .streaming, .closed:
            break
        }
    }

    private func end() {
        switch self.state {
        case .collecting(_, _, let answer?):
            self.state = .answering
            self.send(answer)
        case .collecting(let body, _, nil):
            self.state = .answering
            guard let request = self.request else { return }
            let bridge = self.bridge
            self.perform({ await bridge.answer(request, body: body) }) { responder, outcome in
                responder.deliver(outcome)
            }
        case .uploading(let upload):
            self.requestDeadline = nil
            self.uploadPace = nil
            upload.bodyEnd()
        case .idle, .answering, .streaming, .closed:
            break
        }
    }

    /// Answers once the (ignored) body has arrived.
    private func answerAfterBody(_ response: RESTResponse) {
        self.state = .collecting(ByteBuffer(), limit: self.bridge.configuration.maxFormBytes, answer: response)
    }

    private func preflight(route: RESTRoute, origin: String?) -> RESTResponse {
        let methods = (route.methods + [.OPTIONS]).map(\.rawValue).joined(separator: ", ")
        guard origin != nil else {
            var response = RESTResponse(status: .noContent)
            response.headers.add(name: "Allow", value: methods)
            return response
        }
        guard self.corsOrigin != nil else { return .error(RPCError(.forbidden, message: "Origin not allowed")) }
        var response = RESTResponse(status: .noContent)
        response.headers.add(name: "Access-Control-Allow-Methods", value: methods)
        response.headers.add(name: "Access-Control-Allow-Headers", value: "Authorization, Content-Type, Range, If-None-Match, If-Range")
        response.headers.add(name: "Access-Control-Max-Age", value: "600")
        return response
    }

    // MARK: Answers

    private func deliver(_ outcome: RESTOutcome) {
        switch outcome {
        case .response(let response):
            self.send(response)
        case .stream(let response, let key, let offset, let length):
            guard self.request?.method != .HEAD, length > 0, let context else {
                self.send(response, declaredLength: length)
                return
            }
            self.writeHead(response, contentLength: length)
            let eventLoop = context.eventLoop
            let download = DownloadPump(
                key: key, offset: offset, length: length, chunkBytes: self.bridge.configuration.downloadChunkBytes,
                blobs: self.bridge.blobs,
                owner: .init(
                    write: { [unowned self] chunk in
                        self.bridge.downloadBytes.increment(by: Int64(chunk.readableBytes))
                        return context.writeAndFlush(self.wrapOutboundOut(.body(.byteBuffer(chunk)))).map { self.lastActivity = self.now }
                    },
                    complete: { [unowned self] in self.finishResponse(close: false) },
                    fail: { [unowned self] error in
                        if let error {
                            self.bridge.logger.error("Blob read failed", metadata: ["blob.key": "\(key)", "error": "\(error)"])
                        }
                        self.close()
                    }
                )
            )
            self.state = .streaming(download)
            download.pump(eventLoop: eventLoop)
        }
    }

    /// The headers every answer carries.
    private func finalHeaders(_ headers: HTTPHeaders, contentLength: Int64, close: Bool) -> HTTPHeaders {
        var headers = headers
        headers.replaceOrAdd(name: "Content-Length", value: "\(contentLength)")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        if let corsOrigin {
            headers.replaceOrAdd(name: "Access-Control-Allow-Origin", value: corsOrigin)
            headers.add(name: "Vary", value: "Origin")
            headers.replaceOrAdd(name: "Access-Control-Expose-Headers",
                                 value: "Content-Disposition, Content-Range, Content-Length, ETag, Retry-After, WWW-Authenticate")
        }
        if close || !self.keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        return headers
    }

    private func writeHead(_ response: RESTResponse, contentLength: Int64) {
        guard let context else { return }
        let headers = self.finalHeaders(response.headers, contentLength: contentLength, close: response.close)
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: self.version, status: response.status, headers: headers))), promise: nil)
    }

    /// Writes a whole answer; the edge keeps the connection or closes it, as its head says.
    private func send(_ response: RESTResponse, declaredLength: Int64? = nil) {
        guard let context, context.channel.isActive else { return }
        let bodyless = response.status == .noContent || response.status == .notModified
        let length = declaredLength ?? (bodyless ? 0 : Int64(response.body.count))
        self.writeHead(response, contentLength: length)
        if self.request?.method != .HEAD, !bodyless, !response.body.isEmpty {
            context.write(self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        self.finishResponse(close: response.close)
    }

    private func finishResponse(close: Bool) {
        guard let context else { return }
        self.stopWatchdog()
        self.request = nil
        self.uploader = nil
        self.uploadPace = nil
        self.state = .idle
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// An error while the request body is still arriving: answer now, with `Connection: close`.
    private func fail(_ error: RPCError) {
        if case .uploading(let upload) = self.state { upload.abort() }
        self.uploadPace = nil
        if let underlying = error.underlying {
            self.bridge.logger.error("Upload failed", metadata: ["error": "\(underlying)"])
        }
        var response = RESTResponse.error(error)
        response.close = true
        self.state = .answering
        self.setAutoRead(true)
        self.send(response)
    }

    private func close() {
        self.state = .closed
        self.stopWatchdog()
        self.context?.close(promise: nil)
    }

    private func setAutoRead(_ on: Bool) {
        guard let context else { return }
        try? context.channel.syncOptions?.setOption(.autoRead, value: on)
        if on { context.read() }
    }

    // MARK: Uploads

    private func startUpload(_ target: UploadPump.Target, head: HTTPRequestHead, request: RESTRequest, context: ChannelHandlerContext) {
        let limit = target == .avatar ? Int64(Domain.maxAvatarBytes) : self.bridge.configuration.maxUploadBytes
        let boundary: String
        do {
            boundary = try MultipartUpload.boundary(contentType: head.headers.first(name: "Content-Type"))
        } catch {
            self.fail(error)
            return
        }
        if let length = head.headers.first(name: "Content-Length").flatMap(Int64.init), length > limit + MultipartUpload.overheadBytes {
            self.fail(.tooLarge(limit: Int(limit), message: "File too large"))
            return
        }
        let allowed = target == .avatar ? Domain.avatarTypes : Set(ContentSniffer.allowedTypes)
        let parser = MultipartUpload(
            boundary: boundary, maxFileBytes: limit, allowedTypes: allowed, chunkCapacity: self.bridge.configuration.uploadChunkBytes
        )
        let upload = UploadPump(
            target: target, parser: parser, chunkBytes: self.bridge.configuration.uploadChunkBytes,
            owner: .init(
                pauseReading: { [unowned self] in self.setAutoRead(false) },
                resumeReading: { [unowned self] in self.setAutoRead(true) },
                fail: { [unowned self] error in self.fail(error) },
                stored: { [unowned self] bytes in
                    self.bridge.uploadBytes.increment(by: Int64(bytes))
                    self.lastActivity = self.now
                },
                complete: { [unowned self] file, writer in self.finishUpload(target: target, file: file, writer: writer) }
            )
        )
        self.state = .uploading(upload)
        self.requestDeadline = nil
        self.uploadPace = UploadPace(configuration: self.bridge.configuration, start: self.now)
        upload.start()
        let bridge = self.bridge
        let eventLoop = context.eventLoop
        self.perform({ () async -> Result<ReadyUpload, RPCError> in
            do {
                let principal = try await bridge.principal(request)
                switch target {
                case .taskFile(let taskID): try await bridge.domain.authorizeUpload(taskID: taskID, userID: principal.userID)
                case .avatar: try await bridge.domain.authorizeAvatarUpload(userID: principal.userID)
                }
                let writer = try await bridge.blobs.makeWriter(eventLoop: eventLoop).get()
                return .success(ReadyUpload(principal: principal, writer: writer))
            } catch {
                return .failure(bridge.rpcError(error, request))
            }
        }) { responder, result in
            guard case .uploading(let current) = responder.state, current === upload else {
                if case .success(let ready) = result { _ = ready.writer.abort() }
                return
            }
            switch result {
            case .failure(let error):
                responder.fail(error)
            case .success(let ready):
                responder.uploader = ready.principal
                upload.ready(writer: ready.writer)
            }
        }
    }

    struct ReadyUpload: @unchecked Sendable {
        // The writer is a Sendable class; the struct only carries it across the task boundary.
        var principal: Principal
        var writer: any BlobWriter
    }

    /// The body is stored: make the blob durable, then record it (a file row or the avatar).
    private func finishUpload(
        target: UploadPump.Target, file: (filename: String, contentType: String, size: Int64), writer: any BlobWriter
    ) {
        self.state = .answering
        guard let request = self.request, let principal = self.uploader else { return }
        let bridge = self.bridge
        let commit = writer.commit()
        let key = writer.key
        self.perform({ () async -> RESTResponse in
            do {
                try await commit.get()
            } catch BlobStoreError.full {
                return .error(.unavailable(retryAfterMs: 60_000, message: "File storage is full"))
            } catch {
                bridge.logger.error("Blob commit failed", metadata: ["error": "\(error)"])
                return .error(.unavailable(message: "File storage unavailable"))
            }
            do {
                switch target {
                case .taskFile(let taskID):
                    let record = try await bridge.domain.attachFile(NewFile(
                        taskID: taskID, filename: file.filename, size: file.size, contentType: file.contentType,
                        storageKey: key, etag: "\"\(key)\"", uploadedBy: principal.userID, uploadedAt: Timestamp(milliseconds: 0)
                    ))
                    return try .json(.created, encoding: record)
                case .avatar:
                    let url = try await bridge.domain.replaceAvatar(userID: principal.userID, AvatarRecord(
                        storageKey: key, contentType: file.contentType, size: file.size, etag: "\"\(key)\""
                    ))
                    bridge.janitor.wake()
                    return .json(.ok, ["avatarUrl": .string(url)])
                }
            } catch {
                // No row names the blob: remove it now (a failure here leaves an orphan that
                // only costs space; it is logged).
                do { try await bridge.blobs.delete(key: key) } catch {
                    bridge.logger.warning("Orphan blob left after a failed upload", metadata: ["blob.key": "\(key)"])
                }
                return .error(bridge.rpcError(error, request))
            }
        }) { responder, response in
            responder.send(response)
        }
    }

    // MARK: Timers and tasks

    /// Checks once a second for a stalled body, an upload behind its pace, an unfinished small
    /// request and a stalled download.
    private func startWatchdog(context: ChannelHandlerContext) {
        guard self.watchdog == nil else { return }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.watchdog = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            bound.value.tick()
        }
    }

    /// The event loop's clock (the real one, or a test's that it moves by hand).
    private var now: NIODeadline {
        self.context?.eventLoop.now ?? .now()
    }

    private func stopWatchdog() {
        self.watchdog?.cancel()
        self.watchdog = nil
    }

    private func tick() {
        let now = self.now
        let idle = TimeAmount(self.bridge.configuration.bodyIdleTimeout)
        switch self.state {
        case .collecting:
            if let deadline = self.requestDeadline, now > deadline { self.close() }
        case .uploading(let upload):
            let waitingForClient = upload.writer != nil && !upload.writeInFlight
            if waitingForClient, now - self.lastActivity > idle {
                self.bridge.logger.debug("Upload stalled; abandoned")
                upload.abort()
                self.close()
            } else if let breach = self.uploadPace?.check(now: now, waitingForClient: waitingForClient) {
                self.bridge.logger.debug("Upload too slow; refused", metadata: ["reason": "\(breach.message)"])
                self.fail(breach)
            }
        case .streaming:
            if now - self.lastActivity > idle * 6 { self.close() }
        case .idle, .answering, .closed:
            break
        }
    }

    /// Runs `work` off the event loop, then `then` back on it (if the connection is still
    /// there to answer).
    private func perform<T: Sendable>(_ work: @escaping @Sendable () async -> T, then: @escaping (RESTResponder, T) -> Void) {
        guard let context else { return }
        let eventLoop = context.eventLoop
        let bound = NIOLoopBound((responder: self, then: then), eventLoop: eventLoop)
        Task {
            let value = await work()
            eventLoop.execute {
                let (responder, then) = bound.value
                if case .closed = responder.state { return }
                then(responder, value)
            }
        }
    }
}
