import ArgumentParser
import BenchClient
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Open-loop latency of one JSON-RPC method at a fixed offered rate (issue 23): the latency
/// targets are about a given load, which a closed-loop run (each connection waiting for its answer
/// before the next call) cannot hold fixed. Prints a human line and, last, one JSON line.
///
///     faros-openloop --url ws://127.0.0.1:PORT/rpc --token TOKEN --rate 2000 \
///         --method tasks.get --params '{"id":1}' --duration 10 --warmup 2 --server-pid PID
@main
struct OpenLoop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faros-openloop",
        abstract: "Send one JSON-RPC call on a fixed schedule and report latency from each call's due time.")

    @Option(help: "WebSocket URL of the server's /rpc.") var url: String
    @Option(help: "Access token, sent as `Authorization: Bearer` on the upgrade.") var token: String?
    @Option(help: "Offered rate, calls per second over all connections.") var rate: Double
    @Option(help: "JSON-RPC method.") var method: String
    @Option(help: "JSON-RPC params, JSON text.") var params: String = "{}"
    @Option(name: [.customShort("c"), .long], help: "Connections; the schedule goes round-robin over them.") var connections = 64
    @Option(help: "Seconds measured.") var duration: Double = 10
    @Option(help: "Seconds sent before the measurement, not counted.") var warmup: Double = 2
    /// One by default: on the two cores this was measured on, which the server shares, a second
    /// or fourth loop thread did not add capacity but context switches (tasks.get at 26,000/s:
    /// p99 7.4 ms with one thread, 27 ms with two; the send lag and client CPU in the report tell
    /// when one thread no longer keeps up).
    @Option(help: "Client event loop threads; watch the send lag and client CPU in the report.") var threads = 1
    @Option(help: "Seconds to wait for the last answers after the schedule ends.") var drain: Double = 10
    @Option(help: "Server process id, for its CPU use over the window.") var serverPid: Int32?
    @Option(help: "Label carried into the JSON line.") var label = ""

    func validate() throws {
        guard rate > 0, connections > 0, duration > 0, warmup >= 0, threads > 0, drain >= 0 else {
            throw ValidationError("rate, connections, duration and threads must be positive")
        }
        guard WebSocketURL(url) != nil else { throw ValidationError("--url must be ws://HOST:PORT/PATH") }
    }

    func run() throws {
        ProcessProbe.raiseDescriptorLimit()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        defer { try? group.syncShutdownGracefully() }
        let dialer = try WebSocketDialer(url: WebSocketURL(url)!, headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [])
        let template = RPCRequestTemplate(method: method, params: params)
        let loops = Array(group.makeIterator())

        // Connections first; the schedule starts once all are up, so no handshake is in it.
        var requesters: [(loop: Int, requester: TimedRequester)] = []
        let tallies = loops.map { _ in LoopTally() }
        let openedAt = monotonicNanoseconds()
        var opens: [EventLoopFuture<WebSocketConnection>] = []
        for c in 0..<connections {
            let loopIndex = c % loops.count
            let requester = TimedRequester(template: template, tally: tallies[loopIndex])
            requesters.append((loopIndex, requester))
            opens.append(dialer.open(on: loops[loopIndex], delegate: requester))
        }
        var failures: [String: Int] = [:]
        for open in opens {
            do { _ = try open.wait() } catch { failures[failureKind(error), default: 0] += 1 }
        }
        guard failures.isEmpty else {
            throw BenchFailure("\(failures.values.reduce(0, +)) of \(connections) connections failed: \(failures)")
        }
        let connectSeconds = Double(monotonicNanoseconds() - openedAt) / 1e9

        let plan = SchedulePlan(startNanoseconds: monotonicNanoseconds() + 200_000_000, ratePerSecond: rate,
                                warmupSeconds: warmup, durationSeconds: duration)
        let schedules = loops.indices.map { l in
            LoopSchedule(loop: loops[l], plan: plan, totalConnections: connections, tally: tallies[l],
                         connections: requesters.indices.filter { requesters[$0].loop == l }.map { ($0, requesters[$0].requester) })
        }
        for schedule in schedules { schedule.start() }

        sleep(untilNanoseconds: plan.windowStart)
        let clientCPUBefore = ProcessProbe.ownCPUSeconds()
        let serverCPUBefore = serverPid.flatMap { ProcessProbe.cpuSeconds(pid: $0) }
        let machineBefore = ProcessProbe.machineBusySeconds()
        sleep(untilNanoseconds: plan.windowEnd)
        let machineCPU = ProcessProbe.machineBusySeconds().flatMap { after in machineBefore.map { after - $0 } }
        let clientCPU = ProcessProbe.ownCPUSeconds() - clientCPUBefore
        let serverCPU = serverPid.flatMap { pid in serverCPUBefore.flatMap { before in ProcessProbe.cpuSeconds(pid: pid).map { $0 - before } } }
        for schedule in schedules { try schedule.finished.futureResult.wait() }

        // Drain: wait for the answers still out, then charge what never came.
        let drainEnd = monotonicNanoseconds() + UInt64(drain * 1e9)
        while monotonicNanoseconds() < drainEnd {
            let outstanding = try schedules.map { schedule in
                try schedule.loop.submit { schedule.connections.reduce(0) { $0 + $1.requester.pendingCount } }.wait()
            }.reduce(0, +)
            if outstanding == 0 { break }
            sleep(seconds: 0.02)
        }
        let chargedAt = monotonicNanoseconds()
        let unanswered = try schedules.map { schedule in
            try schedule.loop.submit { schedule.connections.reduce(0) { $0 + $1.requester.chargeUnanswered(now: chargedAt) } }.wait()
        }.reduce(0, +)
        let total = LoopTally()
        for schedule in schedules { try schedule.loop.submit { total.add(schedule.tally) }.wait() }

        let report = OpenLoopReport(
            label: label, method: method, connections: connections, threads: threads, warmup: warmup, duration: duration,
            offered: rate, plan: plan, tally: total, unanswered: unanswered, clientCPUSeconds: clientCPU,
            serverCPUSeconds: serverCPU, machineCPUSeconds: machineCPU, connectSeconds: connectSeconds)
        print(report.humanLine)
        print(report.json.text)
    }
}
