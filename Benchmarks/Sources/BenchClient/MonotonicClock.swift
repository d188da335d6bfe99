#if canImport(Glibc)
import Glibc
#endif

/// Nanoseconds of CLOCK_MONOTONIC, the clock NIO's deadlines use too, so a due time computed
/// here can be handed to `scheduleTask(deadline:)` unchanged and compared with reply times.
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Sleeps the calling thread until the monotonic clock reaches `deadline` (the tools' main
/// threads only wait; the event loops do the work).
public func sleep(untilNanoseconds deadline: UInt64) {
    while true {
        let now = monotonicNanoseconds()
        if now >= deadline { return }
        let left = deadline - now
        var ts = timespec(tv_sec: Int(left / 1_000_000_000), tv_nsec: Int(left % 1_000_000_000))
        _ = nanosleep(&ts, nil)
    }
}

public func sleep(seconds: Double) {
    sleep(untilNanoseconds: monotonicNanoseconds() + UInt64(max(0, seconds) * 1e9))
}
