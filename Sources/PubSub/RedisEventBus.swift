public import Handlers
public import Logging
public import NIOPosix
import Synchronization

/// The event bus across instances: Redis pub/sub over hiredis.
///
/// Publishing goes through a ``RedisClient`` (a small pool of pipelined connections on a bounded
/// thread pool). Subscribing uses one dedicated connection on a thread of its own (see
/// `RedisSubscriber`): local subscriptions are reference-counted per channel, so the first one
/// sends SUBSCRIBE and the last cancel sends UNSUBSCRIBE; messages reach handlers on that
/// thread in the order Redis sent them. After an outage the bus reconnects with exponential
/// backoff and jitter (50 ms doubling to 5 s), resubscribes, and delivers
/// ``BusDelivery/resumed`` to every subscriber of a resubscribed channel before any new message;
/// a subscriber registered while Redis was down gets `.resumed` too once its channel is live.
///
/// Payloads are bytes end to end (binary-safe): one copy out of hiredis' reply into the
/// delivered `[UInt8]`, shared by every local subscriber of the channel.
public final class RedisEventBus: EventBus {
    /// How the subscriber connection recovers and checks itself.
    public struct Configuration: Sendable {
        /// First reconnect delay: short, since a restarted Redis is usually back in moments.
        public var reconnectInitialDelay: Duration = .milliseconds(50)
        /// Longest reconnect delay: bounds how long events ride on the log's timer alone after
        /// Redis is back, while keeping a down Redis from being hammered by every instance.
        public var reconnectMaximumDelay: Duration = .seconds(5)
        /// Silence after which the subscriber PINGs, and waits as long again for the answer
        /// before it declares the connection dead (a peer that vanished without a FIN).
        public var keepaliveInterval: Duration = .seconds(5)

        public init() {}
    }

    public var kind: String { "redis" }

    private let client: RedisClient
    private let ownsClient: Bool
    private let subscriber: RedisSubscriber
    private let closed = Atomic<Bool>(false)
    private static let publishCommand = Array("PUBLISH".utf8)

    /// A bus with a client of its own, shut down with the bus.
    ///
    /// - Parameter threadPool: runs the publish connections' blocking calls (at least
    ///   `redis.poolSize` threads); the subscriber has a thread of its own.
    public convenience init(redis: RedisConfiguration, threadPool: NIOThreadPool, configuration: Configuration = Configuration(), logger: Logger) {
        self.init(
            client: RedisClient(configuration: redis, threadPool: threadPool, logger: logger),
            ownsClient: true,
            configuration: configuration,
            logger: logger
        )
    }

    /// A bus that publishes through `client` (shared, for instance, with a ``RedisRateLimiter``)
    /// and leaves it open on shutdown.
    public convenience init(client: RedisClient, configuration: Configuration = Configuration(), logger: Logger) {
        self.init(client: client, ownsClient: false, configuration: configuration, logger: logger)
    }

    private init(client: RedisClient, ownsClient: Bool, configuration: Configuration, logger: Logger) {
        self.client = client
        self.ownsClient = ownsClient
        self.subscriber = RedisSubscriber(
            redis: client.configuration,
            settings: RedisSubscriber.Settings(
                reconnectInitialDelay: configuration.reconnectInitialDelay,
                reconnectMaximumDelay: configuration.reconnectMaximumDelay,
                keepaliveInterval: configuration.keepaliveInterval
            ),
            client: client,
            logger: logger
        )
    }

    /// Publishes with `PUBLISH`.
    ///
    /// - Throws: ``BusError`` when Redis is unreachable (at once while it is known to be down;
    ///   otherwise within the connect timeout) or the bus is shut down.
    public func publish(channel: String, payload: [UInt8]) async throws {
        guard !closed.load(ordering: .acquiring) else { throw BusError("the event bus is shut down") }
        let reply: RedisReply
        do {
            reply = try await client.send([Self.publishCommand, Array(channel.utf8), payload])
        } catch let error as RedisError {
            throw BusError("Redis is unavailable: \(error.message)")
        }
        if case .error(let message) = reply {
            throw BusError("Redis refused PUBLISH: \(message)")
        }
    }

    public func subscribe(channel: String, onDelivery: @escaping @Sendable (BusDelivery) -> Void) async -> BusSubscription {
        await subscriber.subscribe(channel: channel, onDelivery: onDelivery)
    }

    /// The subscriber connection's state once anything subscribed; before that, a PING through
    /// the publish pool.
    public func isHealthy() async -> Bool {
        guard !closed.load(ordering: .acquiring) else { return false }
        if subscriber.isStarted { return subscriber.isConnected }
        return (try? await client.send(["PING"])) == .status("PONG")
    }

    public func shutdown() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await subscriber.shutdown()
        if ownsClient { await client.shutdown() }
    }

    /// Whether the subscriber connection is up now (false before anything subscribed).
    public var isSubscriberConnected: Bool { subscriber.isConnected }

    /// How many local subscriptions `channel` has (all sharing one Redis subscription).
    public func localSubscriberCount(channel: String) -> Int {
        subscriber.localSubscriberCount(channel: channel)
    }
}
