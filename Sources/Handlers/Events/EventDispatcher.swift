public import Logging

/// This instance's consumer of the event stream: takes numbered events from the bus, checks
/// that none is missing, fills any hole from the log, and hands each event, once and in `seq`
/// order, to the ``EventHub`` (or, for `session.revoked`, to the ``SessionDirectory``).
///
/// The bus is fast but may lose messages (a Redis restart, a full buffer); the log is
/// complete. So: a message at or below the last dispatched `seq` is a duplicate and dropped; one
/// further ahead than the next means a gap, read from the log first; after the bus reports
/// ``BusDelivery/resumed``, and on a timer, the log's head is compared with the last dispatched
/// `seq` and anything newer is read from the log.
public final class EventDispatcher: Sendable {
    private let log: any EventLog
    private let bus: any EventBus
    private let hub: EventHub
    private let sessions: SessionDirectory
    private let logger: Logger
    private let interval: Duration
    private let inputs: AsyncStream<Input>
    private let inputSink: AsyncStream<Input>.Continuation

    enum Input: Sendable {
        case message([UInt8])
        case check
    }

    /// Bus messages waiting to be dispatched. Past it, newer messages are dropped and later
    /// read back from the log as a gap: the bus's thread never waits for a slow dispatch.
    static let queueLimit = 10_000
    /// Entries read from the log per query while catching up.
    static let catchUpBatch = 1_000

    public init(
        log: any EventLog, bus: any EventBus, hub: EventHub, sessions: SessionDirectory,
        logger: Logger, interval: Duration = .seconds(1)
    ) {
        self.log = log
        self.bus = bus
        self.hub = hub
        self.sessions = sessions
        self.logger = logger
        self.interval = interval
        (self.inputs, self.inputSink) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .bufferingOldest(Self.queueLimit))
    }

    /// Runs until the task is cancelled: subscribes to the bus, starts from the log's head, and
    /// dispatches everything after it.
    public func run() async {
        let sink = self.inputSink
        let subscription = await self.bus.subscribe(channel: EventSequencer.channel) { delivery in
            switch delivery {
            case .message(let bytes): sink.yield(.message(bytes))
            case .resumed: sink.yield(.check)
            }
        }
        defer { subscription.cancel() }
        let ticker = Task { [interval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                sink.yield(.check)
            }
        }
        defer { ticker.cancel() }

        var last = await self.startingPoint()
        var audiences = AudienceCache()
        await withTaskCancellationHandler {
            for await input in self.inputs {
                switch input {
                case .message(let bytes):
                    guard let event = LoggedEvent(busPayload: bytes) else {
                        self.logger.warning("Malformed event on the bus", metadata: ["bus.message.bytes": "\(bytes.count)"])
                        continue
                    }
                    guard event.seq > last else { continue }
                    if event.seq > last + 1 {
                        last = await self.catchUp(from: last, through: event.seq - 1, audiences: &audiences)
                        guard event.seq == last + 1 else { continue }  // the log could not fill it: try again on the next check
                    }
                    // When its audience cannot be read now, the next check reads it from the log.
                    guard await self.apply(event, audiences: &audiences) else { continue }
                    last = event.seq
                case .check:
                    guard let head = try? await self.log.headSeq(), head > last else { continue }
                    last = await self.catchUp(from: last, through: head, audiences: &audiences)
                }
            }
        } onCancel: {
            sink.finish()
        }
    }

    /// The log's head when this instance starts: it serves live events from then on (older
    /// ones are replayed on request). Retries while the database is unreachable.
    private func startingPoint() async -> Int64 {
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                return try await self.log.headSeq()
            } catch {
                self.logger.warning("Event log unreachable", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        return 0
    }

    /// Dispatches the log's entries after `last` up to `through`; returns the last one
    /// dispatched (unchanged when the log cannot be read now).
    private func catchUp(from last: Int64, through: Int64, audiences: inout AudienceCache) async -> Int64 {
        var last = last
        while last < through, !Task.isCancelled {
            let events: [LoggedEvent]
            do {
                events = try await self.log.events(after: last, through: through, limit: Self.catchUpBatch)
            } catch {
                self.logger.warning("Event catch-up failed", metadata: ["error": "\(error)"])
                return last
            }
            guard !events.isEmpty else { return last }
            for event in events where event.seq > last {
                guard await self.apply(event, audiences: &audiences) else { return last }
                last = event.seq
            }
        }
        return last
    }

    /// Acts on one event, reading its audience set first unless it is cached; false (and
    /// nothing done) when the set cannot be read now.
    private func apply(_ event: LoggedEvent, audiences: inout AudienceCache) async -> Bool {
        if event.type == LoggedEvent.sessionRevoked {
            SessionRevocation(event.data)?.apply(to: self.sessions)
            return true
        }
        var event = event
        if event.audience.isEmpty, let setID = event.audienceSetID {
            if let cached = audiences[setID] {
                event.audience = cached
            } else {
                do {
                    event.audience = try await self.log.audience(setID: setID)
                } catch {
                    self.logger.warning("Event audience unreadable", metadata: ["event.seq": "\(event.seq)", "error": "\(error)"])
                    return false
                }
                audiences.insert(event.audience, setID: setID)
            }
        }
        EventMetrics.delivered.increment(by: self.hub.dispatch(event))
        return true
    }
}
