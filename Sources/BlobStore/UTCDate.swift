#if canImport(Glibc)
import Glibc
#endif

/// The request time as SigV4 writes it: `20261203T112233Z` and `20261203`.
struct UTCDate: Sendable {
    var amzDate: String
    var day: String { String(amzDate.prefix(8)) }

    init(secondsSince1970 seconds: Int) {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        self.amzDate = "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    static var now: UTCDate { UTCDate(secondsSince1970: Int(time(nil))) }
}
