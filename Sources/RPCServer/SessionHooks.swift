public import Handlers
import SystemTime

/// What the server asks the domain about sessions: who a bearer token on the upgrade request
/// names, and the directory that tracks signed-in connections (so revocations reach them).
public struct SessionHooks: Sendable {
    /// The signed-in connections of this instance, so revocations reach them.
    public var directory: SessionDirectory
    /// The principal of a valid token; nil for an invalid, expired or revoked one (HTTP 401).
    /// An error (the database is down) refuses the upgrade with 503.
    public var bearer: @Sendable (_ token: String) async throws -> Principal?
    /// Run once a connection is signed in with its bearer principal: checks that the session was
    /// not revoked between ``bearer`` and the sign-in, and signs it out if it was.
    public var confirm: @Sendable (_ client: ClientSession, _ principal: Principal) async -> Void

    public init(
        directory: SessionDirectory? = nil,
        bearer: @escaping @Sendable (_ token: String) async throws -> Principal? = { _ in nil },
        confirm: @escaping @Sendable (_ client: ClientSession, _ principal: Principal) async -> Void = { _, _ in }
    ) {
        self.directory = directory ?? SessionDirectory(clock: SystemClock.now)
        self.bearer = bearer
        self.confirm = confirm
    }
}
