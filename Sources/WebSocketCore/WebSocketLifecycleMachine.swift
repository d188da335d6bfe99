public import NIOCore

/// The life of one server WebSocket connection after the upgrade (RFC 6455 §5.5, §7): the close
/// handshake, keepalive, draining on shutdown, the slow-consumer cut-off and when to read.
///
/// It does no I/O and reads no clock: the channel handler reports events (the peer's close, a
/// protocol failure, a timer that fired, with the time passed in) and carries out the actions it
/// returns. ``WebSocketConnectionMachine`` turns bytes into frames and messages; this machine
/// decides what the connection does about them and about time.
///
/// Every close has a deadline: whether we started the close handshake, answered the peer's
/// close or failed the connection, the TCP connection is closed at the latest ``Configuration/closeTimeout``
/// later, whatever is still queued, so a peer that stops reading cannot keep its socket, the
/// bytes queued for it and its session.
public struct WebSocketLifecycleMachine {
    /// How one connection behaves; the endpoint decides.
    public struct Configuration: Sendable {
        /// How long a close may take before the TCP connection is dropped anyway.
        public var closeTimeout: TimeAmount
        /// A peer quiet for half of this is pinged and one quiet for all of it is closed with 1008;
        /// `nil` turns keepalive off.
        public var idleTimeout: TimeAmount?
        /// Calls in flight at which the connection stops starting calls and reading; `nil` for an
        /// endpoint that runs no calls (and then draining has nothing to wait for).
        public var maxCallsInFlight: Int?
        /// What a socket that stops being writable means.
        public var whenUnwritable: Unwritable

        public init(closeTimeout: TimeAmount, idleTimeout: TimeAmount?, maxCallsInFlight: Int?, whenUnwritable: Unwritable) {
            self.closeTimeout = closeTimeout
            self.idleTimeout = idleTimeout
            self.maxCallsInFlight = maxCallsInFlight
            self.whenUnwritable = whenUnwritable
        }
    }

    /// What a socket whose outbound buffer passed its high-water mark means.
    public enum Unwritable: Sendable {
        /// Stop reading until it drains: the peer gets answers as fast as it reads them.
        case pauseReads
        /// The peer is a slow consumer: close it with 1013 (only while open).
        case closeSlowConsumer
    }

    /// The timers the handler runs for the machine; each fires ``timerFired(_:now:)``.
    public enum Timer: Hashable, Sendable {
        /// Checks the peer's silence at a quarter of the idle timeout.
        case keepalive
        /// The shutdown deadline: close even though calls are still in flight.
        case drain
        /// The close deadline: drop the TCP connection.
        case close
    }

    /// What the handler must do, in order.
    public enum Action: Hashable, Sendable {
        /// Write a ping with an empty payload. The peer has been quiet: a good moment to release
        /// per-connection memory that comes back with the next message (zlib windows).
        case sendPing
        /// Write a close frame with this code and reason; `nil` writes an empty close payload.
        case sendClose(WebSocketCloseCode?, reason: String)
        case flush
        /// Flush, and report ``writesFlushed()`` once everything queued so far is written.
        case flushAndReport
        /// Run `timer` at `deadline`, replacing an earlier one of the same kind.
        case schedule(Timer, at: NIODeadline)
        /// Close the TCP connection now; queued writes are dropped.
        case closeTCP
        /// The peer is being cut off as a slow consumer: log and count it, drop what is queued for it.
        case slowConsumerCutOff
        /// Shutdown's deadline passed with calls still in flight: log it.
        case drainDeadlinePassed
    }

    private enum State {
        /// Serving: data flows both ways.
        case open
        /// Shutting down: no more calls start; our close goes out once the calls in flight
        /// finish or the shutdown deadline passes.
        case draining
        /// Our close frame is out: frames are still read to see the peer's close, which (or the
        /// close timer) closes TCP. Nothing but a close is sent.
        case closeSent
        /// Our last frame, a close, is queued: TCP closes when it is written or at the close
        /// deadline, whichever comes first. Input is ignored.
        case closing
        case closed
    }

    private let configuration: Configuration
    private var state = State.open
    private var lastInbound: NIODeadline
    /// When a keepalive ping went out with nothing arrived since; `nil` when none is outstanding.
    private var pingSentAt: NIODeadline?
    private var isWritable = true
    /// A read was requested while reads were held back.
    private var readHeld = false

    /// Calls started and not yet answered, as last reported.
    public private(set) var callsInFlight = 0

    public init(configuration: Configuration, now: NIODeadline) {
        self.configuration = configuration
        self.lastInbound = now
    }

    // MARK: Queries

    /// Whether data frames (messages, answers, notifications) may still be sent.
    public var isSendingData: Bool {
        switch self.state {
        case .open, .draining: true
        case .closeSent, .closing, .closed: false
        }
    }

    /// Whether input is still parsed; once our last frame is queued, whatever arrives is dropped.
    public var isReadingFrames: Bool {
        switch self.state {
        case .open, .draining, .closeSent: true
        case .closing, .closed: false
        }
    }

    /// Whether messages already received must wait before they start calls: the session is at its
    /// in-flight limit, or draining for shutdown.
    public var isPausedForCalls: Bool {
        guard let limit = self.configuration.maxCallsInFlight else { return false }
        if case .draining = self.state { return true }
        return self.callsInFlight >= limit
    }

    private var holdsReads: Bool {
        switch self.configuration.whenUnwritable {
        case .pauseReads where !self.isWritable: true
        case .pauseReads, .closeSlowConsumer: self.isPausedForCalls
        }
    }

    // MARK: Reads

    /// The channel asks to read: returns whether to read now; if not, the read is held until
    /// ``releaseHeldRead()`` lets it go.
    public mutating func readRequested() -> Bool {
        guard self.holdsReads else { return true }
        self.readHeld = true
        return false
    }

    /// Returns whether a held read may go now (and forgets it); ask after calls finish or the
    /// socket's writability changes.
    public mutating func releaseHeldRead() -> Bool {
        guard self.readHeld, !self.holdsReads else { return false }
        self.readHeld = false
        return true
    }

    // MARK: Events

    /// The connection is up: starts the keepalive timer if there is one.
    public mutating func start(now: NIODeadline) -> [Action] {
        self.lastInbound = now
        guard let tick = self.keepaliveTick else { return [] }
        return [.schedule(.keepalive, at: now + tick)]
    }

    /// Bytes arrived: any traffic proves the peer alive.
    public mutating func inboundReceived(now: NIODeadline) {
        self.lastInbound = now
        self.pingSentAt = nil
    }

    /// The peer's valid close frame arrived. Answered with `reply` (the peer's code echoed, `nil`
    /// for an empty close) unless ours is out already, in which case the handshake is complete.
    public mutating func peerClosed(reply: WebSocketCloseCode?, now: NIODeadline) -> [Action] {
        switch self.state {
        case .open, .draining:
            return self.sendFinalClose(reply, reason: "", now: now)
        case .closeSent:
            self.state = .closed
            return [.closeTCP]
        case .closing, .closed:
            return []
        }
    }

    /// The peer broke the protocol, or the server cannot go on (RFC 6455 §7.1.7): a close frame
    /// with `code`, then TCP is closed once it is written or at the close deadline.
    public mutating func protocolFailure(_ code: WebSocketCloseCode, reason: String, now: NIODeadline) -> [Action] {
        switch self.state {
        case .open, .draining:
            return self.sendFinalClose(code, reason: reason, now: now)
        case .closeSent, .closing:
            // A close frame went out already; there is nothing more to say.
            self.state = .closed
            return [.closeTCP]
        case .closed:
            return []
        }
    }

    /// The server starts the close handshake with `code` (policy, slow consumer, shutdown): our
    /// close now, TCP when the peer answers or at the close deadline.
    public mutating func close(_ code: WebSocketCloseCode, reason: String, now: NIODeadline) -> [Action] {
        guard self.isSendingData else { return [] }
        self.state = .closeSent
        return [.sendClose(code, reason: reason), .flush, .schedule(.close, at: now + self.configuration.closeTimeout)]
    }

    /// The server is shutting down: calls in flight may finish until `deadline`, then the
    /// connection is closed with 1001. No more calls start meanwhile.
    public mutating func shutdown(deadline: NIODeadline, now: NIODeadline) -> [Action] {
        guard case .open = self.state else { return [] }
        self.state = .draining
        if self.callsInFlight == 0 {
            return self.close(.goingAway, reason: Self.shutdownReason, now: now)
        }
        return [.schedule(.drain, at: deadline)]
    }

    /// The number of calls in flight changed; a draining connection closes when it reaches zero.
    public mutating func callsInFlightChanged(to count: Int, now: NIODeadline) -> [Action] {
        self.callsInFlight = count
        guard case .draining = self.state, count == 0 else { return [] }
        return self.close(.goingAway, reason: Self.shutdownReason, now: now)
    }

    /// The socket's writability changed.
    public mutating func writabilityChanged(isWritable: Bool, now: NIODeadline) -> [Action] {
        self.isWritable = isWritable
        guard !isWritable, case .closeSlowConsumer = self.configuration.whenUnwritable, case .open = self.state else {
            return []
        }
        return [.slowConsumerCutOff] + self.close(.tryAgainLater, reason: "slow consumer: outbound buffer overflow", now: now)
    }

    /// Everything queued before ``Action/flushAndReport`` has been written (or the write failed).
    public mutating func writesFlushed() -> [Action] {
        guard case .closing = self.state else { return [] }
        self.state = .closed
        return [.closeTCP]
    }

    /// A timer scheduled by an earlier action fired at `now`.
    public mutating func timerFired(_ timer: Timer, now: NIODeadline) -> [Action] {
        switch timer {
        case .keepalive:
            return self.keepaliveTimerFired(now: now)
        case .drain:
            guard case .draining = self.state else { return [] }
            return [.drainDeadlinePassed] + self.close(.goingAway, reason: Self.shutdownReason, now: now)
        case .close:
            switch self.state {
            case .closeSent, .closing:
                self.state = .closed
                return [.closeTCP]
            case .open, .draining, .closed:
                return []
            }
        }
    }

    /// The transport failed (a socket error): close TCP unless it is closed already.
    public mutating func transportFailed() -> [Action] {
        if case .closed = self.state { return [] }
        self.state = .closed
        return [.closeTCP]
    }

    /// The TCP connection is gone.
    public mutating func channelClosed() {
        self.state = .closed
    }

    // MARK: Internals

    private static let shutdownReason = "server shutting down"

    /// The keepalive timer's period: a quarter of the idle timeout (at least 1 ns).
    private var keepaliveTick: TimeAmount? {
        self.configuration.idleTimeout.map { .nanoseconds(max($0.nanoseconds / 4, 1)) }
    }

    private mutating func sendFinalClose(_ code: WebSocketCloseCode?, reason: String, now: NIODeadline) -> [Action] {
        self.state = .closing
        return [.sendClose(code, reason: reason), .flushAndReport, .schedule(.close, at: now + self.configuration.closeTimeout)]
    }

    /// Pings a peer quiet for half the idle timeout and closes it with 1008 once quiet for all of it.
    ///
    /// The timer ticks at a quarter of the timeout, so a ping normally goes out between one half
    /// and three quarters of the way. A peer is never closed without having been asked: when a
    /// loaded loop runs a tick late, past the whole timeout, that tick pings, and the close waits
    /// until the ping has gone unanswered for a quarter of the timeout.
    private mutating func keepaliveTimerFired(now: NIODeadline) -> [Action] {
        guard case .open = self.state, let idle = self.configuration.idleTimeout, let tick = self.keepaliveTick else {
            return []
        }
        let quiet = now - self.lastInbound
        if quiet >= idle, let sent = self.pingSentAt, now - sent >= tick {
            return self.close(.policyViolation, reason: "idle timeout", now: now)
        }
        var actions: [Action] = []
        if quiet >= .nanoseconds(idle.nanoseconds / 2), self.pingSentAt == nil {
            self.pingSentAt = now
            actions += [.sendPing, .flush]
        }
        actions.append(.schedule(.keepalive, at: now + tick))
        return actions
    }
}
