import BenchClient
import NIOCore

/// One connection of an open-loop run: sends the requests the schedule gives it and matches each
/// answer to its due time by id. Confined to its connection's event loop, as its tally is.
final class TimedRequester: WebSocketClientDelegate, @unchecked Sendable {
    let template: RPCRequestTemplate
    let tally: LoopTally
    /// Set by the loop's schedule when it starts (the start time is known only once every
    /// connection is open).
    var plan: SchedulePlan?
    /// Due time of each request not answered yet, by id.
    private(set) var pending: [Int64: UInt64] = [:]
    var connection: WebSocketConnection?

    init(template: RPCRequestTemplate, tally: LoopTally) {
        self.template = template
        self.tally = tally
    }

    var pendingCount: Int { pending.count }

    func webSocketDidOpen(_ connection: WebSocketConnection) { self.connection = connection }

    /// Queues request `k` (flushed by the caller with the rest of its burst); ids are `k + 1`.
    func send(_ k: Int, due: UInt64, now: UInt64) {
        guard let plan, let connection, connection.isOpen, let channel = connection.channel else { return }
        let id = Int64(k + 1)
        pending[id] = due
        connection.sendText(template.request(id: id, allocator: channel.allocator))
        tally.sent += 1
        if plan.isMeasured(due: due) { tally.sendLag.record(nanoseconds: now &- due) }
    }

    func webSocket(_ connection: WebSocketConnection, didReceiveText text: ByteBuffer) {
        let now = monotonicNanoseconds()
        let id: Int64
        switch RPCReply(text) {
        case .result(let answered):
            id = answered
        case .error(let answered?):
            id = answered
            tally.errors += 1
            if tally.firstError == nil { tally.firstError = String(buffer: text) }
        case .error(nil):
            tally.errors += 1
            if tally.firstError == nil { tally.firstError = String(buffer: text) }
            return
        case .notification:
            tally.notifications += 1
            return
        case .unrecognised:
            tally.unrecognised += 1
            return
        }
        guard let plan, let due = pending.removeValue(forKey: id) else { tally.unmatched += 1; return }
        if plan.isMeasured(due: due) {
            tally.answered += 1
            tally.latency.record(nanoseconds: now &- due)
            tally.lastMeasuredReply = max(tally.lastMeasuredReply, now)
        }
    }

    func webSocketDidClose(_ connection: WebSocketConnection) { tally.closed += 1 }

    /// Counts what never came back as answered at `now`, so a request lost in a stall weighs in the
    /// percentiles at least as much as it waited; returns how many of them were measured.
    func chargeUnanswered(now: UInt64) -> Int {
        guard let plan else { return 0 }
        var charged = 0
        for due in pending.values where plan.isMeasured(due: due) {
            tally.latency.record(nanoseconds: now &- due)
            charged += 1
        }
        pending.removeAll()
        return charged
    }
}
