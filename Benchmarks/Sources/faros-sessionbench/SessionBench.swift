import ArgumentParser
import BenchClient
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Idle sessions (issue 23): how fast signed-in, subscribed sessions open and what each costs the
/// server in memory while it holds them, with bare WebSocket connections to the same server as
/// the anchor. Prints a human line and one JSON line per phase.
///
///     faros-sessionbench --url ws://127.0.0.1:PORT/rpc --token TOKEN --task-id 1 --task-spread 10000 \
///         --sessions 19000 --server-pid PID --phases signed,bare
@main
struct SessionBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faros-sessionbench",
        abstract: "Open N idle WebSocket sessions, signed in and subscribed or bare; report opens per second and server KiB per session.")

    @Option(help: "WebSocket URL of the server's /rpc.") var url: String
    @Option(help: "Access token for the signed-in phase (`Authorization: Bearer` on the upgrade).") var token: String?
    @Option(help: "A task the token's user can view: each signed-in session subscribes to `tasks` and `task:<id>`.") var taskId: Int = 1
    @Option(help: "Session i subscribes to task id + i % spread (ids the seeding made consecutive), so the sessions do not all share one topic.")
    var taskSpread = 1
    @Option(help: "Sessions per phase.") var sessions = 1000
    @Option(help: "Opens in flight at once.") var concurrency = 256
    @Option(help: "Phases in order, comma separated: `signed` (bearer token and events.subscribe) and `bare` (upgrade only).")
    var phases = "signed,bare"
    @Option(help: "Sessions opened and closed before the first phase, so one-time allocations are not charged per session.")
    var prewarm = 64
    @Option(help: "Seconds between the last open and the memory reading.") var settle: Double = 2
    @Option(help: "Seconds to hold the sessions idle after the reading, before checking they are all still open.") var hold: Double = 0
    @Option(help: "Client event loop threads.") var threads = 2
    @Option(help: "Loopback source addresses to spread the connections over (127.0.0.1 up): one address's ephemeral-port search grows with the ports it holds.")
    var sources = 16
    @Option(help: "Server process id: its VmRSS and CPU are read around each phase.") var serverPid: Int32?
    @Option(help: "Label carried into the JSON lines.") var label = ""

    func validate() throws {
        guard WebSocketURL(url) != nil else { throw ValidationError("--url must be ws://HOST:PORT/PATH") }
        guard sessions > 0, concurrency > 0, threads > 0, taskSpread > 0, prewarm >= 0 else {
            throw ValidationError("sessions, concurrency, threads and task-spread must be positive")
        }
        for phase in phaseList {
            guard phase == "signed" || phase == "bare" else { throw ValidationError("unknown phase \(phase)") }
            if phase == "signed", token == nil { throw ValidationError("the signed phase needs --token") }
        }
    }

    var phaseList: [String] { phases.split(separator: ",").map(String.init) }

    func run() throws {
        let descriptors = ProcessProbe.raiseDescriptorLimit()
        if descriptors < sessions + 64 {
            throw BenchFailure("descriptor limit \(descriptors) is below \(sessions) sessions (raise the hard limit)")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        defer { try? group.syncShutdownGracefully() }
        let runner = PhaseRunner(group: group, concurrency: concurrency, serverPid: serverPid)
        for phase in phaseList {
            let setup = try setup(phase)
            if prewarm > 0 {
                let warm = try runner.open(count: prewarm, setup: setup)
                try runner.closeAll(warm)
            }
        }
        for phase in phaseList {
            let result = try runner.measure(phase: phase, count: sessions, setup: setup(phase), settle: settle, hold: hold)
            let report = SessionReport(label: label, phase: phase, sessions: sessions, concurrency: concurrency, threads: threads, sources: sources,
                                       result: result)
            print(report.humanLine)
            print(report.json.text)
        }
    }

    /// How a phase's sessions open: the dialer (with or without the bearer header) and the
    /// subscription each sends.
    func setup(_ phase: String) throws -> SessionSetup {
        let address = WebSocketURL(url)!
        let from = WebSocketDialer.loopbackSources(sources)
        guard phase == "signed", let token else {
            return SessionSetup(dialer: try WebSocketDialer(url: address, sources: from), subscribe: nil)
        }
        let first = taskId, spread = taskSpread
        return SessionSetup(
            dialer: try WebSocketDialer(url: address, headers: [("Authorization", "Bearer \(token)")], sources: from),
            subscribe: { index, allocator in
                var request = allocator.buffer(capacity: 128)
                request.writeString(#"{"jsonrpc":"2.0","id":1,"method":"events.subscribe","params":{"topics":["tasks","task:\#(first + index % spread)"]}}"#)
                return request
            })
    }
}

struct SessionSetup: Sendable {
    let dialer: WebSocketDialer
    let subscribe: (@Sendable (Int, ByteBufferAllocator) -> ByteBuffer)?
}
