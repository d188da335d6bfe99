#if canImport(Glibc)
import Glibc
#endif
import CurlClient
import Synchronization

/// One blocking SMTP exchange through ``CurlEasy``: the relay's session as curl options, and
/// libcurl's failures mapped to ``SMTPError``. Runs on a thread-pool thread (the caller's job); a handle lives for one exchange,
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

    /// Most bytes of the relay's latest reply kept for the error message.
    private static let replyLimit = 512

    /// What the callbacks share during one exchange (they capture it, so it lives as long as
    /// the handle, whose cleanup still calls back).
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
        guard let easy = try? CurlEasy() else {
            throw SMTPError(kind: .transient, cause: .other, message: "curl init failed")
        }
        // The cleanup still calls back (QUIT goes out and the socket is closed when the cached
        // connection is dropped): the handle goes away at the end of this scope, not earlier.
        defer { withExtendedLifetime(easy) {} }
        do {
            try easy.set(.mailRecipients, [request.recipient])
        } catch {
            throw SMTPError(kind: .transient, cause: .other, message: "curl slist failed")
        }

        let useSSL: CurlUseSSL
        switch request.security {
        case .implicitTLS, .startTLSRequired: useSSL = .all
        case .startTLSIfOffered: useSSL = .tryTLS
        case .plaintext: useSSL = .none
        }
        do {
            try easy.set(.url, request.url)
            try easy.set(.protocols, "smtp,smtps")
            try easy.set(.noSignal, true)
            try easy.set(.connectTimeoutMilliseconds, request.connectTimeoutMilliseconds)
            try easy.set(.timeoutMilliseconds, request.timeoutMilliseconds)
            try easy.set(useSSL: useSSL)
            if let caFile = request.caFile {
                try easy.set(.caInfo, caFile)
            }
            if let username = request.username, let password = request.password {
                // Separate options, not the URL's userinfo: no re-encoding, and no password in the URL.
                try easy.set(.username, username)
                try easy.set(.password, password)
            }
            try easy.set(.mailFrom, request.mailFrom)
            try easy.set(.upload, true)
            try easy.set(uploadSize: Int64(request.message.count))
            try easy.onRead { buffer in
                let n = min(buffer.count, context.message.count - context.offset)
                if n > 0 {
                    context.message.withUnsafeBytes { bytes in
                        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[context.offset..<(context.offset + n)]))
                    }
                    context.offset += n
                }
                return n
            }
            // Every socket goes through the watchdog, so that it can be shut down from outside.
            try easy.onSocketOpened { fd in context.watchdog.register(fd) }
            try easy.onCloseSocket { fd in context.watchdog.close(fd) }
            // The debug callback sees the protocol lines; only the relay's replies are kept (our
            // commands include AUTH's credentials, and DATA_OUT is the message body).
            try easy.set(.verbose, true)
            try easy.onDebug { kind, data in
                if context.quitting { return }
                if kind == .headerIn {
                    if context.awaitingReply {
                        context.reply.removeAll(keepingCapacity: true)
                        context.awaitingReply = false
                    }
                    let room = max(0, CurlSMTP.replyLimit - context.reply.count)
                    context.reply += data.prefix(room)
                } else if kind == .headerOut || kind == .dataOut {
                    // Only the command word is looked at; the line itself (AUTH data!) is not kept.
                    if kind == .headerOut, data.count >= 4, data.prefix(4).elementsEqual("QUIT".utf8) {
                        context.quitting = true
                        return
                    }
                    context.awaitingReply = true
                }
            }
        } catch {
            throw SMTPError(kind: .transient, cause: .other, message: "curl setopt failed")
        }

        let failure: CurlError
        do throws(CurlError) {
            try easy.perform()
            return
        } catch {
            failure = error
        }
        watchdog.hangUp()
        switch watchdog.reason {
        case .cancelled: throw CancellationError()
        case .deadline:
            throw SMTPError(kind: .transient, cause: .timeout,
                            message: "no answer within the \(request.timeoutMilliseconds) ms timeout (curl: \(failure.summary))")
        case nil: break
        }

        let responseCode = (try? easy.responseCode()) ?? 0
        // A 4xx/5xx counts only when it answered our latest command (see Context.awaitingReply).
        let replyCode: Int? = !context.awaitingReply && (400..<600).contains(responseCode) ? responseCode : nil

        var message = failure.message
        if !context.reply.isEmpty, replyCode != nil || !context.awaitingReply {
            message += "; server said: " + Self.printable(context.reply)
        }
        let cause = Self.cause(failure.code, replyCode: replyCode)
        let permanent = cause == .rejected && (replyCode ?? 0) >= 500
        throw SMTPError(kind: permanent ? .permanent : .transient, cause: cause, replyCode: replyCode, message: message)
    }

    /// Maps libcurl's result to a cause; a refusing reply wins over the code curl chose for it
    /// (curl reports a refused RCPT as CURLE_SEND_ERROR, a refused MAIL as WEIRD_SERVER_REPLY).
    private static func cause(_ code: CurlError.Code, replyCode: Int?) -> SMTPError.Cause {
        if code == .loginDenied || code == .authError { return .authentication }
        if replyCode != nil { return .rejected }
        switch code {
        case .operationTimedOut:
            return .timeout
        case .couldNotResolveHost, .couldNotConnect, .sendError, .recvError,
             .gotNothing, .weirdServerReply, .partialFile:
            return .connection
        case .sslConnectError, .peerFailedVerification, .useSSLFailed, .sslCACertBadFile,
             .sslCertProblem, .sslCipher, .sslEngineInitFailed, .sslShutdownFailed,
             .sslCRLBadFile, .sslIssuerError, .sslPinnedPubKeyNotMatch, .sslInvalidCertStatus:
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
