import JSONRPC
import NIOCore
import Synchronization

/// The per-session call budget: a token bucket of `burst` calls refilled at `rate` per second.
///
/// A call over budget is answered with -32029 and `retryAfterMs`. A client that keeps calling after
/// more than a whole burst of refusals in a row is ignoring the answers, and its session is closed
/// with 1008 ("too many calls") rather than left to burn server time on refusals.
final class CallRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var refilledAt: UInt64
        var refusedInARow = 0
    }

    private let rate: Double
    private let burst: Double
    private let bucket: Mutex<Bucket>

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
        self.bucket = Mutex(Bucket(tokens: burst, refilledAt: NIODeadline.now().uptimeNanoseconds))
    }

    /// Takes one token, or says how long until one is available.
    func admit(now: UInt64 = NIODeadline.now().uptimeNanoseconds) -> RPCError? {
        guard self.rate > 0 else { return nil }
        return self.bucket.withLock { bucket in
            let elapsed = Double(now &- bucket.refilledAt) / 1e9
            bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
            bucket.refilledAt = now
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                bucket.refusedInARow = 0
                return nil
            }
            bucket.refusedInARow += 1
            let waitMs = Int(((1 - bucket.tokens) / self.rate * 1000).rounded(.up))
            return .rateLimited(retryAfterMs: max(waitMs, 1))
        }
    }

    /// True once the peer has ignored more than a whole burst of refusals.
    var isAbused: Bool {
        self.bucket.withLock { Double($0.refusedInARow) > self.burst }
    }
}
