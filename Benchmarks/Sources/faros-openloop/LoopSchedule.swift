import BenchClient
import NIOCore

/// Sends one event loop's share of the schedule. Connection `c` (of `C`) carries requests
/// `c, c + C, c + 2C, …` (round-robin over all connections), and each loop holds some
/// connections, so a loop's requests in due order are round `r`'s `r·C + c` for its connections'
/// `c` in ascending order. It wakes at the next due time, sends everything due by then (a loop that
/// woke late catches up at once; latency still counts from each request's due time) and flushes
/// each connection once per wake.
final class LoopSchedule: @unchecked Sendable {
    let loop: any EventLoop
    let plan: SchedulePlan
    let totalConnections: Int
    let tally: LoopTally
    /// This loop's connections with their global index, ascending.
    let connections: [(index: Int, requester: TimedRequester)]
    let finished: EventLoopPromise<Void>
    private var round = 0
    private var slot = 0
    private var touched: [Bool]

    init(loop: any EventLoop, plan: SchedulePlan, totalConnections: Int, tally: LoopTally,
         connections: [(index: Int, requester: TimedRequester)]) {
        self.loop = loop
        self.tally = tally
        self.plan = plan
        self.totalConnections = totalConnections
        self.connections = connections.sorted { $0.index < $1.index }
        finished = loop.makePromise(of: Void.self)
        touched = Array(repeating: false, count: connections.count)
    }

    func start() {
        loop.execute {
            for connection in self.connections { connection.requester.plan = self.plan }
            self.tick()
        }
    }

    private func tick() {
        guard !connections.isEmpty else { finished.succeed(()); return }
        let now = monotonicNanoseconds()
        while true {
            let k = round * totalConnections + connections[slot].index
            if k >= plan.count {
                flushTouched()
                finished.succeed(())
                return
            }
            let due = plan.due(k)
            if due > now {
                flushTouched()
                loop.scheduleTask(in: .nanoseconds(Int64(due - now))) { self.tick() }
                return
            }
            connections[slot].requester.send(k, due: due, now: now)
            touched[slot] = true
            slot += 1
            if slot == connections.count { slot = 0; round += 1 }
        }
    }

    private func flushTouched() {
        for i in touched.indices where touched[i] {
            touched[i] = false
            connections[i].requester.connection?.flush()
        }
    }
}
