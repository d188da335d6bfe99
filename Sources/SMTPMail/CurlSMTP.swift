#if canImport(Glibc)
import Glibc
#endif
import CCurl
import Synchronization

/// One blocking SMTP exchange through libcurl: the only file that touches curl's handles and
/// pointers. Runs on a thread-pool thread (the caller's job); a handle lives for one exchange,
/// so nothing is shared between concurrent sends.
enum CurlSMTP {
    /// Everything one exchange needs, copied out of the configuration so the thread-pool closure
    /// captures plain values.
    struct Request: Sendable {
        var url: String
        var username: String?
        var password: String?
        var security: SMTPConfiguration.TransportSecurity
        var caFile: String?
        var connectTimeoutMilliseconds: Int
        var timeoutMilliseconds: Int
        /// `<addr>` or `<>`, already validated (see ``Envelope``).
        var mailFrom: String
        var recipient: String
        var message: [UInt8]

        init(configuration: SMTPConfiguration, localName: String?, mailFrom: String, recipient: String, message: [UInt8]) {
            let scheme = configuration.security == .implicitTLS ? "smtps" : "smtp"
            // The URL's path is the EHLO name; without one libcurl uses gethostname().
            self.url = "\(scheme)://\(configuration.urlHost):\(configuration.port)/" + (localName ?? "")
            self.username = configuration.username
            self.password = configuration.password
            self.security = configuration.security
            self.caFile = configuration.caFile
            self.connectTimeoutMilliseconds = Self.milliseconds(configuration.connectTimeout)
            self.timeoutMilliseconds = Self.milliseconds(configuration.timeout)
            self.mailFrom = mailFrom
            self.recipient = recipient
            self.message = message
        }

        /// At least 1 ms: 0 would mean "no timeout" to libcurl.
        static func milliseconds(_ duration: Duration) -> Int {
            let (seconds, attoseconds) = duration.components
            let total = seconds.multipliedReportingOverflow(by: 1000)
            guard !total.overflow else { return Int.max }
            return max(1, Int(total.partialValue + attoseconds / 1_000_000_000_000_000))
        }
    }

    /// Ends a running exchange from outside its thread: on task cancellation, or when the
    /// exchange's deadline passes.
    ///
    /// libcurl 7.88 applies CURLOPT_TIMEOUT to the exchange but not to the QUIT it sends from
    /// curl_easy_cleanup: there it waits for the server's answer with no overall limit (its
    /// response timeout is 120 s), and a server stalled in DATA answers nothing. The progress
    /// callback is not called then either, so it cannot notice cancellation. Instead the
    /// exchange's sockets are registered here as libcurl opens them, and ``abort(_:)`` (or
    /// ``hangUp()`` after a failed exchange) shuts them down: libcurl's poll wakes up to a dead
    /// connection and gives up at once. libcurl closes its sockets through us too, under the
    /// same lock, so a shutdown can never hit a descriptor that has been closed and reused.
    final class Watchdog: Sendable {
        enum Reason: Sendable { case cancelled, deadline }
        private struct State {
            var sockets: [Int32] = []
            var reason: Reason? = nil
            var started: ContinuousClock.Instant? = nil
        }
        private let state = Mutex(State())

        /// Shuts the exchange's sockets down; the first reason given is the one reported.
        func abort(_ reason: Reason) {
            self.state.withLock { state in
                if state.reason == nil { state.reason = reason }
                for fd in state.sockets { _ = shutdown(fd, Int32(SHUT_RDWR)) }
            }
        }

        var reason: Reason? { self.state.withLock { $0.reason } }

        /// Shuts the sockets down without recording a reason: after a failed exchange, so that
        /// libcurl's cleanup does not wait for the answer to a polite QUIT (which it does with
        /// no overall timeout, and which a stalled server never sends).
        fileprivate func hangUp() {
            self.state.withLock { state in
                for fd in state.sockets { _ = shutdown(fd, Int32(SHUT_RDWR)) }
            }
        }

        /// When the exchange began on its pool thread (nil while still queued): the deadline
        /// counts from here, so time spent waiting for a free thread is not held against it.
        var started: ContinuousClock.Instant? { self.state.withLock { $0.started } }

        fileprivate func start() { self.state.withLock { $0.started = .now } }

        /// A socket libcurl just opened; false when the exchange was already aborted.
        fileprivate func register(_ fd: Int32) -> Bool {
            self.state.withLock { state in
                state.sockets.append(fd)
                return state.reason == nil
            }
        }

        fileprivate func close(_ fd: Int32) -> Int32 {
            self.state.withLock { state in
                state.sockets.removeAll { $0 == fd }
                return Glibc.close(fd)
            }
        }
    }

    /// curl_global_init is not thread-safe: first touched from ``SMTPTransport``'s initializer.
    static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    /// Most bytes of the relay's latest reply kept for the error message.
    private static let replyLimit = 512

    /// What the callbacks reach through their user pointer, owned by ``perform(_:cancellation:)``
    /// for the length of the exchange (so the unretained pointer stays valid).
    private final class Context {
        let message: [UInt8]
        var offset = 0
        let watchdog: Watchdog
        /// Set once we sent QUIT: libcurl's goodbye after a failure must not replace the reply
        /// that caused it.
        var quitting = false
        /// The lines of the relay's latest reply (what libcurl reports as CURLINFO_HEADER_IN).
        var reply: [UInt8] = []
        /// True once we sent something the relay has not answered yet: a reply code seen before
        /// that is stale, so a failure then is the connection's, not a refusal. Starts true: we
        /// wait for the greeting.
        var awaitingReply = true

        init(message: [UInt8], watchdog: Watchdog) {
            self.message = message
            self.watchdog = watchdog
        }
    }

    /// Runs the exchange; returns once the relay accepted the message (250 after DATA).
    static func perform(_ request: Request, watchdog: Watchdog) throws {
        watchdog.start()
        let context = Context(message: request.message, watchdog: watchdog)
        guard globalInit, let handle = curl_easy_init() else {
            throw SMTPError(kind: .transient, cause: .other, message: "curl init failed")
        }
        // The cleanup still calls back (QUIT goes out and the socket is closed when the cached
        // connection is dropped), so the context must outlive it.
        defer { withExtendedLifetime(context) { curl_easy_cleanup(handle) } }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        defer { errorBuffer.deallocate() }
        let recipients: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, request.recipient)
        defer { curl_slist_free_all(recipients) }
        guard recipients != nil else { throw SMTPError(kind: .transient, cause: .other, message: "curl slist failed") }

        let user = Unmanaged.passUnretained(context).toOpaque()
        let useSSL: Int
        switch request.security {
        case .implicitTLS, .startTLSRequired: useSSL = Int(CURLUSESSL_ALL.rawValue)
        case .startTLSIfOffered: useSSL = Int(CURLUSESSL_TRY.rawValue)
        case .plaintext: useSSL = Int(CURLUSESSL_NONE.rawValue)
        }
        var ok = true
        ok = ok && faros_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer) == CURLE_OK
        ok = ok && faros_curl_setopt_string(handle, CURLOPT_URL, request.url) == CURLE_OK
        ok = ok && faros_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "smtp,smtps") == CURLE_OK
        ok = ok && faros_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1) == CURLE_OK
        ok = ok && faros_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMilliseconds) == CURLE_OK
        ok = ok && faros_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, request.timeoutMilliseconds) == CURLE_OK
        ok = ok && faros_curl_setopt_long(handle, CURLOPT_USE_SSL, useSSL) == CURLE_OK
        if let caFile = request.caFile {
            ok = ok && faros_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) == CURLE_OK
        }
        if let username = request.username, let password = request.password {
            // Separate options, not the URL's userinfo: no re-encoding, and no password in the URL.
            ok = ok && faros_curl_setopt_string(handle, CURLOPT_USERNAME, username) == CURLE_OK
            ok = ok && faros_curl_setopt_string(handle, CURLOPT_PASSWORD, password) == CURLE_OK
        }
        ok = ok && faros_curl_setopt_string(handle, CURLOPT_MAIL_FROM, request.mailFrom) == CURLE_OK
        ok = ok && faros_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients) == CURLE_OK
        ok = ok && faros_curl_setopt_long(handle, CURLOPT_UPLOAD, 1) == CURLE_OK
        ok = ok && faros_curl_setopt_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.message.count)) == CURLE_OK
        ok = ok && faros_curl_setopt_pointer(handle, CURLOPT_READDATA, user) == CURLE_OK
        ok = ok && faros_curl_setopt_data_callback(handle, CURLOPT_READFUNCTION, { buffer, size, count, user in
            guard let buffer, let user else { return Int(CURL_READFUNC_ABORT) }
            let context = Unmanaged<Context>.fromOpaque(user).takeUnretainedValue()
            let n = min(size * count, context.message.count - context.offset)
            if n > 0 {
                context.message.withUnsafeBytes { bytes in
                    guard let base = bytes.baseAddress else { return }
                    UnsafeMutableRawPointer(buffer).copyMemory(from: base + context.offset, byteCount: n)
                }
                context.offset += n
            }
            return n
        }) == CURLE_OK
        // Every socket goes through the watchdog, so that it can be shut down from outside.
        ok = ok && faros_curl_setopt_pointer(handle, CURLOPT_SOCKOPTDATA, user) == CURLE_OK
        ok = ok && faros_curl_setopt_sockopt_callback(handle, { user, fd, _ in
            guard let user else { return CURL_SOCKOPT_OK }
            let context = Unmanaged<Context>.fromOpaque(user).takeUnretainedValue()
            return context.watchdog.register(fd) ? CURL_SOCKOPT_OK : CURL_SOCKOPT_ERROR
        }) == CURLE_OK
        ok = ok && faros_curl_setopt_pointer(handle, CURLOPT_CLOSESOCKETDATA, user) == CURLE_OK
        ok = ok && faros_curl_setopt_closesocket_callback(handle, { user, fd in
            guard let user else { return Glibc.close(fd) }
            let context = Unmanaged<Context>.fromOpaque(user).takeUnretainedValue()
            return context.watchdog.close(fd)
        }) == CURLE_OK
        // The debug callback sees the protocol lines; only the relay's replies are kept (our
        // commands include AUTH's credentials, and DATA_OUT is the message body).
        ok = ok && faros_curl_setopt_long(handle, CURLOPT_VERBOSE, 1) == CURLE_OK
        ok = ok && faros_curl_setopt_pointer(handle, CURLOPT_DEBUGDATA, user) == CURLE_OK
        ok = ok && faros_curl_setopt_debug_callback(handle, { _, type, data, size, user in
            guard let user else { return 0 }
            let context = Unmanaged<Context>.fromOpaque(user).takeUnretainedValue()
            if context.quitting { return 0 }
            if type == CURLINFO_HEADER_IN {
                if context.awaitingReply {
                    context.reply.removeAll(keepingCapacity: true)
                    context.awaitingReply = false
                }
                if let data {
                    let room = max(0, CurlSMTP.replyLimit - context.reply.count)
                    context.reply += UnsafeRawBufferPointer(start: data, count: min(size, room))
                }
            } else if type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT {
                // Only the command word is looked at; the line itself (AUTH data!) is not kept.
                if type == CURLINFO_HEADER_OUT, let data, size >= 4,
                   UnsafeRawBufferPointer(start: data, count: 4).elementsEqual("QUIT".utf8) {
                    context.quitting = true
                    return 0
                }
                context.awaitingReply = true
            }
            return 0
        }) == CURLE_OK
        guard ok else { throw SMTPError(kind: .transient, cause: .other, message: "curl setopt failed") }

        let code = curl_easy_perform(handle)
        if code == CURLE_OK { return }
        watchdog.hangUp()
        switch watchdog.reason {
        case .cancelled: throw CancellationError()
        case .deadline:
            throw SMTPError(kind: .transient, cause: .timeout,
                            message: "no answer within the \(request.timeoutMilliseconds) ms timeout (curl: \(String(cString: curl_easy_strerror(code))))")
        case nil: break
        }

        var responseCode = 0
        if faros_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &responseCode) != CURLE_OK { responseCode = 0 }
        // A 4xx/5xx counts only when it answered our latest command (see Context.awaitingReply).
        let replyCode: Int? = !context.awaitingReply && (400..<600).contains(responseCode) ? responseCode : nil

        var message = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        if !context.reply.isEmpty, replyCode != nil || !context.awaitingReply {
            message += "; server said: " + Self.printable(context.reply)
        }
        let cause = Self.cause(code, replyCode: replyCode)
        let permanent = cause == .rejected && (replyCode ?? 0) >= 500
        throw SMTPError(kind: permanent ? .permanent : .transient, cause: cause, replyCode: replyCode, message: message)
    }

    /// Maps libcurl's result to a cause; a refusing reply wins over the code curl chose for it
    /// (curl reports a refused RCPT as CURLE_SEND_ERROR, a refused MAIL as WEIRD_SERVER_REPLY).
    private static func cause(_ code: CURLcode, replyCode: Int?) -> SMTPError.Cause {
        if code == CURLE_LOGIN_DENIED || code == CURLE_AUTH_ERROR { return .authentication }
        if replyCode != nil { return .rejected }
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_SEND_ERROR, CURLE_RECV_ERROR,
             CURLE_GOT_NOTHING, CURLE_WEIRD_SERVER_REPLY, CURLE_PARTIAL_FILE:
            return .connection
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_USE_SSL_FAILED, CURLE_SSL_CACERT_BADFILE,
             CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_SHUTDOWN_FAILED,
             CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS:
            return .tls
        default:
            return .other
        }
    }

    /// The reply lines as one line of printable ASCII (runs of spaces, CR, LF and other bytes
    /// become one space), for an error message.
    private static func printable(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for byte in bytes {
            if byte > 0x20 && byte < 0x7F {
                out.append(byte)
            } else if let last = out.last, last != UInt8(ascii: " ") {
                out.append(UInt8(ascii: " "))
            }
        }
        if out.last == UInt8(ascii: " ") { out.removeLast() }
        return String(decoding: out, as: UTF8.self)
    }
}
