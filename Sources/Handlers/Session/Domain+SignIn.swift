extension Domain {
    /// Signs `client` in as `principal`, whose session row the caller read (or wrote) earlier,
    /// so that a revocation committed since cannot miss it. Returns false, with the connection
    /// not signed in as `principal`, when the session is gone.
    ///
    /// A revocation (logout, password change or reset, account deletion) deletes the session
    /// rows, commits, and then signs out the connections the directory holds on them, here at
    /// once and on other instances from the log. A sign-in that read the row before that commit
    /// and registers after the directory was searched would be missed, and the token's session
    /// would live on in this connection. So the connection is registered first and the row read
    /// again afterwards: a revocation that searched the directory before the registration
    /// committed before this read, which then finds the row gone; one that searches after it
    /// finds the connection. When the read fails the sign-in is undone too (the store's error
    /// is thrown): a session that cannot be confirmed is not kept.
    ///
    /// - Parameter reason: the `auth.signedOut` reason sent when the sign-in is undone; nil
    ///   sends none (the caller's answer says it).
    func signInConfirmed(_ client: ClientSession, as principal: Principal, undoneWith reason: SignOutReason? = nil) async throws -> Bool {
        sessions.signIn(client, as: principal)
        return try await confirmSignIn(client, as: principal, undoneWith: reason)
    }

    /// The second half of ``signInConfirmed(_:as:undoneWith:)``, for a connection already
    /// signed in as `principal`: the server calls it after signing a WebSocket upgrade in with
    /// its `Authorization: Bearer` token (``principal(forBearer:)`` read the row before the
    /// connection existed). A revoked session is signed out with `loggedOut` (the upgrade told
    /// the client it was signed in); a store failure is logged and signs it out the same way.
    public func confirmSignIn(_ client: ClientSession, as principal: Principal) async {
        do {
            _ = try await confirmSignIn(client, as: principal, undoneWith: .loggedOut)
        } catch {
            client.logger.warning("bearer session could not be confirmed", metadata: ["error": "\(Self.loggable(error))"])
        }
    }

    private func confirmSignIn(_ client: ClientSession, as principal: Principal, undoneWith reason: SignOutReason?) async throws -> Bool {
        let live: Bool
        do {
            live = try await store.read { reader in
                guard let session = try reader.session(id: principal.sessionID) else { return false }
                return session.userID == principal.userID
            }
        } catch {
            sessions.signOut(client, ifSignedInAs: principal, reason: reason)
            throw error
        }
        if !live { sessions.signOut(client, ifSignedInAs: principal, reason: reason) }
        return live
    }
}
