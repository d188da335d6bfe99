import JSONRPC

/// One rule applied to one key.
struct RateLimitKey: Sendable {
    var rule: RateRule
    var key: String
}

extension Domain {
    /// Throws -32029 (with the longest wait) when any of `keys` allows no more events now;
    /// records nothing. Does nothing when rate limits are off.
    func rateLimitCheck(_ keys: [RateLimitKey]) async throws(RPCError) {
        guard configuration.rateLimitsEnabled else { return }
        let now = clock()
        var wait: Int64 = 0
        for item in keys {
            if let retry = await rateLimiter.retryAfter(item.rule, key: item.key, now: now) {
                wait = max(wait, retry)
            }
        }
        if wait > 0 { throw .rateLimited(retryAfterMs: Int(clamping: wait)) }
    }

    /// Records one event under each of `keys` in turn; throws -32029 at the first one over its
    /// limit (the later ones are then not recorded). Does nothing when rate limits are off.
    func rateLimitRecord(_ keys: [RateLimitKey]) async throws(RPCError) {
        try await rateLimitRecord(keys, at: clock())
    }

    /// ``rateLimitRecord(_:)`` at a time the caller keeps, to ``rateLimitRefund(_:recordedAt:)``
    /// the events later.
    func rateLimitRecord(_ keys: [RateLimitKey], at now: Timestamp) async throws(RPCError) {
        guard configuration.rateLimitsEnabled else { return }
        for item in keys {
            if let retry = await rateLimiter.record(item.rule, key: item.key, now: now) {
                throw .rateLimited(retryAfterMs: Int(clamping: retry))
            }
        }
    }

    /// Records one event under each of `keys`, whatever the outcome (failed logins: the call
    /// fails anyway).
    func rateLimitNote(_ keys: [RateLimitKey]) async {
        guard configuration.rateLimitsEnabled else { return }
        let now = clock()
        for item in keys {
            _ = await rateLimiter.record(item.rule, key: item.key, now: now)
        }
    }

    /// Takes back the event each of `keys` recorded at `recordedAt` (an attempt counted up front
    /// that turned out not to count).
    func rateLimitRefund(_ keys: [RateLimitKey], recordedAt: Timestamp) async {
        guard configuration.rateLimitsEnabled else { return }
        for item in keys {
            await rateLimiter.refund(item.rule, key: item.key, recordedAt: recordedAt)
        }
    }

    /// Forgets the events of `keys` (a successful login clears its account's failures).
    func rateLimitReset(_ keys: [RateLimitKey]) async {
        guard configuration.rateLimitsEnabled else { return }
        for item in keys {
            await rateLimiter.reset(item.rule, key: item.key)
        }
    }
}
