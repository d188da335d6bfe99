import JSONRPC

extension Domain {
    /// Marks the address a verification mail went to as verified (`GET /verify-email`,
    /// `notifications.verifyEmail`).
    ///
    /// The token is single use and expires (it is taken from the store, hashed); one mailed to
    /// an address the account no longer has is void. A wrong, expired or used token is -32602
    /// naming `token`.
    public func verifyEmail(token: String) async throws {
        let length = token.utf8.count
        if length == 0 { throw RPCError.invalidParams(field: "token", message: "must not be empty") }
        guard length <= AuthMethods.maxOneTimeTokenLength else { throw RPCError.invalidOneTimeToken }
        let tokenHash = oneTimeTokens.hash(token)
        let now = clock()
        let verified: Bool = try await store.write { tx in
            guard let row = try tx.takeOneTimeToken(purpose: .emailVerification, tokenHash: tokenHash, now: now),
                  let user = try tx.user(id: row.userID), user.email == row.email
            else { return false }
            if !user.emailVerified {
                _ = try tx.updateUser(id: user.id, username: user.username, email: user.email, emailVerified: true)
            }
            return true
        }
        guard verified else { throw RPCError.invalidOneTimeToken }
    }

    /// `auth.resetPassword` for the `/reset-password` form: the same rules and effects.
    public func resetPassword(token: String, newPassword: String) async throws {
        _ = try await AuthMethods.resetPassword(
            AuthMethods.ResetPasswordParams(token: token, newPassword: newPassword), domain: self
        )
    }
}
