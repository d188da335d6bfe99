import BenchClient

/// What one event loop's connections saw. Each loop keeps its own (touched only on that loop, so
/// no locks on the hot path); the main thread adds them up at the end.
final class LoopTally: @unchecked Sendable {
    /// Reply time minus due time, for the measured requests.
    var latency = LatencyHistogram()
    /// Send time minus due time: how far behind the schedule the client itself ran.
    var sendLag = LatencyHistogram()
    var sent = 0
    var answered = 0
    var errors = 0
    var unmatched = 0
    var unrecognised = 0
    var notifications = 0
    var closed = 0
    var lastMeasuredReply: UInt64 = 0
    var firstError: String?

    func add(_ other: LoopTally) {
        latency.add(other.latency)
        sendLag.add(other.sendLag)
        sent += other.sent
        answered += other.answered
        errors += other.errors
        unmatched += other.unmatched
        unrecognised += other.unrecognised
        notifications += other.notifications
        closed += other.closed
        lastMeasuredReply = max(lastMeasuredReply, other.lastMeasuredReply)
        if firstError == nil { firstError = other.firstError }
    }
}
