import Synchronization

/// What the domain needs from a publish/subscribe transport: fire-and-forget messages on named
/// channels, reaching every instance that subscribed, plus a signal when messages may have been
/// missed (so the subscriber catches up from the event log, which is the source of truth).
///
/// Implementations live in the `PubSub` module: an in-process bus for a single instance and a
/// Redis bus (hiredis) for several. A bus never guarantees delivery; the event log does. That is
/// why a Redis outage never fails a write: a publish that cannot reach Redis is dropped, and
/// every instance fills the hole from the log when the bus says ``BusDelivery/resumed``.
public protocol EventBus: Sendable {
    /// `in-process` or `redis`, for logs and `/ready`.
    var kind: String { get }

    /// Sends `payload` to every subscriber of `channel` on every instance (this one included).
    /// Throws ``BusError`` when the transport is down; the caller does not retry (the log will).
    func publish(channel: String, payload: [UInt8]) async throws

    /// Starts delivering `channel`'s messages to `onDelivery`, in the order the transport
    /// received them. Subscriptions are reference-counted per instance: several local
    /// subscribers of one channel share one transport subscription, which ends when the last
    /// ``BusSubscription`` is cancelled. After an outage, each subscriber of a resubscribed
    /// channel receives ``BusDelivery/resumed`` before any new message.
    ///
    /// `onDelivery` runs on the bus's own thread or task: it must return quickly (hand the
    /// message on), and deliveries to one subscriber never overlap.
    func subscribe(channel: String, onDelivery: @escaping @Sendable (BusDelivery) -> Void) async -> BusSubscription

    /// True while the transport answers (`/ready`).
    func isHealthy() async -> Bool

    /// Closes connections and ends every subscription; later publishes throw.
    func shutdown() async
}

/// What a subscriber of an ``EventBus`` channel receives.
public enum BusDelivery: Sendable, Equatable {
    /// One message, as published.
    case message([UInt8])
    /// The transport was down and is back: messages published meanwhile are lost to this
    /// subscriber, which should catch up from the log.
    case resumed
}

/// A transport failure (Redis unreachable, the bus shut down).
public struct BusError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One subscriber's hold on a channel; ``cancel()`` is idempotent.
public final class BusSubscription: Sendable {
    private let onCancel: @Sendable () -> Void
    private let cancelled = Atomic<Bool>(false)

    public init(onCancel: @escaping @Sendable () -> Void) {
        self.onCancel = onCancel
    }

    public func cancel() {
        if !self.cancelled.exchange(true, ordering: .acquiringAndReleasing) {
            self.onCancel()
        }
    }

    deinit { self.cancel() }
}
