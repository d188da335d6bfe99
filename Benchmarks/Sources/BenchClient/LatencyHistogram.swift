import Histogram

/// Latencies in microseconds, 1 µs to one hour at three significant digits (HdrHistogram), so a
/// stall of seconds is recorded as what it was instead of being clipped; reported in milliseconds.
public struct LatencyHistogram: Sendable {
    private var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000,
                                              numberOfSignificantValueDigits: .three)

    public init() {}

    public mutating func record(nanoseconds: UInt64) {
        _ = histogram.record(min(max(nanoseconds / 1000, 1), 3_600_000_000))
    }

    public mutating func add(_ other: LatencyHistogram) { histogram.add(other.histogram) }

    public var count: UInt64 { histogram.totalCount }

    /// The value at `percentile` (0–100) in milliseconds; nil without samples.
    public func milliseconds(atPercentile percentile: Double) -> Double? {
        count == 0 ? nil : Double(histogram.valueAtPercentile(percentile)) / 1000
    }

    public var maxMilliseconds: Double? { count == 0 ? nil : Double(histogram.max) / 1000 }

    /// p50, p90, p99, p99.9 and max, the members every report of these tools carries.
    public var summary: [(String, JSONValue)] {
        [("p50", .milliseconds(milliseconds(atPercentile: 50))),
         ("p90", .milliseconds(milliseconds(atPercentile: 90))),
         ("p99", .milliseconds(milliseconds(atPercentile: 99))),
         ("p99.9", .milliseconds(milliseconds(atPercentile: 99.9))),
         ("max", .milliseconds(maxMilliseconds))]
    }

    /// `p50 0.41 ms  p90 …`, for the human line.
    public var summaryLine: String {
        summary.map { name, value in "\(name) \(value.text) ms" }.joined(separator: "  ")
    }
}
