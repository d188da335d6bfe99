import BenchClient

/// One phase's figures, as a human line and a JSON line (the script reads the JSON).
struct SessionReport {
    let label: String
    let phase: String
    let sessions: Int
    let concurrency: Int
    let threads: Int
    let sources: Int
    let result: PhaseResult

    var opensPerSecond: Double {
        result.opened.seconds > 0 ? Double(result.opened.ready) / result.opened.seconds : 0
    }

    /// Server memory per session held: the growth of its resident set over the phase, divided by
    /// the sessions that opened.
    var kiBPerSession: Double? {
        guard let before = result.serverKiBBefore, let after = result.serverKiBAfter, result.opened.ready > 0 else { return nil }
        return Double(after - before) / Double(result.opened.ready)
    }

    private var seconds: Double { max(result.opened.seconds, 1e-9) }

    var json: JSONValue {
        .object([
            ("tool", .string("faros-sessionbench")),
            ("label", .string(label)),
            ("phase", .string(phase)),
            ("sessions", .int(sessions)),
            ("ready", .int(result.opened.ready)),
            ("failed", .int(result.opened.failures.values.reduce(0, +))),
            ("failures", .object(result.opened.failures.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
            ("opens_per_s", .number(opensPerSecond, decimals: 0)),
            ("open_seconds", .number(result.opened.seconds, decimals: 3)),
            ("open_latency_ms", .object(result.opened.openLatency.summary)),
            ("server_kib_before", result.serverKiBBefore.map { .int($0) } ?? .null),
            ("server_kib_after", result.serverKiBAfter.map { .int($0) } ?? .null),
            ("server_kib_per_session", kiBPerSession.map { .number($0, decimals: 2) } ?? .null),
            ("still_open", .int(result.stillOpen)),
            ("pongs", .int(result.pongs)),
            ("closed_while_held", .int(result.closedWhileHeld)),
            ("notifications", .int(result.notifications)),
            ("concurrency", .int(concurrency)),
            ("threads", .int(threads)),
            ("sources", .int(sources)),
            ("cores", .int(ProcessProbe.cores)),
            ("client_cpu_pct", .number(result.clientCPUSeconds / seconds * 100, decimals: 1)),
            ("server_cpu_pct", result.serverCPUSeconds.map { .number($0 / seconds * 100, decimals: 1) } ?? .null),
            ("other_cpu_pct", result.otherCPUSeconds.map { .number($0 / seconds * 100, decimals: 1) } ?? .null),
        ])
    }

    var humanLine: String {
        let failed = result.opened.failures.values.reduce(0, +)
        let memory = kiBPerSession.map { format($0, decimals: 2) + " KiB/session" } ?? "n/a"
        let server = result.serverCPUSeconds.map { format($0 / seconds * 100, decimals: 0) + "%" } ?? "n/a"
        let other = result.otherCPUSeconds.map { format($0 / seconds * 100, decimals: 0) + "%" } ?? "n/a"
        return "faros-sessionbench \(label) \(phase): \(result.opened.ready)/\(sessions) ready (\(failed) failed) in "
            + "\(format(result.opened.seconds, decimals: 2)) s = \(format(opensPerSecond, decimals: 0)) opens/s,"
            + " open \(result.opened.openLatency.summaryLine); server \(memory); still open \(result.stillOpen), pongs \(result.pongs);"
            + " cpu client \(format(result.clientCPUSeconds / seconds * 100, decimals: 0))% server \(server) other \(other)"
    }
}
