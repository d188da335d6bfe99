#if canImport(Glibc)
import Glibc
#endif
import CurlClient
public import Handlers
public import Logging
public import NIOPosix

/// Web Push delivery over libcurl (RFC 8030 §5): each message is encrypted for its subscription
/// (RFC 8291), signed with the server's VAPID key (RFC 8292) and POSTed to the push service.
///
/// The encryption and the blocking exchange run together on `threadPool`, so the caller's task
/// and event loop never wait on the network or on elliptic-curve arithmetic, and the pool's size
/// bounds how many requests are in flight. libcurl handles are kept in a small pool and reused,
/// each holding its connections open (HTTP/2 over TLS, HTTP/1.1 keep-alive for cleartext), so
/// a burst to one push service does not pay a TCP and TLS handshake per message.
///
/// A send is not abandoned when its task is cancelled: it ends within the request timeout, and
/// its result still says whether the push service took the message.
public final class WebPushTransport: PushTransport {
    /// Limits of one exchange and of the handle pool.
    public struct Configuration: Sendable {
        /// The whole exchange, connection included: 10 s. A push service answers at once or not
        /// at all; a message that times out is retried later (the domain's backoff) rather than
        /// holding a pool thread.
        public var requestTimeout: Duration = .seconds(10)
        /// Connecting (TCP and TLS): 5 s, so an unreachable service fails before the request
        /// timeout and says so.
        public var connectTimeout: Duration = .seconds(5)
        /// Idle handles kept for reuse: 16, more than a thread pool of this server has threads,
        /// so every pool thread finds a warm handle. Extra handles made under a burst are freed
        /// when checked in.
        public var maximumIdleHandles: Int = 16
        /// A PEM file of the certificate authorities trusted for `https` push services instead
        /// of the system's: nil (the system's, which every public push service chains to); set
        /// for a private push service, or a test's own.
        public var caFile: String? = nil

        public init() {}
    }

    public let signer: VAPIDSigner
    public let configuration: Configuration
    private let threadPool: NIOThreadPool
    private let logger: Logger
    private let handles: CurlHandlePool
    /// Seconds since the epoch; a parameter so tests can move time.
    private let now: @Sendable () -> Int64

    /// `threadPool` must be started; sends answer `.retry` once it is shut down.
    public init(
        signer: VAPIDSigner,
        threadPool: NIOThreadPool,
        logger: Logger,
        configuration: Configuration = Configuration(),
        now: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }
    ) {
        self.signer = signer
        self.configuration = configuration
        self.threadPool = threadPool
        self.logger = logger
        self.handles = CurlHandlePool(maximumIdle: configuration.maximumIdleHandles, caFile: configuration.caFile)
        self.now = now
        // libcurl's global set-up is not thread-safe: done here, at start-up, before any send.
        CurlGlobal.initialize()
    }

    /// A transport signing with `key` for the contact `subject` (`mailto:` or `https:`).
    public convenience init(
        key: VAPIDKey,
        subject: String,
        threadPool: NIOThreadPool,
        logger: Logger,
        configuration: Configuration = Configuration()
    ) throws(VAPIDKeyError) {
        self.init(signer: try VAPIDSigner(key: key, subject: subject), threadPool: threadPool, logger: logger,
                  configuration: configuration)
    }

    public var applicationServerKey: String { self.signer.key.publicKeyBase64URL }

    public func isValidSubscriptionKey(_ p256dh: [UInt8]) -> Bool {
        P256.isValidPublicKey(p256dh)
    }

    public func send(_ push: OutgoingPush) async -> PushResult {
        let origin = VAPIDSigner.audience(ofEndpoint: push.endpoint) ?? "invalid"
        let result: PushResult
        do {
            result = try await self.threadPool.runIfActive { self.deliver(push) }
        } catch {
            // NIOThreadPoolError.ThreadPoolInactive: the server is shutting down; the message can wait.
            result = .retry(status: nil, retryAfterMilliseconds: nil, reason: "thread pool unavailable")
        }
        switch result {
        case .accepted:
            break
        case .gone(let status):
            self.logger.debug("Push subscription gone", metadata: ["push.origin": "\(origin)", "push.status": "\(status)"])
        case .rejected(let status, let reason):
            self.logger.warning(
                "Push message rejected",
                metadata: ["push.origin": "\(origin)", "push.status": "\(status)", "push.reason": "\(reason)"]
            )
        case .retry(let status, let retryAfter, let reason):
            self.logger.debug(
                "Push message to retry",
                metadata: [
                    "push.origin": "\(origin)", "push.status": "\(status.map(String.init) ?? "none")",
                    "push.retry_after_ms": "\(retryAfter.map(String.init) ?? "none")", "push.reason": "\(reason)",
                ]
            )
        }
        return result
    }

    /// Encrypts, signs and posts `push`; blocking, on a pool thread.
    private func deliver(_ push: OutgoingPush) -> PushResult {
        // Status 0 in `.rejected`: the message was refused here, before any request was made.
        if let topic = push.topic, !Self.isValidTopic(topic) {
            return .rejected(status: 0, reason: "the topic must be 1 to 32 characters of the base64url alphabet")
        }
        let body: [UInt8]
        do {
            body = try WebPushEncryption.encrypt(plaintext: push.payload, userAgentPublicKey: push.p256dh, authSecret: push.auth)
        } catch {
            return .rejected(status: 0, reason: error.message)
        }
        let authorization: String
        do {
            authorization = try self.signer.authorization(forEndpoint: push.endpoint, now: self.now())
        } catch {
            return .rejected(status: 0, reason: error.message)
        }
        var headers = [
            "Authorization: " + authorization,
            "TTL: \(max(0, push.ttlSeconds))",
            "Urgency: " + push.urgency.rawValue,
            "Content-Encoding: aes128gcm",
            "Content-Type: application/octet-stream",
            // curl would otherwise send "Expect: 100-continue" for bodies over 1 KiB and wait a
            // round trip (or a second) before sending the body.
            "Expect:",
        ]
        if let topic = push.topic { headers.append("Topic: " + topic) }

        let easy: CurlEasy
        do {
            easy = try self.handles.checkOut()
        } catch {
            return .retry(status: nil, retryAfterMilliseconds: nil, reason: "curl: \(error.summary)")
        }
        let response = ResponseBody(limit: Self.keptBodyBytes)
        do {
            try easy.set(.url, push.endpoint)
            try easy.set(.httpHeaders, headers)
            try easy.set(postBody: body)
            try easy.set(.timeoutMilliseconds, Self.milliseconds(self.configuration.requestTimeout))
            try easy.set(.connectTimeoutMilliseconds, Self.milliseconds(self.configuration.connectTimeout))
            try easy.onWrite { buffer in
                response.append(buffer)
                return buffer.count
            }
            try easy.perform()
        } catch {
            // The handle may be in any state after a failed exchange: it is not reused.
            return .retry(status: nil, retryAfterMilliseconds: nil, reason: "curl: \(error.summary)")
        }
        let status = (try? easy.responseCode()) ?? 0
        let retryAfter = easy.responseHeader("Retry-After").flatMap { RetryAfter.milliseconds($0, now: self.now()) }
        self.handles.checkIn(easy)
        return Self.result(status: status, retryAfterMilliseconds: retryAfter, body: response.bytes)
    }

    /// What the push service's answer means (RFC 8030 §5, §6; RFC 8292 §4.2 for 403).
    static func result(status: Int, retryAfterMilliseconds: Int64?, body: [UInt8]) -> PushResult {
        switch status {
        case 200..<300:
            return .accepted(status: status)
        case 404, 410:
            return .gone(status: status)
        case 408, 429, 500..<600:
            return .retry(status: status, retryAfterMilliseconds: retryAfterMilliseconds,
                          reason: reason(status: status, body: body))
        default:
            return .rejected(status: status, reason: reason(status: status, body: body))
        }
    }

    /// The response bytes kept: enough for ``reasonLength`` characters after sanitizing.
    static let keptBodyBytes = 1024
    /// A rejection's reason holds at most this many bytes of the response body.
    static let reasonLength = 200

    /// `HTTP <status>`, then the start of the body with control characters blanked, so a push
    /// service's error text reaches the log without line breaks or terminal escapes.
    static func reason(status: Int, body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(reasonLength), as: UTF8.self)
        var cleaned = String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) ? " " : Character($0) })
        while cleaned.hasSuffix(" ") { cleaned.removeLast() }
        while cleaned.hasPrefix(" ") { cleaned.removeFirst() }
        return cleaned.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(cleaned)"
    }

    /// RFC 8030 §5.4: at most 32 characters of the URL- and filename-safe base64 alphabet. Also
    /// what keeps a topic from ending the header line.
    static func isValidTopic(_ topic: String) -> Bool {
        let bytes = topic.utf8
        return !bytes.isEmpty && bytes.count <= 32 && bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                return true
            default:
                return false
            }
        }
    }

    /// At least 1 ms: 0 would mean "no timeout" to libcurl.
    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        let total = seconds.multipliedReportingOverflow(by: 1000)
        guard !total.overflow else { return Int.max }
        return max(1, Int(total.partialValue + attoseconds / 1_000_000_000_000_000))
    }
}

/// The first bytes of a response body; the write closure of one exchange fills it, on the pool
/// thread that runs the exchange.
private final class ResponseBody {
    private(set) var bytes: [UInt8] = []
    let limit: Int
    init(limit: Int) { self.limit = limit }

    func append(_ buffer: UnsafeRawBufferPointer) {
        let room = self.limit - self.bytes.count
        if room > 0 { self.bytes.append(contentsOf: buffer.prefix(room)) }
    }
}
