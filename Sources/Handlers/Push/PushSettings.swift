/// Settings of Web Push in the domain (docs/push.md).
public struct PushSettings: Sendable, Hashable {
    /// `TTL` of every push, and how long the outbox keeps trying (`FAROS_PUSH_TTL`, default
    /// 24 h): a "shared with you" a day late is still news; older, it is noise.
    public var ttlSeconds = 86_400
    /// `FAROS_PUSH_ALLOW_HTTP=loopback`: endpoints may be `http` on a loopback host (tests and
    /// a local push service); otherwise only `https`.
    public var allowHTTPOnLoopback = false
    /// Subscriptions one user may hold; registering one more replaces their oldest.
    public var maxSubscriptionsPerUser = 10
    /// The window the limits below count over: an hour.
    public var windowMilliseconds: Int64 = 3_600_000
    /// Pushes one device gets per window (summaries aside): a busy hour of collaboration, and
    /// no more however hard someone comments.
    public var perSubscription = 60
    /// Pushes one user's changes cause per window, over all recipients' devices: one comment
    /// to a team of hundreds, not a spam run.
    public var perSender = 10_000
    /// Longest `label` a device may have, in characters.
    public var maxLabelLength = 100
    /// Longest `endpoint`, in bytes (push services use a few hundred).
    public var maxEndpointBytes = 2048

    public init() {}
}
