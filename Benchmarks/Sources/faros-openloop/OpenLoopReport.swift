import BenchClient

/// The end of a run, as one human line and one JSON line (the script reads the JSON).
struct OpenLoopReport {
    let label: String
    let method: String
    let connections: Int
    let threads: Int
    let warmup: Double
    let duration: Double
    let offered: Double
    let plan: SchedulePlan
    let tally: LoopTally
    let unanswered: Int
    let clientCPUSeconds: Double
    let serverCPUSeconds: Double?
    let machineCPUSeconds: Double?
    let connectSeconds: Double

    /// CPU used by everything but this client and the server, over the window.
    var otherCPUSeconds: Double? {
        guard let machineCPUSeconds, let serverCPUSeconds else { return nil }
        return max(0, machineCPUSeconds - serverCPUSeconds - clientCPUSeconds)
    }

    /// Answers to measured requests per second, from the window's start to the last of them: at
    /// an offered rate the server keeps up with, this is the offered rate; below it, it is what
    /// the server managed while the queue grew.
    var achieved: Double {
        let span = Double(max(tally.lastMeasuredReply, plan.windowEnd) - plan.windowStart) / 1e9
        return span > 0 ? Double(tally.answered) / span : 0
    }

    var measured: Int { Int((offered * duration).rounded()) }

    var json: JSONValue {
        .object([
            ("tool", .string("faros-openloop")),
            ("label", .string(label)),
            ("method", .string(method)),
            ("rate_offered", .number(offered, decimals: 1)),
            ("rate_achieved", .number(achieved, decimals: 1)),
            ("count", .int(tally.answered)),
            ("errors", .int(tally.errors)),
            ("unanswered", .int(unanswered)),
            ("latency_ms", .object(tally.latency.summary)),
            ("send_lag_ms", .object(tally.sendLag.summary)),
            ("connections", .int(connections)),
            ("closed_early", .int(tally.closed)),
            ("threads", .int(threads)),
            ("cores", .int(ProcessProbe.cores)),
            ("warmup_s", .number(warmup, decimals: 1)),
            ("duration_s", .number(duration, decimals: 1)),
            ("client_cpu_pct", .number(clientCPUSeconds / duration * 100, decimals: 1)),
            ("server_cpu_pct", serverCPUSeconds.map { .number($0 / duration * 100, decimals: 1) } ?? .null),
            ("other_cpu_pct", otherCPUSeconds.map { .number($0 / duration * 100, decimals: 1) } ?? .null),
            ("unmatched", .int(tally.unmatched)),
            ("unrecognised", .int(tally.unrecognised)),
            ("first_error", tally.firstError.map { .string(String($0.prefix(300))) } ?? .null),
            ("connect_s", .number(connectSeconds, decimals: 3)),
        ])
    }

    var humanLine: String {
        let server = serverCPUSeconds.map { format($0 / duration * 100, decimals: 0) + "%" } ?? "n/a"
        let other = otherCPUSeconds.map { format($0 / duration * 100, decimals: 0) + "%" } ?? "n/a"
        return "faros-openloop \(label) \(method) c=\(connections): offered \(format(offered, decimals: 0))/s"
            + " achieved \(format(achieved, decimals: 0))/s  n=\(tally.answered) errors \(tally.errors) unanswered \(unanswered)"
            + "  \(tally.latency.summaryLine)  send lag p99 \(JSONValue.milliseconds(tally.sendLag.milliseconds(atPercentile: 99)).text) ms"
            + "  cpu client \(format(clientCPUSeconds / duration * 100, decimals: 0))% server \(server) other \(other)"
    }
}
