import Synchronization

/// A sliding-window rate limiter in this process's memory: for each (rule, key) it keeps the
/// times of the events inside the window (at most `limit` of them), so an answer is exact, not
/// an approximation of a fixed window.
///
/// Memory is bounded by the number of active keys times the rules' limits (small: 5, 20, 60);
/// keys whose events have all left their window are swept every ``sweepInterval`` records.
public final class InProcessRateLimiter: RateLimiter {
    static let sweepInterval = 4096
    private let state = Mutex(State())

    struct State {
        var windows: [WindowKey: [Int64]] = [:]
        var recordsSinceSweep = 0
    }

    struct WindowKey: Hashable {
        var rule: String
        var key: String
    }

    public init() {}

    public func retryAfter(_ rule: RateRule, key: String, now: Timestamp) async -> Int64? {
        self.state.withLock { state in
            let events = Self.live(state.windows[WindowKey(rule: rule.name, key: key)] ?? [], rule: rule, now: now)
            return Self.wait(events, rule: rule, now: now)
        }
    }

    public func record(_ rule: RateRule, key: String, now: Timestamp) async -> Int64? {
        self.state.withLock { state in
            let windowKey = WindowKey(rule: rule.name, key: key)
            var events = Self.live(state.windows[windowKey] ?? [], rule: rule, now: now)
            if let wait = Self.wait(events, rule: rule, now: now) {
                state.windows[windowKey] = events
                return wait
            }
            events.append(now.milliseconds)
            state.windows[windowKey] = events
            state.recordsSinceSweep += 1
            if state.recordsSinceSweep >= Self.sweepInterval {
                state.recordsSinceSweep = 0
                Self.sweep(&state, now: now)
            }
            return nil
        }
    }

    public func refund(_ rule: RateRule, key: String, recordedAt: Timestamp) async {
        self.state.withLock { state in
            let windowKey = WindowKey(rule: rule.name, key: key)
            guard var events = state.windows[windowKey],
                  let index = events.lastIndex(of: recordedAt.milliseconds)
            else { return }
            events.remove(at: index)
            state.windows[windowKey] = events
        }
    }

    public func reset(_ rule: RateRule, key: String) async {
        _ = self.state.withLock { state in
            state.windows.removeValue(forKey: WindowKey(rule: rule.name, key: key))
        }
    }

    /// Events still inside the window ending at `now`.
    private static func live(_ events: [Int64], rule: RateRule, now: Timestamp) -> [Int64] {
        let start = now.milliseconds - rule.windowMilliseconds
        guard let first = events.firstIndex(where: { $0 > start }) else { return [] }
        return first == 0 ? events : Array(events[first...])
    }

    private static func wait(_ events: [Int64], rule: RateRule, now: Timestamp) -> Int64? {
        guard rule.limit > 0 else { return rule.windowMilliseconds }
        guard events.count >= rule.limit else { return nil }
        // The event that must leave the window before one more fits.
        let blocking = events[events.count - rule.limit]
        return max(1, blocking + rule.windowMilliseconds - now.milliseconds + 1)
    }

    /// Drops keys with no event younger than the longest window seen for them; a key's window is
    /// not stored, so a day (longer than any rule) is the horizon.
    private static func sweep(_ state: inout State, now: Timestamp) {
        let horizon = now.milliseconds - 86_400_000
        state.windows = state.windows.filter { _, events in (events.last ?? .min) > horizon }
    }
}
