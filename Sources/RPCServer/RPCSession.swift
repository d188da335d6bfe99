import Handlers
import JSON
import JSONRPC
import Logging
import NIOCore
import Synchronization

/// The JSON-RPC side of one `/rpc` connection.
///
/// Each text message is parsed on the event loop and executed in its own task, so calls pipelined on
/// one session run concurrently and are answered in completion order. `inflight` counts calls (a
/// batch counts its members); the connection handler stops reading while it is at the limit.
/// Lives on its connection's event loop; its ``ClientSession`` (what handlers see) is thread-safe
/// and sends notifications by hopping onto that loop.
final class RPCSession {
    private let server: ServerContext
    let client: ClientSession
    private let eventLoop: any EventLoop
    private let limiter: CallRateLimiter
    /// Calls run on the connection's loop (see ``EventLoopTaskExecutor``).
    private let executor: EventLoopTaskExecutor
    /// This loop's framing of notifications (shared frames for one event to many sessions).
    private let frames: TextFrameCache
    /// The notifications the domain sent and the loop has not written yet.
    private let outlet: NotificationOutlet
    /// The connection this session answers on; weak because the handler owns the session.
    weak var handler: WebSocketHandler?
    private(set) var inflight = 0

    init(
        server: ServerContext,
        connectionID: UInt64,
        clientAddress: String,
        principal: Principal?,
        eventLoop: any EventLoop
    ) {
        self.server = server
        self.eventLoop = eventLoop
        self.limiter = CallRateLimiter(
            rate: server.configuration.rpc.callsPerSecond,
            burst: server.configuration.rpc.callBurst
        )
        // The client outlives nothing: it reaches the session through a weak, loop-bound box, so a
        // notification for a closed connection is dropped.
        let local = server.loopLocals.local(for: eventLoop)
        self.executor = local.executor
        self.frames = local.deliveries.frames
        let outlet = NotificationOutlet(queue: local.deliveries)
        self.outlet = outlet
        self.client = ClientSession(
            connectionID: connectionID,
            clientAddress: clientAddress,
            logger: server.logger,
            send: { method, params in outlet.send(method: method, params: params) },
            sendSerialized: { bytes in outlet.send(serialized: bytes) },
            precedeAnswer: { outlet.precedeNextAnswer() }
        )
        outlet.session = NIOLoopBound(WeakSession(self), eventLoop: eventLoop)
        if let principal {
            server.sessions.directory.signIn(self.client, as: principal)
            // Signed in before the first message is read; the check that the token's session
            // was not revoked since it was verified follows (a revocation that comes later
            // finds the connection in the directory).
            let (client, confirm) = (self.client, server.sessions.confirm)
            Task(executorPreference: self.executor) { await confirm(client, principal) }
        }
    }

    /// Starts serving one complete text message (valid UTF-8, within the size limit).
    func receive(_ message: ByteBuffer) {
        let engine = self.server.engine
        let incoming = message.withUnsafeReadableBytes { engine.parse(validatedUTF8: $0) }
        let cost = max(incoming.callCount, 1)
        self.inflight += cost

        let client = self.client
        let limiter = self.limiter
        // Judged when the message arrives: a batch that signs in does not buy its other members
        // the larger budget.
        let rpc = self.server.configuration.rpc
        let budget = client.principal == nil ? rpc.anonymousMaxResponseBytes : rpc.maxResponseBytes
        let loopBound = NIOLoopBound(self, eventLoop: self.eventLoop)
        let eventLoop = self.eventLoop
        Task(executorPreference: self.executor) {
            let response = await engine.execute(incoming, context: client, responseBudget: budget) { _ in limiter.admit() }
            if eventLoop.inEventLoop {
                loopBound.value.completed(response, cost: cost)
            } else {
                eventLoop.execute {
                    loopBound.value.completed(response, cost: cost)
                }
            }
        }
    }

    private func completed(_ response: [UInt8]?, cost: Int) {
        self.inflight -= cost
        guard let handler = self.handler else { return }
        if let response {
            // A replay goes out before the answer to the events.subscribe that asked for it (the
            // loop's delivery queue may not have run yet); other notifications keep their turn,
            // so the answer to a call still comes before the events it caused.
            self.outlet.writePendingIfBeforeAnswer()
            handler.sendText(response)
        }
        if self.limiter.isAbused {
            handler.closeForPolicy(reason: "too many calls")
            return
        }
        handler.callsCompleted()
    }

    /// Notifications from the domain, already serialized, in order, on the loop.
    fileprivate func deliver(_ messages: [[UInt8]]) {
        guard let handler = self.handler else {
            EventMetrics.dropped.increment(by: messages.count)
            return
        }
        handler.sendTexts(messages, frames: self.frames)
    }

    /// The socket is gone: answers still being computed are dropped when they arrive, and the
    /// domain forgets the connection (no more sign-out notices or expiry timers).
    func connectionClosed() {
        self.handler = nil
        self.server.sessions.directory.connectionClosed(self.client)
    }
}

/// A weak reference to a session, so the client's send closure does not keep it alive.
private struct WeakSession {
    weak var value: RPCSession?
    init(_ value: RPCSession) { self.value = value }
}

/// Carries notifications from any thread to the session's event loop, in the order they were
/// sent: they queue here, and the loop's ``LoopDeliveryQueue`` writes them in batches.
final class NotificationOutlet: @unchecked Sendable {
    // `session` is written once, on the loop, before the client can send anything (the client is
    // created in the session's initializer and handed to no one before it returns); afterwards it
    // is only read, and the box itself checks it is used on its loop. `pending` is locked.
    fileprivate var session: NIOLoopBound<WeakSession>?
    private let queue: LoopDeliveryQueue
    private let pending = Mutex(Pending())
    /// The messages being written; on the loop only, swapped with the pending ones so neither
    /// array is reallocated per batch.
    private var draining: [[UInt8]] = []

    private struct Pending {
        var messages: [[UInt8]] = []
        /// Registered with the loop's queue and not drained yet.
        var registered = false
        /// What is queued must be written before the next answer (a replay).
        var beforeAnswer = false
    }

    init(queue: LoopDeliveryQueue) {
        self.queue = queue
    }

    func send(method: String, params: JSONValue) {
        let message: JSONValue = ["jsonrpc": "2.0", "method": .string(method), "params": params]
        self.send(serialized: JSONWriter.serialize(message))
    }

    /// Queues a notification serialized already (events: one serialization serves many sessions).
    func send(serialized bytes: [UInt8]) {
        guard self.session != nil else { return }
        let register = self.pending.withLock { pending in
            pending.messages.append(bytes)
            guard !pending.registered else { return false }
            pending.registered = true
            return true
        }
        if register { self.queue.markReady(self) }
    }

    /// Marks what is queued now as due before the next answer.
    func precedeNextAnswer() {
        self.pending.withLock { $0.beforeAnswer = true }
    }

    /// On the loop, before an answer: writes what is queued if a replay asked to go first.
    func writePendingIfBeforeAnswer() {
        guard self.pending.withLock({ $0.beforeAnswer }) else { return }
        self.writePending()
    }

    /// On the loop: writes everything queued so far (dropped when the connection is gone).
    func writePending() {
        self.pending.withLock { pending in
            pending.registered = false
            pending.beforeAnswer = false
            swap(&pending.messages, &self.draining)
        }
        guard !self.draining.isEmpty else { return }
        defer { self.draining.removeAll(keepingCapacity: self.draining.capacity <= Self.keptCapacity) }
        guard let session = self.session?.value.value else {
            EventMetrics.dropped.increment(by: self.draining.count)
            return
        }
        session.deliver(self.draining)
    }

    /// Past this many messages in one batch (a long replay), the array is given back.
    static let keptCapacity = 64
}
