import Synchronization

/// The live signed-in sessions of this instance, by server-side session id and by user, so that a
/// revocation (logout, password change or reset, account deletion) signs out every connection
/// holding it at once, and an expired token signs its connection out on time.
///
/// In-process: it reaches this instance's connections. Revocations reach the other instances as
/// `session.revoked` log entries (``SessionRevocation``), which call ``revoke(sessionIDs:reason:)``
/// / ``revokeUser(_:except:reason:)`` on each.
public final class SessionDirectory: Sendable {
    private let state = Mutex(State())

    struct State {
        /// Connection id → client, for every signed-in connection.
        var clients: [UInt64: Entry] = [:]
        var bySession: [String: Set<UInt64>] = [:]
        var byUser: [Int64: Set<UInt64>] = [:]
    }

    struct Entry {
        weak var client: ClientSession?
        var principal: Principal
    }

    private let clock: @Sendable () -> Timestamp

    /// - Parameter clock: the current time, which turns a principal's expiry into a timer.
    public init(clock: @escaping @Sendable () -> Timestamp) {
        self.clock = clock
    }

    /// Signs `client` in as `principal` and tracks it; a previous sign-in of the connection is
    /// replaced. Returns the previous principal (a different user means its subscriptions go).
    @discardableResult
    public func signIn(_ client: ClientSession, as principal: Principal) -> Principal? {
        let previous = client.signIn(principal, now: clock()) { [weak self] client, generation in
            guard let self else { return }
            if let gone = client.signOut(reason: .expired, ifGeneration: generation) {
                self.untrack(client.connectionID, principal: gone)
            }
        }
        self.state.withLock { state in
            if let previous { Self.remove(client.connectionID, principal: previous, from: &state) }
            guard !client.isClosed else { return }
            state.clients[client.connectionID] = Entry(client: client, principal: principal)
            state.bySession[principal.sessionID, default: []].insert(client.connectionID)
            state.byUser[principal.userID, default: []].insert(client.connectionID)
        }
        return previous
    }

    /// Makes `client` anonymous (its own logout: no notification, the call's answer says it).
    public func signOut(_ client: ClientSession) {
        if let previous = client.signOut(reason: nil) {
            self.untrack(client.connectionID, principal: previous)
        }
    }

    /// Makes `client` anonymous if it is still signed in as `principal` (a sign-in that turned
    /// out to name a revoked session), with `auth.signedOut` when `reason` is given.
    func signOut(_ client: ClientSession, ifSignedInAs principal: Principal, reason: SignOutReason?) {
        if let previous = client.signOut(reason: reason, ifPrincipal: principal) {
            self.untrack(client.connectionID, principal: previous)
        }
    }

    /// Forgets a closed connection.
    public func connectionClosed(_ client: ClientSession) {
        let principal = client.principal
        client.connectionClosed()
        if let principal { self.untrack(client.connectionID, principal: principal) }
    }

    /// Signs out every live connection holding one of `sessionIDs`, with `reason`.
    public func revoke(sessionIDs: some Sequence<String>, reason: SignOutReason) {
        let clients: [ClientSession] = self.state.withLock { state in
            sessionIDs.flatMap { id in (state.bySession[id] ?? []).compactMap { state.clients[$0]?.client } }
        }
        self.signOut(clients, reason: reason)
    }

    /// Signs out every live connection of `userID` except those on session `except`.
    public func revokeUser(_ userID: Int64, except: String?, reason: SignOutReason) {
        let clients: [ClientSession] = self.state.withLock { state in
            (state.byUser[userID] ?? []).compactMap { id in
                guard let entry = state.clients[id], entry.principal.sessionID != except else { return nil }
                return entry.client
            }
        }
        self.signOut(clients, reason: reason)
    }

    /// How many connections are signed in (metrics, tests).
    public var signedInCount: Int { self.state.withLock { $0.clients.count } }

    private func signOut(_ clients: [ClientSession], reason: SignOutReason) {
        for client in clients {
            if let previous = client.signOut(reason: reason) {
                self.untrack(client.connectionID, principal: previous)
            }
        }
    }

    private func untrack(_ connectionID: UInt64, principal: Principal) {
        self.state.withLock { state in Self.remove(connectionID, principal: principal, from: &state) }
    }

    private static func remove(_ connectionID: UInt64, principal: Principal, from state: inout State) {
        guard let entry = state.clients[connectionID], entry.principal == principal else { return }
        state.clients[connectionID] = nil
        state.bySession[principal.sessionID]?.remove(connectionID)
        if state.bySession[principal.sessionID]?.isEmpty == true { state.bySession[principal.sessionID] = nil }
        state.byUser[principal.userID]?.remove(connectionID)
        if state.byUser[principal.userID]?.isEmpty == true { state.byUser[principal.userID] = nil }
    }
}
