import JSONRPC
import NIOCore

/// The pace an upload's body must keep: a total deadline from its head, and an average of at
/// least ``minBytesPerSecond`` once ``grace`` has passed, so a client trickling bytes cannot
/// hold an upload, its partial blob and its descriptor open.
///
/// Only time the server spends waiting for the client counts toward the average: not the
/// bearer check before the store is ready, nor a write to the store in flight (reading is
/// paused then). The responder's watchdog calls ``check(now:waitingForClient:)`` once a second.
struct UploadPace {
    let minBytesPerSecond: Int64
    let grace: TimeAmount
    let deadline: NIODeadline
    private(set) var received: Int64 = 0
    /// Time spent waiting for the client's bytes, as the checks measured it.
    private(set) var clientTime: TimeAmount = .zero
    private var lastCheck: NIODeadline

    init(configuration: RESTConfiguration, start: NIODeadline) {
        self.minBytesPerSecond = Int64(configuration.uploadMinBytesPerSecond)
        self.grace = TimeAmount(configuration.bodyIdleTimeout)
        self.deadline = start + TimeAmount(configuration.uploadTimeout)
        self.lastCheck = start
    }

    mutating func receive(_ bytes: Int) {
        received += Int64(bytes)
    }

    /// Why the upload must stop now, or nil while it keeps its pace.
    mutating func check(now: NIODeadline, waitingForClient: Bool) -> RPCError? {
        if waitingForClient { clientTime = clientTime + (now - lastCheck) }
        lastCheck = now
        if now > deadline {
            return RPCError(.requestTimeout, message: "Upload took too long")
        }
        guard minBytesPerSecond > 0, clientTime > grace else { return nil }
        let seconds = Double(clientTime.nanoseconds) / 1e9
        if Double(received) < Double(minBytesPerSecond) * seconds {
            return RPCError(.requestTimeout, message: "Upload too slow")
        }
        return nil
    }
}
