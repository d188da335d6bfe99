import BenchClient
import NIOConcurrencyHelpers
import NIOCore

/// The sessions of one phase, opened and still held, with what opening them took.
struct OpenedSessions {
    let lanes: [Lane]
    let startedAt: UInt64
    let ready: Int
    let failures: [String: Int]
    let openLatency: LatencyHistogram
    /// From the first connect to the last session ready.
    let seconds: Double
}

/// What a phase measured.
struct PhaseResult {
    let opened: OpenedSessions
    let clientCPUSeconds: Double
    let serverCPUSeconds: Double?
    /// CPU used by everything but this client and the server while the sessions opened.
    let otherCPUSeconds: Double?
    let serverKiBBefore: Int?
    let serverKiBAfter: Int?
    let stillOpen: Int
    let pongs: Int
    let closedWhileHeld: Int
    let notifications: Int
}

/// Opens, holds, checks and closes the sessions of a phase on the tool's event loops.
struct PhaseRunner {
    let group: any EventLoopGroup
    let concurrency: Int
    let serverPid: Int32?

    func open(count: Int, setup: SessionSetup) throws -> OpenedSessions {
        let loops = Array(group.makeIterator())
        let next = NIOLockedValueBox(0)
        let lanes = (0..<min(concurrency, count)).map { i in
            Lane(loop: loops[i % loops.count], dialer: setup.dialer, next: next, total: count, subscribeRequest: setup.subscribe)
        }
        let startedAt = monotonicNanoseconds()
        for lane in lanes { lane.start() }
        for lane in lanes { try lane.finished.futureResult.wait() }
        var ready = 0, last: UInt64 = startedAt
        var failures: [String: Int] = [:]
        var latency = LatencyHistogram()
        for lane in lanes {
            let (count, lastReady, laneFailures, laneLatency) = try lane.loop.submit {
                (lane.sessions.count, lane.lastReady, lane.failures, lane.openLatency)
            }.wait()
            ready += count
            last = max(last, lastReady)
            failures.merge(laneFailures, uniquingKeysWith: +)
            latency.add(laneLatency)
        }
        return OpenedSessions(lanes: lanes, startedAt: startedAt, ready: ready, failures: failures, openLatency: latency,
                              seconds: Double(last - startedAt) / 1e9)
    }

    func measure(phase: String, count: Int, setup: SessionSetup, settle: Double, hold: Double) throws -> PhaseResult {
        let kiBBefore = serverPid.flatMap { ProcessProbe.residentKiB(pid: $0) }
        let serverCPUBefore = serverPid.flatMap { ProcessProbe.cpuSeconds(pid: $0) }
        let clientCPUBefore = ProcessProbe.ownCPUSeconds()
        let machineBefore = ProcessProbe.machineBusySeconds()
        let opened = try open(count: count, setup: setup)
        let clientCPU = ProcessProbe.ownCPUSeconds() - clientCPUBefore
        let serverCPU = serverPid.flatMap { pid in serverCPUBefore.flatMap { before in ProcessProbe.cpuSeconds(pid: pid).map { $0 - before } } }
        let machineCPU = ProcessProbe.machineBusySeconds().flatMap { after in machineBefore.map { after - $0 } }
        let otherCPU = machineCPU.flatMap { machine in serverCPU.map { max(0, machine - $0 - clientCPU) } }
        sleep(seconds: settle)
        let kiBAfter = serverPid.flatMap { ProcessProbe.residentKiB(pid: $0) }
        sleep(seconds: hold)

        // Every session must still be there: ping all, count pongs for up to 10 s.
        for lane in opened.lanes { try lane.loop.submit { lane.pongs = 0; lane.pingAll() }.wait() }
        let deadline = monotonicNanoseconds() + 10_000_000_000
        var pongs = 0
        while monotonicNanoseconds() < deadline {
            pongs = try sum(opened.lanes) { $0.pongs }
            if pongs >= opened.ready { break }
            sleep(seconds: 0.05)
        }
        let stillOpen = try sum(opened.lanes) { $0.open }
        let closedWhileHeld = try sum(opened.lanes) { $0.closedWhileHeld }
        let notifications = try sum(opened.lanes) { $0.notifications }
        try closeAll(opened)
        return PhaseResult(opened: opened, clientCPUSeconds: clientCPU, serverCPUSeconds: serverCPU, otherCPUSeconds: otherCPU, serverKiBBefore: kiBBefore,
                           serverKiBAfter: kiBAfter, stillOpen: stillOpen, pongs: pongs, closedWhileHeld: closedWhileHeld,
                           notifications: notifications)
    }

    /// Closes every session and waits (up to 15 s) until the server has let go of them all, and
    /// one second more for its own cleanup, so the next phase starts from a quiet server.
    func closeAll(_ opened: OpenedSessions) throws {
        for lane in opened.lanes { try lane.loop.submit { lane.closeAll() }.wait() }
        let deadline = monotonicNanoseconds() + 15_000_000_000
        while monotonicNanoseconds() < deadline, try sum(opened.lanes, { $0.open }) > 0 { sleep(seconds: 0.05) }
        sleep(seconds: 1)
    }

    private func sum(_ lanes: [Lane], _ value: @escaping @Sendable (Lane) -> Int) throws -> Int {
        try lanes.map { lane in try lane.loop.submit { value(lane) }.wait() }.reduce(0, +)
    }
}
