public import Logging
import NIOCore
public import NIOPosix
import Synchronization

/// A small pool of Redis connections for commands (PUBLISH, rate-limit scripts), whose blocking
/// calls run on a bounded `NIOThreadPool`, never on an event loop.
///
/// Commands wait in one FIFO queue. A connection that becomes free takes everything queued (up
/// to a batch limit) and pipelines it: one write, then the replies in order. So a burst of
/// publishes costs a few round trips, not one each, and at most `poolSize` thread-pool threads
/// are busy with Redis at any time.
///
/// While Redis is known to be down (a connect or I/O failure), commands fail at once with a
/// `connection` error instead of each waiting for a connect timeout; one probe is let through
/// after a short backoff (100 ms doubling to 1 s), and ``markReachable()`` (called by the bus
/// when its subscriber connection is back) ends the outage immediately.
public final class RedisClient: Sendable {
    /// Commands pipelined in one batch at most, and the bytes of arguments per batch at most:
    /// enough to amortize a round trip, small enough to bound hiredis' output buffer.
    static let maxBatchCount = 512
    static let maxBatchBytes = 4 << 20

    public let configuration: RedisConfiguration
    private let threadPool: NIOThreadPool
    private let logger: Logger
    private let state: Mutex<State>

    private typealias Continuation = CheckedContinuation<RedisReply, any Error>

    private struct Pending {
        var arguments: [[UInt8]]
        var continuation: Continuation
    }

    private struct Outage {
        var retryAt: ContinuousClock.Instant
        var backoff: Backoff
    }

    private struct State {
        var queue = CircularBuffer<Pending>()
        var idle: [ConnectionBox] = []
        var workers = 0
        var closed = false
        var outage: Outage?
    }

    /// - Parameters:
    ///   - threadPool: runs the blocking calls; give it at least `configuration.poolSize`
    ///     threads (plus what else shares it), or connections wait for threads.
    public init(configuration: RedisConfiguration, threadPool: NIOThreadPool, logger: Logger) {
        self.configuration = configuration
        self.threadPool = threadPool
        self.logger = logger
        self.state = Mutex(State())
    }

    /// Sends one command and returns its reply; an error reply comes back as `.error`.
    ///
    /// - Throws: `RedisError` — `connection` when Redis is unreachable (at once while it is known
    ///   to be down), `overloaded` when `maxPendingCommands` are already queued, `closed` after
    ///   ``shutdown()``.
    public func send(_ arguments: [[UInt8]]) async throws -> RedisReply {
        try await withCheckedThrowingContinuation { (continuation: Continuation) in
            let outcome: Result<Bool, RedisError> = state.withLock { state in
                if state.closed { return .failure(RedisError(kind: .closed, message: "the Redis client is shut down")) }
                if let outage = state.outage, ContinuousClock.now < outage.retryAt {
                    return .failure(RedisError(kind: .connection, message: "Redis is unreachable"))
                }
                if state.queue.count >= configuration.maxPendingCommands {
                    return .failure(RedisError(kind: .overloaded, message: "too many Redis commands are waiting"))
                }
                state.queue.append(Pending(arguments: arguments, continuation: continuation))
                guard state.workers < max(configuration.poolSize, 1) else { return .success(false) }
                state.workers += 1
                return .success(true)
            }
            switch outcome {
            case .failure(let error):
                continuation.resume(throwing: error)
            case .success(true):
                startWorker()
            case .success(false):
                break
            }
        }
    }

    /// Sends a command whose arguments are all text.
    public func send(_ arguments: [String]) async throws -> RedisReply {
        try await send(arguments.map { Array($0.utf8) })
    }

    /// Ends a known outage now (the caller has just reached Redis), and drops idle connections
    /// opened before it, which the server has most likely closed.
    public func markReachable() {
        let stale: [ConnectionBox] = state.withLock { state in
            guard state.outage != nil else { return [] }
            state.outage = nil
            defer { state.idle = [] }
            return state.idle
        }
        discard(stale)
    }

    /// Fails queued commands and closes idle connections; later commands throw `closed`.
    /// A batch already on the wire completes.
    public func shutdown() async {
        let (pending, idle) = state.withLock { state in
            state.closed = true
            defer {
                state.queue.removeAll()
                state.idle = []
            }
            return (Array(state.queue), state.idle)
        }
        for command in pending {
            command.continuation.resume(throwing: RedisError(kind: .closed, message: "the Redis client is shut down"))
        }
        discard(idle)
    }

    private func startWorker() {
        let box = state.withLock { $0.idle.popLast() }
        threadPool.submit { workState in
            guard case .active = workState else {
                self.failAll(RedisError(kind: .closed, message: "the Redis thread pool is not running"), parking: box)
                return
            }
            self.work(box)
        }
    }

    /// A worker's loop on a thread-pool thread: take a batch, run it, until the queue is empty.
    private func work(_ initial: ConnectionBox?) {
        var box = initial
        while true {
            let (batch, closeBox): ([Pending]?, Bool) = state.withLock { state in
                if state.queue.isEmpty || state.closed {
                    state.workers -= 1
                    guard let box else { return (nil, false) }
                    if box.connection.isBroken || state.closed { return (nil, true) }
                    state.idle.append(box)
                    return (nil, false)
                }
                var batch: [Pending] = []
                var bytes = 0
                while batch.count < Self.maxBatchCount, bytes < Self.maxBatchBytes, let next = state.queue.popFirst() {
                    bytes += next.arguments.reduce(0) { $0 + $1.count }
                    batch.append(next)
                }
                return (batch, false)
            }
            guard let batch else {
                // Parked boxes belong to the idle list now; only an unparked one is still ours.
                if closeBox { box?.connection.close() }
                return
            }
            if let outage = state.withLock({ $0.outage }), ContinuousClock.now < outage.retryAt {
                for command in batch {
                    command.continuation.resume(throwing: RedisError(kind: .connection, message: "Redis is unreachable"))
                }
                continue
            }
            box = run(batch, on: box)
        }
    }

    /// Runs a batch, opening a connection first when there is none. A batch on a connection
    /// that was already open and breaks (reset or EOF, not a timeout) before any reply is retried
    /// once on a fresh connection: Redis may have restarted meanwhile, and then none of the batch
    /// reached it.
    private func run(_ batch: [Pending], on existing: ConnectionBox?) -> ConnectionBox? {
        var box = existing
        var mayRetry = existing != nil
        while true {
            if box == nil {
                do throws(RedisError) {
                    box = ConnectionBox(connection: try RedisConnection(configuration: configuration))
                    mayRetry = false
                } catch {
                    noteFailure(error)
                    for command in batch { command.continuation.resume(throwing: error) }
                    return nil
                }
            }
            let connection = box!.connection
            var replies: [RedisReply] = []
            replies.reserveCapacity(batch.count)
            do throws(RedisError) {
                for command in batch { try connection.append(command.arguments) }
                for _ in batch { replies.append(try connection.readReply()) }
            } catch {
                connection.close()
                box = nil
                // After a timeout the commands may have run: only a reset or EOF proves they did not.
                if replies.isEmpty && mayRetry && error.kind != .timeout {
                    mayRetry = false
                    continue
                }
                noteFailure(error)
                for (index, command) in batch.enumerated() {
                    if index < replies.count {
                        command.continuation.resume(returning: replies[index])
                    } else {
                        command.continuation.resume(throwing: error)
                    }
                }
                return nil
            }
            noteSuccess()
            for (command, reply) in zip(batch, replies) { command.continuation.resume(returning: reply) }
            return box
        }
    }

    private func noteFailure(_ error: RedisError) {
        let first = state.withLock { state -> Bool in
            let now = ContinuousClock.now
            if var outage = state.outage {
                outage.retryAt = now + outage.backoff.next()
                state.outage = outage
                return false
            }
            var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1))
            state.outage = Outage(retryAt: now + backoff.next(), backoff: backoff)
            return true
        }
        if first {
            logger.warning(
                "Redis is unreachable; commands fail until it is back",
                metadata: ["redis.url": "\(configuration.url.redacted)", "redis.error": "\(error.message)"]
            )
        }
    }

    private func noteSuccess() {
        let ended = state.withLock { state -> Bool in
            guard state.outage != nil else { return false }
            state.outage = nil
            return true
        }
        if ended { logger.info("Redis is reachable again", metadata: ["redis.url": "\(configuration.url.redacted)"]) }
    }

    private func failAll(_ error: RedisError, parking box: ConnectionBox?) {
        let pending = state.withLock { state in
            state.workers -= 1
            if let box { state.idle.append(box) }
            defer { state.queue.removeAll() }
            return Array(state.queue)
        }
        for command in pending { command.continuation.resume(throwing: error) }
    }

    /// Closes connections nobody uses on a pool thread (closing writes nothing, but keeps the
    /// rule simple: hiredis calls happen on pool threads).
    private func discard(_ boxes: [ConnectionBox]) {
        guard !boxes.isEmpty else { return }
        threadPool.submit { _ in
            for box in boxes { box.connection.close() }
        }
    }
}

/// Carries one `RedisConnection` between a pool's idle list and its workers.
///
/// `@unchecked Sendable` is safe because ownership is exclusive: a box is either in the idle list
/// (touched by nobody, moved in and out under the client's lock) or held by exactly one worker,
/// which uses it on its thread-pool thread only; two threads never use the connection at once.
final class ConnectionBox: @unchecked Sendable {
    let connection: RedisConnection

    init(connection: RedisConnection) {
        self.connection = connection
    }
}
