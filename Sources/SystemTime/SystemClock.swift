#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import Handlers

/// The system's real-time clock: the domain's clock port in production.
///
/// The domain only takes a `@Sendable () -> Timestamp`; the standard library has no wall clock
/// (its clocks are monotonic), so reading `CLOCK_REALTIME` lives here, outside the domain.
public enum SystemClock {
    /// The current time at millisecond precision.
    @Sendable public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(milliseconds: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }
}
