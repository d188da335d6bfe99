public import Logging

/// What the mail and push senders share: the loop that runs rounds until cancelled, sleeping
/// until the next item falls due (at most `pollInterval`: other instances add work too) unless a
/// commit wakes it, and the retry delay.
enum OutboxLoop {
    /// Runs `round` until the task is cancelled; `round` answers when the next item falls due.
    static func run(
        _ what: String, signal: MailWakeSignal, pollInterval: Duration, clock: @Sendable () -> Timestamp, logger: Logger,
        round: () async throws -> Timestamp?
    ) async {
        while !Task.isCancelled {
            let next: Timestamp?
            do {
                next = try await round()
            } catch {
                logger.warning("\(what) round failed", metadata: ["error": "\(Domain.loggable(error))"])
                next = nil
            }
            var sleep = pollInterval
            if let next {
                let wait = Duration.milliseconds(max(0, next.milliseconds - clock().milliseconds))
                if wait < sleep { sleep = wait }
            }
            if sleep > .zero { await signal.wait(timeout: sleep) }
        }
    }

    /// `base · 2^(attempts − 1)`, capped at `maximum`, less up to a fifth at random so that
    /// instances retrying after one outage do not all come back at once.
    static func backoffMilliseconds(attempts: Int, base: Int64, maximum: Int64) -> Int64 {
        let exponent = min(max(attempts - 1, 0), 30)
        let delay = min(base << exponent, maximum)
        return delay - (delay > 5 ? Int64.random(in: 0...(delay / 5)) : 0)
    }
}
