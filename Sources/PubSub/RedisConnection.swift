import CHiredis

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One blocking hiredis connection: the only place that touches hiredis and its C pointers.
///
/// Not `Sendable` and not thread-safe, like hiredis' `redisContext`: one thread uses it at a
/// time (the client's pool hands a connection to one worker; the bus's subscriber connection
/// lives on its own thread). Every call blocks, so never call one on an event loop.
///
/// Commands are argv arrays of bytes (`redisCommandArgv`), so keys and payloads are binary-safe:
/// NUL bytes and megabytes are fine.
public final class RedisConnection {
    /// Bytes one `readAvailable()` takes from the socket at most.
    ///
    /// 256 KiB: hiredis' own `redisBufferRead` reads 16 KiB per call, so a 100 KB message
    /// cost seven poll/read rounds; this takes a burst of small messages or a large one whole.
    static let readChunk = 256 * 1024

    /// Unused reader buffer hiredis keeps between replies (its default frees anything over
    /// 16 KiB, so every large message grew a fresh buffer from nothing).
    static let readerRetainedBytes = 1 << 20

    private let context: UnsafeMutablePointer<redisContext>
    private var closed = false
    /// Set when a read of our own failed (hiredis' `err` only covers its own calls).
    private var readFailure: RedisError?
    /// Allocated on the first `readAvailable()`; only the subscriber connection reads that way.
    private var readBuffer: UnsafeMutableRawBufferPointer?

    /// Connects, then authenticates (`AUTH [user] password`) and selects the database.
    ///
    /// - Throws: `RedisError` of kind `connection` when Redis cannot be reached within
    ///   `configuration.connectTimeout`, `handshake` when it refuses AUTH or SELECT.
    public init(configuration: RedisConfiguration) throws(RedisError) {
        self.context = try Self.withoutSIGPIPE { () throws(RedisError) in try Self.open(configuration) }
    }

    private static func open(_ configuration: RedisConfiguration) throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        let url = configuration.url
        guard let context = redisConnectWithTimeout(url.host, Int32(url.port), Self.makeTimeval(configuration.connectTimeout)) else {
            throw RedisError(kind: .connection, message: "hiredis could not allocate a connection")
        }
        if context.pointee.err != 0 {
            let reason = Self.errorString(context)
            redisFree(context)
            throw RedisError(kind: .connection, message: "cannot connect to Redis: \(reason)")
        }
        // Bounds every later read and write (SO_RCVTIMEO / SO_SNDTIMEO on the blocking socket).
        _ = redisSetTimeout(context, Self.makeTimeval(configuration.commandTimeout))
        _ = redisEnableKeepAlive(context)
        do throws(RedisError) {
            if let password = url.password {
                var auth: [[UInt8]] = [Array("AUTH".utf8)]
                if let username = url.username { auth.append(Array(username.utf8)) }
                auth.append(Array(password.utf8))
                if case .error(let message) = try Self.command(auth, on: context) {
                    throw RedisError(kind: .handshake, message: "Redis refused the credentials: \(message)")
                }
            }
            if url.database != 0 {
                if case .error(let message) = try Self.command([Array("SELECT".utf8), Array(String(url.database).utf8)], on: context) {
                    throw RedisError(kind: .handshake, message: "Redis refused SELECT \(url.database): \(message)")
                }
            }
        } catch {
            redisFree(context)
            throw error
        }
        context.pointee.reader.pointee.maxbuf = readerRetainedBytes
        #if canImport(Darwin)
        var on: Int32 = 1
        _ = setsockopt(context.pointee.fd, SOL_SOCKET, SO_NOSIGPIPE, &on, socklen_t(MemoryLayout<Int32>.size))
        #endif
        return context
    }

    deinit {
        close()
    }

    /// Closes the socket and frees the context; later calls throw `closed`.
    public func close() {
        guard !closed else { return }
        closed = true
        redisFree(context)
        readBuffer?.deallocate()
        readBuffer = nil
    }

    /// Whether the connection can no longer be used (closed, or hiredis saw an I/O or protocol
    /// error, after which its state is undefined).
    public var isBroken: Bool {
        closed || readFailure != nil || context.pointee.err != 0
    }

    /// The socket, for `poll()` by the owner of the connection.
    public var fileDescriptor: Int32 {
        closed ? -1 : context.pointee.fd
    }

    /// Sends one command and waits for its reply. An error reply is returned as `.error`, not
    /// thrown: the connection is still usable.
    ///
    /// - Throws: `RedisError` of kind `connection` or `protocolViolation`; the connection is then
    ///   broken.
    public func command(_ arguments: [[UInt8]]) throws(RedisError) -> RedisReply {
        try requireOpen()
        let context = self.context
        return try Self.withoutSIGPIPE { () throws(RedisError) in try Self.command(arguments, on: context) }
    }

    /// Queues a command in the output buffer without sending it (pipelining).
    public func append(_ arguments: [[UInt8]]) throws(RedisError) {
        try requireOpen()
        let status = Self.withArgv(arguments) { argc, argv, lengths in
            redisAppendCommandArgv(context, argc, argv, lengths)
        }
        if status != REDIS_OK { throw Self.failure(context) }
    }

    /// Writes the whole output buffer (blocking).
    public func flush() throws(RedisError) {
        try requireOpen()
        let context = self.context
        try Self.withoutSIGPIPE { () throws(RedisError) in
            var done: Int32 = 0
            repeat {
                if redisBufferWrite(context, &done) != REDIS_OK { throw Self.failure(context) }
            } while done == 0
        }
    }

    /// Flushes the output buffer, then blocks until the next reply has arrived.
    public func readReply() throws(RedisError) -> RedisReply {
        try requireOpen()
        let context = self.context
        return try Self.withoutSIGPIPE { () throws(RedisError) in
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw Self.failure(context) }
            defer { freeReplyObject(raw) }
            return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
        }
    }

    /// Reads what the socket holds (up to 256 KiB) and feeds it to hiredis' reply parser: one
    /// `read()`, which blocks only when nothing is there, so call it once `poll()` says the
    /// socket is readable.
    ///
    /// - Throws: `connection` on EOF (the server closed the connection) or an I/O error.
    public func readAvailable() throws(RedisError) {
        try requireOpen()
        let buffer: UnsafeMutableRawBufferPointer
        if let existing = readBuffer {
            buffer = existing
        } else {
            buffer = .allocate(byteCount: Self.readChunk, alignment: 16)
            readBuffer = buffer
        }
        var count: Int
        repeat {
            count = read(context.pointee.fd, buffer.baseAddress, buffer.count)
        } while count < 0 && errno == EINTR
        if count < 0, errno == EAGAIN || errno == EWOULDBLOCK {
            let failure = RedisError(kind: .timeout, message: "Redis did not answer within the command timeout")
            readFailure = failure
            throw failure
        }
        guard count > 0 else {
            let failure = count == 0
                ? RedisError(kind: .connection, message: "Redis closed the connection")
                : RedisError(kind: .connection, message: "Redis connection failed: errno \(errno)")
            readFailure = failure
            throw failure
        }
        if redisReaderFeed(context.pointee.reader, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), count) != REDIS_OK {
            let failure = RedisError(kind: .protocolViolation, message: "Redis protocol error: the reply parser refused its input")
            readFailure = failure
            throw failure
        }
    }

    /// The next complete reply already in hiredis' buffer, or nil; never touches the socket.
    public func bufferedReply() throws(RedisError) -> RedisReply? {
        try requireOpen()
        var raw: UnsafeMutableRawPointer?
        guard redisGetReplyFromReader(context, &raw) == REDIS_OK else { throw Self.failure(context) }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    private func requireOpen() throws(RedisError) {
        if closed { throw RedisError(kind: .closed, message: "the Redis connection is closed") }
        if let readFailure { throw readFailure }
        if context.pointee.err != 0 { throw Self.failure(context) }
    }

    private static func command(_ arguments: [[UInt8]], on context: UnsafeMutablePointer<redisContext>) throws(RedisError) -> RedisReply {
        let raw = withArgv(arguments) { argc, argv, lengths in
            redisCommandArgv(context, argc, argv, lengths)
        }
        guard let raw else { throw failure(context) }
        defer { freeReplyObject(raw) }
        return convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Runs `body`, which may write to the socket, so that a write to a connection the peer reset
    /// fails with EPIPE instead of raising SIGPIPE, whose default action ends the process.
    ///
    /// hiredis 0.14 writes with plain `write()` (no `MSG_NOSIGNAL`), and nothing in the process
    /// ignores SIGPIPE, so on Linux the signal is blocked on this thread for the call (a SIGPIPE
    /// raised by a write is directed at the writing thread) and one left pending is consumed
    /// before the old mask returns. A thread that already blocks SIGPIPE pays one syscall. On
    /// Darwin the socket has `SO_NOSIGPIPE` instead.
    private static func withoutSIGPIPE<R>(_ body: () throws(RedisError) -> R) throws(RedisError) -> R {
        #if os(Linux)
        var pipeOnly = sigset_t()
        sigemptyset(&pipeOnly)
        sigaddset(&pipeOnly, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeOnly, &previous)
        guard sigismember(&previous, SIGPIPE) == 0 else { return try body() }
        defer {
            var pending = sigset_t()
            if sigpending(&pending) == 0, sigismember(&pending, SIGPIPE) == 1 {
                var noWait = timespec(tv_sec: 0, tv_nsec: 0)
                _ = sigtimedwait(&pipeOnly, nil, &noWait)
            }
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        #endif
        return try body()
    }

    /// Calls `body` with pointers to every argument's bytes, all valid at once and none copied.
    private static func withArgv<R>(
        _ arguments: [[UInt8]],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        var pointers = [UnsafePointer<CChar>?](repeating: nil, count: arguments.count)
        let lengths = arguments.map(\.count)
        // An empty array may have no storage; hiredis still wants a valid pointer for length 0.
        let placeholder: [CChar] = [0]
        return placeholder.withUnsafeBufferPointer { empty in
            func bind(_ index: Int) -> R {
                if index == arguments.count {
                    return pointers.withUnsafeMutableBufferPointer { argv in
                        lengths.withUnsafeBufferPointer { lengths in
                            body(Int32(arguments.count), argv.baseAddress!, lengths.baseAddress!)
                        }
                    }
                }
                return arguments[index].withUnsafeBufferPointer { bytes in
                    pointers[index] = bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) } ?? empty.baseAddress!
                    return bind(index + 1)
                }
            }
            return bind(0)
        }
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            return .bulk(bytes(value.str, value.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(value.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                if let element = value.element[index] {
                    elements.append(convert(element))
                } else {
                    elements.append(.null)
                }
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> [UInt8] {
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    private static func failure(_ context: UnsafeMutablePointer<redisContext>) -> RedisError {
        // Read right after the failed call: hiredis set its error from errno and returned.
        let code = errno
        let reason = errorString(context)
        switch context.pointee.err {
        case REDIS_ERR_IO where code == EAGAIN || code == EWOULDBLOCK:
            return RedisError(kind: .timeout, message: "Redis did not answer within the command timeout")
        case REDIS_ERR_PROTOCOL, REDIS_ERR_OOM:
            return RedisError(kind: .protocolViolation, message: "Redis protocol error: \(reason)")
        case REDIS_ERR_EOF:
            return RedisError(kind: .connection, message: "Redis closed the connection")
        default:
            return RedisError(kind: .connection, message: reason.isEmpty ? "Redis connection failed" : "Redis connection failed: \(reason)")
        }
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func makeTimeval(_ duration: Duration) -> timeval {
        let (seconds, attoseconds) = duration.components
        let microseconds = max(0, attoseconds / 1_000_000_000_000)
        return timeval(tv_sec: .init(max(0, seconds)), tv_usec: .init(microseconds))
    }
}
