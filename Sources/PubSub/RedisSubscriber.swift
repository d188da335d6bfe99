import Handlers
import Logging
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The Redis bus's subscriber side: one connection in subscribe mode, owned by one dedicated
/// thread, plus the registry of local subscribers per channel.
///
/// The thread blocks in `poll()` on the Redis socket and a wakeup pipe. Subscribing or
/// cancelling only edits the registry (under a lock) and writes a byte to the pipe; the thread
/// then compares the channels that have local subscribers with those it has SUBSCRIBEd on the
/// connection and sends the difference. So hiredis' context is only ever touched by that thread,
/// and no poll timeout stands between a request and its command (the timeout only paces the
/// keepalive PING that detects a silently dead connection).
///
/// Messages are delivered to handlers on that thread, in the order Redis sent them. After the
/// connection was lost (or the first connect failed), the thread reconnects with backoff,
/// SUBSCRIBEs every channel still held, and when Redis confirms a channel it delivers
/// ``BusDelivery/resumed`` to each of its subscribers that existed during the outage, before any
/// message of the new connection.
final class RedisSubscriber: Sendable {
    struct Settings: Sendable {
        var reconnectInitialDelay: Duration
        var reconnectMaximumDelay: Duration
        var keepaliveInterval: Duration
    }

    private struct Channel {
        var subscribers: [LocalSubscriber] = []
        /// Redis confirmed the SUBSCRIBE on the current connection.
        var confirmed = false
        /// Subscribers that existed during an outage: they get `.resumed` on confirmation.
        var resumePending: Set<UInt64> = []
        /// `subscribe` calls waiting for the confirmation.
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private struct State {
        var channels: [String: Channel] = [:]
        var nextID: UInt64 = 0
        /// The registry changed since the thread last compared it with the connection.
        var dirty = false
        var connected = false
        /// Set from a lost connection (or a failed first connect) until the next connect.
        var inOutage = false
        var started = false
        var closed = false
        /// The wakeup pipe's write end while the thread runs; written and closed under the lock,
        /// so a wakeup never hits a closed (or reused) descriptor.
        var wakeWrite: Int32 = -1
    }

    /// What the thread alone knows about its current connection.
    private struct Session {
        var connection: RedisConnection?
        /// Channels SUBSCRIBEd (and not since UNSUBSCRIBEd) on this connection.
        var sent: Set<String> = []
        /// SUBSCRIBE confirmations still expected, per channel.
        var pendingConfirmations: [String: Int] = [:]
        var pingOutstanding = false
        var lastTraffic = ContinuousClock.now
        /// Redis answered on this connection (a TCP connect alone proves little: a stopped or
        /// wedged server's kernel still accepts), so the bus counts as up.
        var answered = false
    }

    private let redis: RedisConfiguration
    private let settings: Settings
    private let client: RedisClient
    private let logger: Logger
    private let state = Mutex(State())
    /// One thread, for the subscriber loop alone; joined by `shutdown()`.
    private let thread = NIOThreadPool(numberOfThreads: 1)

    init(redis: RedisConfiguration, settings: Settings, client: RedisClient, logger: Logger) {
        self.redis = redis
        self.settings = settings
        self.client = client
        self.logger = logger
    }

    /// Whether the subscriber connection is up.
    var isConnected: Bool { state.withLock { $0.connected } }

    /// Whether the thread has been started (by the first subscription).
    var isStarted: Bool { state.withLock { $0.started } }

    /// How many local subscriptions `channel` has.
    func localSubscriberCount(channel: String) -> Int {
        state.withLock { $0.channels[channel]?.subscribers.count ?? 0 }
    }

    /// Registers a subscriber and returns once Redis confirmed the channel's subscription, or at
    /// once when Redis is down (the subscriber then gets `.resumed` when it is back).
    func subscribe(channel: String, onDelivery: @escaping @Sendable (BusDelivery) -> Void) async -> BusSubscription {
        let registered: (LocalSubscriber, mustWait: Bool)? = state.withLock { state in
            guard !state.closed else { return nil }
            if !state.started {
                state.started = true
                thread.start()
                thread.submit { _ in self.run() }
            }
            state.nextID += 1
            let subscriber = LocalSubscriber(id: state.nextID, handler: onDelivery)
            var entry = state.channels.removeValue(forKey: channel) ?? Channel()
            entry.subscribers.append(subscriber)
            if state.inOutage { entry.resumePending.insert(subscriber.id) }
            let mustWait = !entry.confirmed && !state.inOutage
            state.channels[channel] = entry
            Self.requestReconcile(&state)
            return (subscriber, mustWait)
        }
        guard let registered else { return BusSubscription {} }
        let (subscriber, mustWait) = registered
        if mustWait {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waiting = state.withLock { state -> Bool in
                    guard !state.closed, !state.inOutage, state.channels[channel]?.confirmed == false else { return false }
                    state.channels[channel]!.waiters.append(continuation)
                    return true
                }
                if !waiting { continuation.resume() }
            }
        }
        return BusSubscription { [weak self] in
            subscriber.markCancelled()
            self?.remove(subscriber, from: channel)
        }
    }

    /// Ends every subscription, closes the connection and joins the thread.
    func shutdown() async {
        let (started, subscribers, waiters) = state.withLock { state in
            state.closed = true
            Self.wake(&state)
            let subscribers = state.channels.values.flatMap(\.subscribers)
            let waiters = state.channels.values.flatMap(\.waiters)
            state.channels = [:]
            return (state.started, subscribers, waiters)
        }
        for subscriber in subscribers { subscriber.markCancelled() }
        for waiter in waiters { waiter.resume() }
        if started { try? await thread.shutdownGracefully() }
    }

    private func remove(_ subscriber: LocalSubscriber, from channel: String) {
        state.withLock { state in
            guard state.channels[channel] != nil else { return }
            state.channels[channel]!.subscribers.removeAll { $0 === subscriber }
            state.channels[channel]!.resumePending.remove(subscriber.id)
            if state.channels[channel]!.subscribers.isEmpty {
                state.channels[channel] = nil
                Self.requestReconcile(&state)
            }
        }
    }

    private static func requestReconcile(_ state: inout State) {
        state.dirty = true
        wake(&state)
    }

    private static func wake(_ state: inout State) {
        guard state.wakeWrite >= 0 else { return }
        var byte: UInt8 = 1
        // A full pipe already holds a wakeup; nothing else can fail on a valid descriptor.
        _ = write(state.wakeWrite, &byte, 1)
    }

    // MARK: - The thread

    private var isClosed: Bool { state.withLock { $0.closed } }

    private func run() {
        var ends: [Int32] = [-1, -1]
        let piped = pipe(&ends) == 0
        if piped {
            for end in ends {
                _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            }
        } else {
            logger.error("cannot create the Redis subscriber's wakeup pipe; subscribing waits for the keepalive poll", metadata: ["redis.error": "errno \(errno)"])
        }
        let wakeRead = piped ? ends[0] : -1
        state.withLock { state in
            state.wakeWrite = piped ? ends[1] : -1
            state.dirty = true
        }
        defer {
            state.withLock { $0.wakeWrite = -1 }
            if piped {
                close(ends[0])
                close(ends[1])
            }
        }

        var backoff = Backoff(initial: settings.reconnectInitialDelay, maximum: settings.reconnectMaximumDelay)
        var session = Session()
        while !isClosed {
            guard session.connection != nil else {
                do throws(RedisError) {
                    let connection = try RedisConnection(configuration: redis)
                    // The first answer (to this PING or anything sent after it) marks the
                    // connection up; the keepalive deadline applies to it like to any PING.
                    try connection.append([Array("PING".utf8)])
                    try connection.flush()
                    session = Session(connection: connection)
                    session.pingOutstanding = true
                } catch {
                    connectionLost(error)
                    pause(backoff.next(), wakeRead: wakeRead)
                }
                continue
            }
            do throws(RedisError) {
                let answeredBefore = session.answered
                try step(&session, wakeRead: wakeRead)
                if session.answered && !answeredBefore { backoff.reset() }
            } catch {
                session.connection?.close()
                session = Session()
                connectionLost(error)
                pause(backoff.next(), wakeRead: wakeRead)
            }
        }
        session.connection?.close()
        state.withLock { $0.connected = false }
    }

    /// Sends what the registry needs, waits for traffic or a wakeup, handles what arrived.
    private func step(_ session: inout Session, wakeRead: Int32) throws(RedisError) {
        guard let connection = session.connection else { return }
        try reconcile(&session, connection)

        let keepalive = settings.keepaliveInterval
        let elapsed = ContinuousClock.now - session.lastTraffic
        if elapsed >= keepalive {
            if session.pingOutstanding {
                throw RedisError(kind: .connection, message: "Redis did not answer the keepalive PING")
            }
            try connection.append([Array("PING".utf8)])
            try connection.flush()
            session.pingOutstanding = true
            session.lastTraffic = .now
        }
        var timeout = Int32(clamping: Backoff.nanoseconds(keepalive - elapsed) / 1_000_000 + 1)
        if wakeRead < 0 { timeout = min(timeout, 50) }

        var descriptors = [
            pollfd(fd: connection.fileDescriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
        ]
        let ready = poll(&descriptors, wakeRead >= 0 ? 2 : 1, max(timeout, 0))
        if ready < 0 {
            if errno == EINTR { return }
            throw RedisError(kind: .connection, message: "poll() on the Redis connection failed: errno \(errno)")
        }
        if wakeRead >= 0, descriptors[1].revents != 0 { Self.drain(wakeRead) }
        if descriptors[0].revents != 0 {
            // Readable, hung up or failed: the read reports EOF and errors.
            try connection.readAvailable()
            session.lastTraffic = .now
            while let reply = try connection.bufferedReply() {
                if !session.answered {
                    session.answered = true
                    connectionEstablished()
                }
                try handle(reply, &session)
            }
        }
    }

    /// SUBSCRIBEs channels that gained local subscribers, UNSUBSCRIBEs those that lost them.
    private func reconcile(_ session: inout Session, _ connection: RedisConnection) throws(RedisError) {
        let snapshot: (desired: Set<String>, unconfirmed: [String])? = state.withLock { state in
            guard state.dirty else { return nil }
            state.dirty = false
            let unconfirmed = state.channels.compactMap { $0.value.confirmed ? nil : $0.key }
            return (Set(state.channels.keys), unconfirmed)
        }
        guard let snapshot else { return }
        let (desired, unconfirmed) = snapshot
        let added = desired.subtracting(session.sent)
        let removed = session.sent.subtracting(desired)
        if !removed.isEmpty {
            try connection.append([Array("UNSUBSCRIBE".utf8)] + removed.map { Array($0.utf8) })
        }
        if !added.isEmpty {
            try connection.append([Array("SUBSCRIBE".utf8)] + added.map { Array($0.utf8) })
            for channel in added { session.pendingConfirmations[channel, default: 0] += 1 }
        }
        if !added.isEmpty || !removed.isEmpty { try connection.flush() }
        // A channel cancelled and subscribed again before this pass never left the server: it is
        // live already.
        for channel in unconfirmed where session.sent.contains(channel) && !added.contains(channel) && session.pendingConfirmations[channel] == nil {
            confirm(channel)
        }
        session.sent = desired
    }

    /// - Throws: on an error reply. In subscribe mode it cannot be matched to its command (a
    ///   SUBSCRIBE refused by an ACL, say), so its channel would never be confirmed and its
    ///   subscribers would wait forever; starting over on a new connection releases them, and
    ///   the outage is logged.
    private func handle(_ reply: RedisReply, _ session: inout Session) throws(RedisError) {
        switch reply {
        case .array(let items):
            guard let kind = items.first?.bytes else { return }
            if kind.elementsEqual("message".utf8), items.count == 3, let channel = items[1].bytes, let payload = items[2].bytes {
                deliver(.message(payload), to: String(decoding: channel, as: UTF8.self))
            } else if kind.elementsEqual("subscribe".utf8), let channel = items.dropFirst().first?.string {
                guard let expected = session.pendingConfirmations[channel] else { return }
                if expected > 1 {
                    session.pendingConfirmations[channel] = expected - 1
                } else {
                    session.pendingConfirmations[channel] = nil
                    if session.sent.contains(channel) { confirm(channel) }
                }
            } else if kind.elementsEqual("pong".utf8) {
                session.pingOutstanding = false
            }
        case .status(let text) where text == "PONG":
            session.pingOutstanding = false
        case .error(let message):
            throw RedisError(kind: .connection, message: "Redis refused a subscriber command: \(message)")
        default:
            break
        }
    }

    private func deliver(_ delivery: BusDelivery, to channel: String) {
        guard let subscribers = state.withLock({ $0.channels[channel]?.subscribers }) else { return }
        for subscriber in subscribers { subscriber.deliver(delivery) }
    }

    private func confirm(_ channel: String) {
        let (resumed, waiters): ([LocalSubscriber], [CheckedContinuation<Void, Never>]) = state.withLock { state in
            guard var entry = state.channels.removeValue(forKey: channel) else { return ([], []) }
            entry.confirmed = true
            let resumed = entry.subscribers.filter { entry.resumePending.contains($0.id) }
            let waiters = entry.waiters
            entry.resumePending = []
            entry.waiters = []
            state.channels[channel] = entry
            return (resumed, waiters)
        }
        for subscriber in resumed { subscriber.deliver(.resumed) }
        for waiter in waiters { waiter.resume() }
    }

    private func connectionEstablished() {
        let recovered = state.withLock { state -> Bool in
            let recovered = state.inOutage
            state.connected = true
            state.inOutage = false
            state.dirty = true
            return recovered
        }
        client.markReachable()
        if recovered {
            logger.info("Redis subscriber connection is back; resubscribing", metadata: ["redis.url": "\(redis.url.redacted)"])
        }
    }

    private func connectionLost(_ error: RedisError) {
        let (first, waiters) = state.withLock { state in
            let first = !state.inOutage
            state.connected = false
            state.inOutage = true
            state.dirty = true
            var waiters: [CheckedContinuation<Void, Never>] = []
            for channel in Array(state.channels.keys) {
                var entry = state.channels.removeValue(forKey: channel)!
                entry.confirmed = false
                entry.resumePending = Set(entry.subscribers.map(\.id))
                waiters += entry.waiters
                entry.waiters = []
                state.channels[channel] = entry
            }
            return (first, waiters)
        }
        for waiter in waiters { waiter.resume() }
        if first {
            logger.warning(
                "Redis subscriber connection is down; reconnecting with backoff",
                metadata: ["redis.url": "\(redis.url.redacted)", "redis.error": "\(error.message)"]
            )
        } else {
            logger.debug("Redis reconnect attempt failed", metadata: ["redis.error": "\(error.message)"])
        }
    }

    /// Waits `duration` (a reconnect backoff), returning early only for shutdown.
    private func pause(_ duration: Duration, wakeRead: Int32) {
        let deadline = ContinuousClock.now + duration
        while !isClosed {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return }
            let milliseconds = Int32(clamping: Backoff.nanoseconds(remaining) / 1_000_000 + 1)
            if wakeRead >= 0 {
                var descriptor = pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)
                if poll(&descriptor, 1, min(milliseconds, 1000)) > 0 { Self.drain(wakeRead) }
            } else {
                usleep(UInt32(min(milliseconds, 50)) * 1000)
            }
        }
    }

    private static func drain(_ descriptor: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64)
        while buffer.withUnsafeMutableBytes({ read(descriptor, $0.baseAddress, $0.count) }) > 0 {}
    }
}
