public import Logging

/// Numbers committed event-log entries after commit and publishes them on the bus, in `seq`
/// order (docs/events.md, "`seq`").
///
/// Woken by ``wake()`` after each local commit that logged something, and by a timer, so that
/// entries committed by an instance that crashed before numbering them are numbered anyway.
/// Several instances may run one each: the store's counter lock makes them take turns, and each
/// publishes what it numbered. A publish that fails (Redis down) loses nothing: every instance
/// reads the log for what the bus did not bring.
public final class EventSequencer: Sendable {
    /// The bus channel every numbered event is published on.
    public static let channel = "faros:events"
    /// Entries numbered per transaction: large enough to drain a burst in a few round trips,
    /// small enough to keep the counter row locked for a few milliseconds at most.
    static let batch = 500

    private let log: any EventLog
    private let bus: any EventBus
    private let logger: Logger
    private let interval: Duration
    private let wakeups: AsyncStream<Void>
    private let wakeupSink: AsyncStream<Void>.Continuation

    public init(log: any EventLog, bus: any EventBus, logger: Logger, interval: Duration = .seconds(1)) {
        self.log = log
        self.bus = bus
        self.logger = logger
        self.interval = interval
        // One pending wake-up is enough: a run numbers everything committed before it starts.
        (self.wakeups, self.wakeupSink) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a run soon; cheap, callable from anywhere.
    public func wake() {
        self.wakeupSink.yield()
    }

    /// Runs until the task is cancelled.
    public func run() async {
        let ticker = Task { [wakeupSink, interval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                wakeupSink.yield()
            }
        }
        defer { ticker.cancel() }
        await withTaskCancellationHandler {
            for await _ in self.wakeups {
                await self.drain()
            }
        } onCancel: {
            self.wakeupSink.finish()
        }
    }

    /// Numbers and publishes until nothing is pending. Returns how many were numbered.
    @discardableResult
    public func drain() async -> Int {
        var total = 0
        while !Task.isCancelled {
            let events: [LoggedEvent]
            do {
                events = try await self.log.sequencePending(limit: Self.batch)
            } catch {
                self.logger.warning("Event sequencing failed", metadata: ["error": "\(error)"])
                return total
            }
            for event in events {
                do {
                    try await self.bus.publish(channel: Self.channel, payload: event.busPayload)
                    EventMetrics.published.increment()
                } catch {
                    // The log has it; subscribers catch up from there once the bus is back.
                    self.logger.debug("Event publish failed", metadata: ["event.seq": "\(event.seq)", "error": "\(error)"])
                }
            }
            total += events.count
            if events.count < Self.batch { break }
        }
        return total
    }
}
