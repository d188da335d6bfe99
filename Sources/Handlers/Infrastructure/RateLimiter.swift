/// One rate-limit rule: at most `limit` events per `window` for one key.
public struct RateRule: Sendable, Hashable {
    /// Stable name, part of the key space (`login.account`, `register.ip`, …).
    public var name: String
    public var limit: Int
    public var windowMilliseconds: Int64

    public init(name: String, limit: Int, windowMilliseconds: Int64) {
        self.name = name
        self.limit = limit
        self.windowMilliseconds = windowMilliseconds
    }
}

/// Counts events per (rule, key) over a sliding window.
///
/// In-process for one instance (``InProcessRateLimiter``), or shared between instances through
/// Redis behind the same protocol.
public protocol RateLimiter: Sendable {
    /// Milliseconds until one more event would be allowed under `rule` for `key`, or nil when it
    /// is allowed now. Records nothing.
    func retryAfter(_ rule: RateRule, key: String, now: Timestamp) async -> Int64?

    /// Records one event. Returns nil when it was within the limit, else the milliseconds until
    /// one more would be (the event is then not recorded).
    func record(_ rule: RateRule, key: String, now: Timestamp) async -> Int64?

    /// Takes back one event recorded under `rule` for `key` at `recordedAt` (an attempt counted
    /// before its outcome was known, which turned out not to count); nothing when there is none.
    func refund(_ rule: RateRule, key: String, recordedAt: Timestamp) async

    /// Forgets the events of `key` under `rule`.
    func reset(_ rule: RateRule, key: String) async
}
