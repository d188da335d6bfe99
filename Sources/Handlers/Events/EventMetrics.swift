public import Metrics

/// The event pipeline's counters, made once (on first use, after the executable bootstrapped the
/// metrics system; before it, or in tests, they count nowhere).
public enum EventMetrics {
    /// Events numbered by this instance's sequencer and published on the bus.
    public static let published = Counter(label: "faros_events_published_total")
    /// Notifications handed to local sessions (one per recipient session).
    public static let delivered = Counter(label: "faros_events_delivered_total")
    /// Notifications queued for a session whose connection closed (a slow consumer cut off, a
    /// disconnect) before they could be written; the client catches up with `since`.
    public static let dropped = Counter(label: "faros_events_dropped_total")
    /// Sessions closed with 1013 because their outbound buffer overflowed.
    public static let slowConsumers = Counter(label: "faros_slow_consumers_total")
}
