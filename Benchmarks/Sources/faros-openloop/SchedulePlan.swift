/// The fixed send schedule of an open-loop run, decided before the first request: request `k`
/// is due at `start + k / rate`, whatever the answers do. Latency is counted from the due time,
/// so a server stall shows as the queue of late answers it causes (a closed-loop client would
/// simply send less during the stall, and coordinated omission would hide it).
struct SchedulePlan: Sendable {
    let startNanoseconds: UInt64
    let ratePerSecond: Double
    /// Requests in the whole run, warm-up included.
    let count: Int
    /// Requests due in `[windowStart, windowEnd)` are measured; the warm-up before is not.
    let windowStart: UInt64
    let windowEnd: UInt64

    init(startNanoseconds: UInt64, ratePerSecond: Double, warmupSeconds: Double, durationSeconds: Double) {
        self.startNanoseconds = startNanoseconds
        self.ratePerSecond = ratePerSecond
        count = Int((ratePerSecond * (warmupSeconds + durationSeconds)).rounded(.up))
        windowStart = startNanoseconds + UInt64(warmupSeconds * 1e9)
        windowEnd = windowStart + UInt64(durationSeconds * 1e9)
    }

    func due(_ k: Int) -> UInt64 {
        startNanoseconds + UInt64((Double(k) * 1e9 / ratePerSecond).rounded())
    }

    func isMeasured(due: UInt64) -> Bool { due >= windowStart && due < windowEnd }
}
