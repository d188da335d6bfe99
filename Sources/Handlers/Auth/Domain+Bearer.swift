extension Domain {
    /// Who an `Authorization: Bearer` token on the WebSocket upgrade signs the new connection in
    /// as, or nil when the token is not valid now (the server answers HTTP 401 and does not
    /// upgrade).
    ///
    /// The same checks as `auth.authenticate`: signature, `exp` by ``clock``, the session row
    /// (exists, belongs to `sub`, not expired) and the user. The server signs the connection in
    /// with `sessions.signIn(client, as:)` once its ``ClientSession`` exists, and then calls
    /// ``confirmSignIn(_:as:)``, which signs it out again if the session was revoked in
    /// between (the row was read before the connection could be found by a revocation). A store that
    /// cannot answer throws ``StoreError`` (`unavailable`: HTTP 503), rather than passing for an
    /// invalid token.
    public func principal(forBearer token: String) async throws -> Principal? {
        guard !token.isEmpty else { return nil }
        return try await verifiedAccessToken(token)?.principal
    }
}
