/// Web Push delivery (RFC 8030 / 8291 / 8292) behind the domain: the `WebPush` module encrypts a
/// message for one subscription, signs the VAPID header and posts it to the subscription's push
/// service. The domain decides what to send, to whom and when (docs/push.md); this decides only
/// how the bytes travel and what the push service's answer means.
public protocol PushTransport: Sendable {
    /// Encrypts `push.payload` for the subscription and posts it. Never throws: every way a
    /// delivery can end is a ``PushResult``.
    func send(_ push: OutgoingPush) async -> PushResult

    /// The server's VAPID public key, an uncompressed P-256 point in unpadded base64url: what a
    /// browser passes to `PushManager.subscribe` as `applicationServerKey`.
    var applicationServerKey: String { get }

    /// Whether `p256dh` is an uncompressed P-256 point (65 bytes, `0x04`…) on the curve.
    func isValidSubscriptionKey(_ p256dh: [UInt8]) -> Bool
}

/// One message for one subscription, before encryption.
public struct OutgoingPush: Sendable, Hashable {
    /// The subscription's endpoint (an `https` URL, or `http` on loopback when allowed).
    public var endpoint: String
    /// The browser's ECDH public key (65 bytes, uncompressed P-256).
    public var p256dh: [UInt8]
    /// The browser's authentication secret (16 bytes).
    public var auth: [UInt8]
    /// The plaintext (small JSON), encrypted as one `aes128gcm` record.
    public var payload: [UInt8]
    /// `TTL`: how long the push service may keep the message for an offline browser.
    public var ttlSeconds: Int
    /// `Urgency` (RFC 8030 §5.3).
    public var urgency: PushUrgency
    /// `Topic` (RFC 8030 §5.4): a newer message with the same topic replaces an undelivered
    /// one. At most 32 characters of the base64url alphabet; nil for none.
    public var topic: String?

    public init(
        endpoint: String, p256dh: [UInt8], auth: [UInt8], payload: [UInt8], ttlSeconds: Int,
        urgency: PushUrgency = .normal, topic: String? = nil
    ) {
        self.endpoint = endpoint
        self.p256dh = p256dh
        self.auth = auth
        self.payload = payload
        self.ttlSeconds = ttlSeconds
        self.urgency = urgency
        self.topic = topic
    }
}

/// RFC 8030 §5.3.
public enum PushUrgency: String, Sendable, Hashable {
    case veryLow = "very-low"
    case low
    case normal
    case high
}

/// What the push service's answer means for the message and the subscription.
public enum PushResult: Sendable, Hashable {
    /// 2xx: the push service took the message.
    case accepted(status: Int)
    /// 404 or 410: the subscription is gone for good; it is removed.
    case gone(status: Int)
    /// Any other 4xx but 408 and 429 (400 malformed, 403 VAPID refused, 413 too large): this
    /// message will never be taken; it is logged and dropped.
    case rejected(status: Int, reason: String)
    /// 408, 429, 5xx, or no answer at all (connection refused, timeout): try again later, not
    /// before `retryAfterMilliseconds` when the service said so (`Retry-After`).
    case retry(status: Int?, retryAfterMilliseconds: Int64?, reason: String)
}
