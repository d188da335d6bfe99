public import Handlers
import NIOCore
import Synchronization

/// The event bus of a single instance: a publish reaches this process's subscribers only.
///
/// Deliveries of one channel are serialized without a thread of their own: a publish appends
/// the message (with a snapshot of the channel's subscribers at that moment) to the channel's
/// queue, and the publisher that finds nobody delivering becomes the deliverer, calling the
/// handlers for every queued message in order until the queue is empty. So messages reach each
/// subscriber in publish order, handler calls never overlap, a publisher that arrives while
/// another delivers returns at once, and a publisher waits only for handler calls (which the
/// ``EventBus`` contract requires to be quick). A subscriber receives the messages published
/// after its `subscribe` returned, and none once it is cancelled.
public final class InProcessEventBus: EventBus {
    /// Messages one channel may hold undelivered before `publish` throws.
    ///
    /// 65,536: handlers hand messages on, so a queue only builds up when they stall; past this
    /// the bus drops (with an error the caller logs) rather than grow without bound — the event
    /// log, not the bus, is the source of truth.
    public static let maxQueuedPerChannel = 65_536

    public var kind: String { "in-process" }

    private struct Pending {
        var payload: [UInt8]
        var subscribers: [LocalSubscriber]
    }

    private struct Channel {
        var subscribers: [LocalSubscriber] = []
        var queue = CircularBuffer<Pending>()
        var delivering = false
    }

    private struct State {
        var channels: [String: Channel] = [:]
        var nextID: UInt64 = 0
        var closed = false
    }

    private let state = Mutex(State())

    public init() {}

    public func publish(channel: String, payload: [UInt8]) async throws {
        let deliver = try state.withLock { state throws(BusError) -> Bool in
            guard !state.closed else { throw BusError("the event bus is shut down") }
            // Mutated in place through the dictionary: copying a channel out would copy its queue.
            guard let subscribers = state.channels[channel]?.subscribers, !subscribers.isEmpty else { return false }
            guard state.channels[channel]!.queue.count < Self.maxQueuedPerChannel else {
                throw BusError("the subscribers of \(channel) are not keeping up; message dropped")
            }
            state.channels[channel]!.queue.append(Pending(payload: payload, subscribers: subscribers))
            let becomesDeliverer = !state.channels[channel]!.delivering
            state.channels[channel]!.delivering = true
            return becomesDeliverer
        }
        if deliver { drain(channel) }
    }

    public func subscribe(channel: String, onDelivery: @escaping @Sendable (BusDelivery) -> Void) async -> BusSubscription {
        let subscriber: LocalSubscriber? = state.withLock { state in
            guard !state.closed else { return nil }
            state.nextID += 1
            let subscriber = LocalSubscriber(id: state.nextID, handler: onDelivery)
            state.channels[channel, default: Channel()].subscribers.append(subscriber)
            return subscriber
        }
        guard let subscriber else { return BusSubscription {} }
        return BusSubscription { [weak self] in
            subscriber.markCancelled()
            self?.remove(subscriber, from: channel)
        }
    }

    public func isHealthy() async -> Bool {
        !state.withLock { $0.closed }
    }

    public func shutdown() async {
        let subscribers = state.withLock { state in
            state.closed = true
            let all = state.channels.values.flatMap(\.subscribers)
            // A deliverer still draining finds the channel gone and stops.
            state.channels = [:]
            return all
        }
        for subscriber in subscribers { subscriber.markCancelled() }
    }

    /// How many local subscriptions `channel` has (for tests and `/metrics`).
    public func localSubscriberCount(channel: String) -> Int {
        state.withLock { $0.channels[channel]?.subscribers.count ?? 0 }
    }

    private func drain(_ channel: String) {
        while let next = nextPending(channel) {
            for subscriber in next.subscribers { subscriber.deliver(.message(next.payload)) }
        }
    }

    private func nextPending(_ channel: String) -> Pending? {
        state.withLock { state in
            guard state.channels[channel] != nil else { return nil }
            if let next = state.channels[channel]!.queue.popFirst() { return next }
            state.channels[channel]!.delivering = false
            if state.channels[channel]!.subscribers.isEmpty { state.channels[channel] = nil }
            return nil
        }
    }

    private func remove(_ subscriber: LocalSubscriber, from channel: String) {
        state.withLock { state in
            guard state.channels[channel] != nil else { return }
            state.channels[channel]!.subscribers.removeAll { $0 === subscriber }
            // A channel being drained stays until its deliverer finds the queue empty.
            if state.channels[channel]!.subscribers.isEmpty && !state.channels[channel]!.delivering {
                state.channels[channel] = nil
            }
        }
    }
}
