public import JSON
import JSONRPC
public import Logging
import Synchronization

/// One connected client, as the domain sees it: who it is signed in as, where it connects from,
/// and a way to send it notifications. Knows nothing of sockets: the server gives it a `send`
/// closure that queues a notification on the connection.
///
/// Passed to every method handler as the JSON-RPC context. Thread-safe: calls of one session run
/// concurrently.
public final class ClientSession: Sendable {
    /// Process-unique id of the connection, as logged under `ws.connection.id`.
    public let connectionID: UInt64
    /// The client's IP address: the peer's, or with trusted proxies the rightmost untrusted
    /// `X-Forwarded-For` entry. Rate limits per address key on it.
    public let clientAddress: String
    private let baseLogger: Logger
    private let send: @Sendable (_ method: String, _ params: JSONValue) -> Void
    private let sendBytes: @Sendable (_ message: [UInt8]) -> Void
    private let state = Mutex(State())
    /// Run once when the session leaves presence for good: closed, signed out, or signed in as
    /// someone else.
    private let presenceExit = Mutex<(@Sendable (ClientSession) -> Void)?>(nil)
    /// The session's event subscriptions (`events.subscribe`), cleared whenever it signs out or
    /// in as someone else.
    public let events: SessionEvents

    struct State {
        var principal: Principal?
        /// Bumped on every sign-in and sign-out, so a stale expiry timer does nothing.
        var generation: UInt64 = 0
        var expiryTimer: Task<Void, Never>?
        var closed = false
    }

    public init(
        connectionID: UInt64,
        clientAddress: String,
        logger: Logger,
        send: @escaping @Sendable (_ method: String, _ params: JSONValue) -> Void,
        sendSerialized: (@Sendable (_ message: [UInt8]) -> Void)? = nil,
        precedeAnswer: @escaping @Sendable () -> Void = {}
    ) {
        self.connectionID = connectionID
        self.clientAddress = clientAddress
        self.baseLogger = logger
        self.send = send
        // Without a way to send bytes as they are, events are parsed back and sent as values
        // (tests' in-memory sessions); the server always passes one.
        let sendBytes = sendSerialized ?? { bytes in
            guard let message = try? JSONParser().parse(bytes), let method = message["method"]?.stringValue,
                let params = message["params"]
            else { return }
            send(method, params)
        }
        self.sendBytes = sendBytes
        self.events = SessionEvents(send: sendBytes, precedeAnswer: precedeAnswer)
    }

    /// A logger carrying the connection's metadata (and the user's id once signed in).
    public var logger: Logger {
        var logger = self.baseLogger
        logger[metadataKey: "ws.connection.id"] = "\(self.connectionID)"
        if let principal = self.principal {
            logger[metadataKey: "enduser.id"] = "\(principal.userID)"
        }
        return logger
    }

    /// Who the session is signed in as, or nil while anonymous.
    public var principal: Principal? {
        self.state.withLock { $0.principal }
    }

    /// Sends a server-to-client notification (`{"jsonrpc":"2.0","method":…,"params":…}`).
    public func notify(method: String, params: JSONValue) {
        self.send(method, params)
    }

    /// Sends a notification already serialized (one serialization for many recipients).
    func notifySerialized(_ message: [UInt8]) {
        self.sendBytes(message)
    }

    /// Registers what to run when the session leaves presence for good (the first registration
    /// stays).
    func onPresenceExit(_ body: @escaping @Sendable (ClientSession) -> Void) {
        self.presenceExit.withLock { if $0 == nil { $0 = body } }
    }

    private func exitPresence() {
        if let exit = self.presenceExit.withLock({ $0 }) { exit(self) }
    }

    /// Signs the session in (or swaps its token) and arms the expiry timer, which signs it out
    /// with reason `expired` when `principal.expiresAt` passes. Returns the previous principal.
    @discardableResult
    func signIn(_ principal: Principal, now: Timestamp, onExpiry: @escaping @Sendable (ClientSession, UInt64) -> Void) -> Principal? {
        let previous = self.swapPrincipal(principal, now: now, onExpiry: onExpiry)
        if let previous, previous.userID != principal.userID { self.exitPresence() }
        return previous
    }

    private func swapPrincipal(_ principal: Principal, now: Timestamp, onExpiry: @escaping @Sendable (ClientSession, UInt64) -> Void) -> Principal? {
        self.state.withLock { state in
            guard !state.closed else { return nil }
            let previous = state.principal
            if previous?.userID != principal.userID { self.events.reset() }
            state.principal = principal
            state.generation &+= 1
            state.expiryTimer?.cancel()
            let generation = state.generation
            let delay = max(0, principal.expiresAt.milliseconds - now.milliseconds)
            state.expiryTimer = Task { [weak self] in
                try? await Task.sleep(for: .milliseconds(delay))
                guard !Task.isCancelled, let self else { return }
                onExpiry(self, generation)
            }
            return previous
        }
    }

    /// Makes the session anonymous if it is still at `generation` and signed in as `principal`
    /// (nil: whatever it is), and says why with `auth.signedOut` when `reason` is given.
    /// Returns the principal it had.
    @discardableResult
    func signOut(reason: SignOutReason?, ifGeneration generation: UInt64? = nil, ifPrincipal principal: Principal? = nil) -> Principal? {
        let previous: Principal? = self.state.withLock { state in
            if let generation, generation != state.generation { return nil }
            if let principal, principal != state.principal { return nil }
            guard let previous = state.principal else { return nil }
            self.events.reset()
            state.principal = nil
            state.generation &+= 1
            state.expiryTimer?.cancel()
            state.expiryTimer = nil
            return previous
        }
        if previous != nil { self.exitPresence() }
        if previous != nil, let reason {
            self.notify(method: "auth.signedOut", params: ["reason": .string(reason.rawValue)])
        }
        return previous
    }

    /// The connection is gone: no more timers, no more notifications.
    public func connectionClosed() {
        self.state.withLock { state in
            state.closed = true
            self.events.reset()
            state.principal = nil
            state.expiryTimer?.cancel()
            state.expiryTimer = nil
        }
        self.exitPresence()
    }

    var isClosed: Bool { self.state.withLock { $0.closed } }
}
