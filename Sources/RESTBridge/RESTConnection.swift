import BlobStore
import Handlers
import JSON
import JSONRPC
public import NIOCore
public import NIOHTTP1

/// The bridge's side of one HTTP connection: takes the request parts the server's HTTP handler
/// forwards for non-WebSocket paths, runs the route, and writes the answer through the same
/// channel handler context. Lives on the connection's event loop; every call comes from it.
///
/// Request bodies: an upload streams through ``MultipartUpload`` into a ``BlobWriter`` with
/// backpressure (reading pauses while the staged bytes wait for the store); other bodies are
/// kept up to ``RESTConfiguration/maxFormBytes``. A body that stalls past
/// ``RESTConfiguration/bodyIdleTimeout`` (or, for small requests, does not complete within it)
/// closes the connection and removes any partial blob. After an error in the middle of a body,
/// the rest of the body is read and dropped for a moment so that the client sees the answer.
public final class RESTConnection {
    private let bridge: RESTBridge
    private let connectionID: UInt64
    private let done: (Bool) -> Void
    private var context: ChannelHandlerContext?
    private var state = State.idle
    private var request: RESTRequest?
    private var version = HTTPVersion.http1_1
    private var keepAlive = true
    private var corsOrigin: String?
    private var lastActivity = NIODeadline.now()
    private var requestDeadline: NIODeadline?
    private var watchdog: RepeatedTask?

    private enum State {
        case idle
        /// Reading a small body; the route runs at its end.
        case collecting(ByteBuffer, limit: Int)
        /// An upload's body streams into the blob store.
        case uploading(UploadState)
        /// The route is running or the answer is being written.
        case answering
        /// A download streams from the blob store.
        case streaming(DownloadState)
        /// After an early answer: the rest of the body is dropped, then the connection closes.
        case discarding(until: NIODeadline)
        case closed
    }

    final class UploadState {
        enum Target { case taskFile(taskID: Int64), avatar }
        let target: Target
        let upload: MultipartUpload
        var principal: Principal?
        var writer: (any BlobWriter)?
        /// Body parts that arrived before the writer was ready (reading is paused meanwhile).
        var early: [ByteBuffer] = []
        var writeInFlight = false
        var bodyEnded = false
        var paused = false
        var finishing = false

        init(target: Target, upload: MultipartUpload) {
            self.target = target
            self.upload = upload
        }
    }

    final class DownloadState {
        let key: String
        var offset: Int64
        var remaining: Int64
        var readInFlight = false
        var writesInFlight = 0
        init(key: String, offset: Int64, remaining: Int64) {
            self.key = key
            self.offset = offset
            self.remaining = remaining
        }
    }

    init(bridge: RESTBridge, connectionID: UInt64, done: @escaping (Bool) -> Void) {
        self.bridge = bridge
        self.connectionID = connectionID
        self.done = done
    }

    // MARK: Events from the HTTP handler

    public func head(_ head: HTTPRequestHead, clientAddress: String, context: ChannelHandlerContext) {
        guard case .idle = state else {
            // A pipelined request before the answer: not supported, the connection closes.
            close()
            return
        }
        self.context = context
        self.version = head.version
        self.keepAlive = head.isKeepAlive
        self.lastActivity = .now()
        self.requestDeadline = .now() + TimeAmount(bridge.configuration.bodyIdleTimeout)
        self.startWatchdog()
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts.first.map(String.init) ?? ""
        let origin = head.headers.first(name: "Origin")
        corsOrigin = origin.flatMap { bridge.isAllowed(origin: $0) ? $0 : nil }

        guard let route = RESTRoute.match(path: path) else {
            respondAfterBody(.error(RPCError(.notFound, message: "Not found")))
            return
        }
        let request = RESTRequest(method: head.method, route: route, query: QueryString(parts.count > 1 ? parts[1] : nil),
                                  headers: head.headers, clientAddress: clientAddress)
        self.request = request

        if head.method == .OPTIONS {
            respondAfterBody(preflight(route: route, origin: origin, headers: head.headers))
            return
        }
        guard route.methods.contains(head.method) else {
            var response = RESTResponse.error(RPCError(.methodNotFound, message: "Method not allowed"))
            response.headers.add(name: "Allow", value: (route.methods + [.OPTIONS]).map(\.rawValue).joined(separator: ", "))
            respondAfterBody(response)
            return
        }
        // A state-changing request from a page on another origin is refused (the reset form
        // and uploads must come from the app or the server's own pages).
        if let origin, corsOrigin == nil, [.POST, .DELETE].contains(head.method) {
            _ = origin
            respondAfterBody(.error(RPCError(.forbidden, message: "Origin not allowed")))
            return
        }
        switch (route, head.method) {
        case (.taskFiles(let taskID), .POST):
            startUpload(.taskFile(taskID: taskID), head: head, request: request)
        case (.myAvatar, .POST):
            startUpload(.avatar, head: head, request: request)
        default:
            if let length = head.headers.first(name: "Content-Length").flatMap(Int.init), length > bridge.configuration.maxFormBytes {
                fail(RPCError(.tooLarge, message: "Request body too large", data: ["limit": .number(JSONNumber(bridge.configuration.maxFormBytes))]))
                return
            }
            state = .collecting(context.channel.allocator.buffer(capacity: 0), limit: bridge.configuration.maxFormBytes)
        }
    }

    public func body(_ buffer: ByteBuffer) {
        lastActivity = .now()
        switch state {
        case .collecting(var body, let limit):
            guard body.readableBytes + buffer.readableBytes <= limit else {
                fail(RPCError(.tooLarge, message: "Request body too large", data: ["limit": .number(JSONNumber(limit))]))
                return
            }
            var buffer = buffer
            state = .answering  // no copy-on-write of the collected body
            body.writeBuffer(&buffer)
            state = .collecting(body, limit: limit)
        case .uploading(let upload):
            if upload.writer == nil {
                upload.early.append(buffer)
            } else {
                feed(upload, buffer)
            }
        case .discarding, .idle, .answering, .streaming, .closed:
            break
        }
    }

    public func end() {
        lastActivity = .now()
        switch state {
        case .collecting(let body, _):
            state = .answering
            if let response = pendingResponse {
                pendingResponse = nil
                send(response)
                return
            }
            guard let request else { return }
            run(request: request, body: body)
        case .uploading(let upload):
            upload.bodyEnded = true
            requestDeadline = nil
            if upload.writer != nil { pumpUpload(upload) }
        case .discarding:
            close()
        case .idle, .answering, .streaming, .closed:
            break
        }
    }

    public func channelInactive() {
        let previous = state
        state = .closed
        watchdog?.cancel()
        watchdog = nil
        if case .uploading(let upload) = previous, let writer = upload.writer, !upload.finishing {
            // The client went away mid-upload: nothing is left behind.
            _ = writer.abort()
        }
    }

    // MARK: Answers

    /// Answers once the (ignored) body has arrived.
    private func respondAfterBody(_ response: RESTResponse) {
        pendingResponse = response
        state = .collecting(ByteBuffer(), limit: bridge.configuration.maxFormBytes)
    }

    private var pendingResponse: RESTResponse?

    private func run(request: RESTRequest, body: ByteBuffer) {
        let bridge = self.bridge
        perform({ await bridge.answer(request, body: body) }) { connection, outcome in
            connection.deliver(outcome)
        }
    }

    private func deliver(_ outcome: RESTOutcome) {
        switch outcome {
        case .response(let response):
            send(response)
        case .stream(let response, let key, let offset, let length):
            guard request?.method != .HEAD, length > 0 else {
                var response = response
                response.headers.replaceOrAdd(name: "Content-Length", value: "\(length)")
                send(response, declaredLength: length)
                return
            }
            writeHead(response, contentLength: length)
            let download = DownloadState(key: key, offset: offset, remaining: length)
            state = .streaming(download)
            pumpDownload(download)
        }
    }

    private func preflight(route: RESTRoute, origin: String?, headers: HTTPHeaders) -> RESTResponse {
        let methods = (route.methods + [.OPTIONS]).map(\.rawValue).joined(separator: ", ")
        guard origin != nil else {
            var response = RESTResponse(status: .noContent)
            response.headers.add(name: "Allow", value: methods)
            return response
        }
        guard corsOrigin != nil else { return .error(RPCError(.forbidden, message: "Origin not allowed")) }
        var response = RESTResponse(status: .noContent)
        response.headers.add(name: "Access-Control-Allow-Methods", value: methods)
        response.headers.add(name: "Access-Control-Allow-Headers", value: "Authorization, Content-Type, Range, If-None-Match, If-Range")
        response.headers.add(name: "Access-Control-Max-Age", value: "600")
        return response
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
        if close || !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        return headers
    }

    private func writeHead(_ response: RESTResponse, contentLength: Int64) {
        guard let context else { return }
        let head = HTTPResponseHead(version: version, status: response.status,
                                    headers: finalHeaders(response.headers, contentLength: contentLength, close: response.close))
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
    }

    /// Writes a whole answer, then goes idle (keep-alive) or closes.
    private func send(_ response: RESTResponse, declaredLength: Int64? = nil) {
        guard let context, context.channel.isActive else { return }
        let omitBody = request?.method == .HEAD || response.status == .notModified || response.status == .noContent
        let length = declaredLength ?? (response.status == .noContent || response.status == .notModified ? 0 : Int64(response.body.count))
        writeHead(response, contentLength: length)
        if !omitBody, !response.body.isEmpty {
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        finishResponse(close: response.close)
    }

    private func finishResponse(close: Bool) {
        guard let context else { return }
        let keep = keepAlive && !close
        let future = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
        watchdog?.cancel()
        watchdog = nil
        request = nil
        if keep {
            state = .idle
            done(true)
        } else if case .discarding = state {
            // Closed once the body ends or the deadline passes.
            startWatchdog()
        } else {
            state = .closed
            future.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// An error while the request body is still arriving: answer now (with `Connection:
    /// close`), drop the rest of the body for a moment, then close.
    private func fail(_ error: RPCError) {
        if case .uploading(let upload) = state, let writer = upload.writer { _ = writer.abort() }
        var response = RESTResponse.error(error)
        response.close = true
        state = .discarding(until: .now() + .seconds(2))
        resumeReading()
        send(response)
    }

    private func close() {
        state = .closed
        watchdog?.cancel()
        watchdog = nil
        context?.close(promise: nil)
    }

    // MARK: Uploads

    private func startUpload(_ target: UploadState.Target, head: HTTPRequestHead, request: RESTRequest) {
        let limit = target == .avatar ? Int64(Domain.maxAvatarBytes) : bridge.configuration.maxUploadBytes
        let boundary: String
        do {
            boundary = try MultipartUpload.boundary(contentType: head.headers.first(name: "Content-Type"))
        } catch {
            fail(error)
            return
        }
        if let length = head.headers.first(name: "Content-Length").flatMap(Int64.init), length > limit + MultipartUpload.overheadBytes {
            fail(RPCError(.tooLarge, message: "File too large", data: ["limit": .number(JSONNumber(limit))]))
            return
        }
        let allowed = target == .avatar ? Domain.avatarTypes : Set(ContentSniffer.allowedTypes)
        let upload = UploadState(target: target, upload: MultipartUpload(
            boundary: boundary, maxFileBytes: limit, allowedTypes: allowed, chunkCapacity: bridge.configuration.uploadChunkBytes
        ))
        state = .uploading(upload)
        requestDeadline = nil
        pauseReading(upload)
        let bridge = self.bridge
        guard let eventLoop = context?.eventLoop else { return }
        perform({ () async -> Result<ReadyUpload, RPCError> in
            do {
                let principal = try await bridge.principal(request)
                if case .taskFile(let taskID) = target {
                    try await bridge.domain.authorizeUpload(taskID: taskID, userID: principal.userID)
                }
                let writer = try await bridge.blobs.makeWriter(eventLoop: eventLoop).get()
                return .success(ReadyUpload(principal: principal, writer: writer))
            } catch {
                return .failure(bridge.rpcError(error, request))
            }
        }) { connection, result in
            guard case .uploading(let current) = connection.state, current === upload else {
                if case .success(let ready) = result { _ = ready.writer.abort() }
                return
            }
            switch result {
            case .failure(let error):
                connection.fail(error)
            case .success(let ready):
                upload.principal = ready.principal
                upload.writer = ready.writer
                let early = upload.early
                upload.early = []
                for buffer in early { connection.feed(upload, buffer) }
                guard case .uploading = connection.state else { return }
                connection.resumeReading(upload)
                if upload.bodyEnded { connection.pumpUpload(upload) }
            }
        }
    }

    struct ReadyUpload: @unchecked Sendable {
        // The writer is a Sendable class; the struct only carries it across the task boundary.
        var principal: Principal
        var writer: any BlobWriter
    }

    private func feed(_ upload: UploadState, _ buffer: ByteBuffer) {
        do {
            try upload.upload.feed(buffer)
        } catch {
            fail(error)
            return
        }
        pumpUpload(upload)
    }

    /// Sends staged bytes to the store one write at a time; pauses reading while a full chunk
    /// waits, and finishes once the body has ended and everything is written.
    private func pumpUpload(_ upload: UploadState) {
        guard case .uploading(let current) = state, current === upload, let writer = upload.writer else { return }
        let chunkSize = bridge.configuration.uploadChunkBytes
        if !upload.writeInFlight, let chunk = upload.upload.takeChunk(minimum: upload.bodyEnded ? 0 : chunkSize) {
            upload.writeInFlight = true
            let bytes = chunk.readableBytes
            writer.write(chunk).assumeIsolated().whenComplete { [self] result in
                upload.writeInFlight = false
                switch result {
                case .success:
                    self.bridge.uploadBytes.increment(by: Int64(bytes))
                    self.lastActivity = .now()
                    self.pumpUpload(upload)
                case .failure(let error):
                    self.bridge.logger.error("Blob write failed", metadata: ["error": "\(error)"])
                    self.fail(RPCError(.unavailable, message: "File storage unavailable"))
                }
            }
        }
        if upload.upload.stagedBytes >= chunkSize {
            pauseReading(upload)
        } else {
            resumeReading(upload)
        }
        if upload.bodyEnded, !upload.writeInFlight, upload.upload.stagedBytes == 0, !upload.finishing {
            finishUpload(upload, writer: writer)
        }
    }

    private func finishUpload(_ upload: UploadState, writer: any BlobWriter) {
        upload.finishing = true
        let file: (filename: String, contentType: String, size: Int64)
        do {
            file = try upload.upload.finish()
        } catch {
            _ = writer.abort()
            upload.finishing = false
            upload.writer = nil
            state = .answering
            sendError(error)
            return
        }
        state = .answering
        guard let principal = upload.principal, let request else { return }
        let bridge = self.bridge
        let target = upload.target
        let commit = writer.commit()
        let key = writer.key
        perform({ () async -> RESTResponse in
            do {
                try await commit.get()
            } catch {
                bridge.logger.error("Blob commit failed", metadata: ["error": "\(error)"])
                return .error(RPCError(.unavailable, message: "File storage unavailable"))
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
        }) { connection, response in
            connection.send(response)
        }
    }

    private func sendError(_ error: RPCError) {
        send(.error(error))
    }

    private func pauseReading(_ upload: UploadState) {
        guard !upload.paused, let context else { return }
        upload.paused = true
        try? context.channel.syncOptions?.setOption(.autoRead, value: false)
    }

    private func resumeReading(_ upload: UploadState) {
        guard upload.paused else { return }
        upload.paused = false
        resumeReading()
    }

    private func resumeReading() {
        guard let context else { return }
        try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        context.read()
    }

    // MARK: Downloads

    /// One read ahead of the writes, at most two writes outstanding: the socket's pace sets
    /// the store's, and memory stays at a few chunks per download.
    private func pumpDownload(_ download: DownloadState) {
        guard case .streaming(let current) = state, current === download, let context else { return }
        if download.remaining == 0 {
            if download.writesInFlight == 0, !download.readInFlight { finishResponse(close: false) }
            return
        }
        guard !download.readInFlight, download.writesInFlight < 2 else { return }
        download.readInFlight = true
        let length = Int(min(Int64(bridge.configuration.downloadChunkBytes), download.remaining))
        bridge.blobs.read(key: download.key, offset: download.offset, length: length, eventLoop: context.eventLoop)
            .assumeIsolated().whenComplete { [self] result in
                download.readInFlight = false
                guard case .streaming(let current) = self.state, current === download else { return }
                switch result {
                case .success(let chunk) where chunk.readableBytes > 0:
                    download.offset += Int64(chunk.readableBytes)
                    download.remaining -= Int64(chunk.readableBytes)
                    download.writesInFlight += 1
                    self.bridge.downloadBytes.increment(by: Int64(chunk.readableBytes))
                    context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(chunk)))).assumeIsolated().whenComplete { _ in
                        download.writesInFlight -= 1
                        self.lastActivity = .now()
                        self.pumpDownload(download)
                    }
                    self.pumpDownload(download)
                case .success, .failure:
                    // The blob is shorter than its row says, or the store failed: the head is
                    // out, so the only honest signal left is to cut the connection.
                    if case .failure(let error) = result {
                        self.bridge.logger.error("Blob read failed", metadata: ["blob.key": "\(download.key)", "error": "\(error)"])
                    }
                    self.close()
                }
            }
    }

    // MARK: Timers and tasks

    /// Checks once a second for a stalled body, an unfinished small request, a stalled
    /// download and the end of a discard period.
    private func startWatchdog() {
        guard watchdog == nil, let context else { return }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        watchdog = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            bound.value.tick()
        }
    }

    private func tick() {
        let now = NIODeadline.now()
        let idle = TimeAmount(bridge.configuration.bodyIdleTimeout)
        switch state {
        case .collecting:
            if let deadline = requestDeadline, now > deadline { close() }
        case .uploading(let upload):
            if upload.writer != nil, !upload.writeInFlight, now - lastActivity > idle {
                bridge.logger.debug("Upload stalled; abandoned")
                _ = upload.writer?.abort()
                upload.writer = nil
                close()
            }
        case .streaming:
            if now - lastActivity > idle * 6 { close() }
        case .discarding(let until):
            if now > until { close() }
        case .idle, .answering, .closed:
            break
        }
    }

    /// Runs `work` off the event loop, then `then` back on it (if the connection is still
    /// there to answer).
    private func perform<T: Sendable>(_ work: @escaping @Sendable () async -> T, then: @escaping (RESTConnection, T) -> Void) {
        guard let context else { return }
        let eventLoop = context.eventLoop
        let bound = NIOLoopBound((connection: self, then: then), eventLoop: eventLoop)
        Task {
            let value = await work()
            eventLoop.execute {
                let (connection, then) = bound.value
                guard case .closed = connection.state else {
                    then(connection, value)
                    return
                }
            }
        }
    }
}

extension RESTConnection.UploadState.Target: Equatable {}
