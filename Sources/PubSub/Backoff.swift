/// Exponential backoff with jitter for reconnect attempts.
///
/// Each delay doubles from `initial` up to `maximum`, and the actual wait is drawn uniformly from
/// its upper half ("equal jitter"), so instances that lost Redis together do not reconnect in
/// lockstep while every wait still grows.
struct Backoff: Sendable {
    let initial: Duration
    let maximum: Duration
    private var attempt = 0

    init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = max(initial, maximum)
    }

    /// The delay before the next attempt; each call doubles the next one.
    mutating func next() -> Duration {
        let ceiling = self.ceiling(attempt)
        attempt = min(attempt + 1, 62)
        let nanoseconds = Self.nanoseconds(ceiling)
        guard nanoseconds > 1 else { return ceiling }
        return .nanoseconds(Int64.random(in: (nanoseconds / 2)...nanoseconds))
    }

    /// After a success: the next delay is `initial` again.
    mutating func reset() {
        attempt = 0
    }

    private func ceiling(_ attempt: Int) -> Duration {
        var delay = initial
        for _ in 0..<attempt {
            delay = delay * 2
            if delay >= maximum { return maximum }
        }
        return min(delay, maximum)
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
