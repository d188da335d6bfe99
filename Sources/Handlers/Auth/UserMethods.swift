import JSON
import JSONRPC
import Logging
import Synchronization

/// `users.*`: the caller's own account (read, profile update, password change, deletion) and
/// the user search that sharing uses. Every method needs a signed-in session.
///
/// Proving the password (`users.changePassword`, `users.deleteMe`, an email change in
/// `users.updateMe`) counts a wrong one as a failed login of the account, under the same
/// limit: otherwise a stolen session would be an unlimited password oracle.
enum UserMethods {
    static func register(in registry: inout MethodRegistry<ClientSession>, domain: Domain) {
        registry.registerSignedIn("users.me", params: NoParams.self) { _, call in
            try await me(call, domain: domain)
        }
        registry.registerSignedIn("users.changePassword", params: ChangePasswordParams.self) { params, call in
            try await changePassword(params, call: call, domain: domain)
        }
        registry.registerSignedIn("users.search", params: SearchParams.self) { params, call in
            try await search(params, call: call, domain: domain)
        }
        registry.registerSignedIn("users.updateMe", params: UpdateMeParams.self) { params, call in
            try await updateMe(params, call: call, domain: domain)
        }
        registry.registerSignedIn("users.deleteMe", params: DeleteMeParams.self) { params, call in
            try await deleteMe(params, call: call, domain: domain)
        }
    }

    // MARK: Params and results

    struct ChangePasswordParams: Decodable, Sendable {
        var currentPassword: String
        var newPassword: String
    }

    struct SearchParams: Decodable, Sendable {
        var query: String
        var limit: Int?
    }

    struct UpdateMeParams: Decodable, Sendable {
        var username: String?
        var email: String?
        var currentPassword: String?
        var requestKey: String?
    }

    struct DeleteMeParams: Decodable, Sendable {
        var password: String
    }

    struct SearchResult: Encodable, Sendable {
        var items: [PublicUser]
    }

    /// Search pages are small: the results feed a type-ahead, and a larger page would make
    /// walking the user list cheaper than it needs to be.
    static let searchLimits = 1...50
    static let defaultSearchLimit = 10

    // MARK: users.me

    static func me(_ call: SignedInCall, domain: Domain) async throws -> User {
        let userID = call.userID
        guard let row = try await domain.store.read({ try $0.user(id: userID) }) else { throw RPCError.sessionEnded }
        return domain.userObject(row)
    }

    // MARK: users.changePassword

    /// Replaces the password and starts over: a new session and token for the caller, every
    /// other session of the user deleted and their live connections signed out with
    /// `passwordChanged`. A wrong `currentPassword` is -32602 naming it and leaves the session
    /// signed in: a typo is not a reason to sign anyone out.
    static func changePassword(_ params: ChangePasswordParams, call: SignedInCall, domain: Domain) async throws -> Token {
        var violations = FieldErrors()
        violations.check { () throws(RPCError) in
            try AccountRules.givenPassword(params.currentPassword, field: "currentPassword")
        }
        violations.check { () throws(RPCError) in try AccountRules.newPassword(params.newPassword, field: "newPassword") }
        try violations.throwIfAny()

        let row = try await verifyPassword(params.currentPassword, field: "currentPassword", call: call, domain: domain)
        let hash = try await domain.hasher.hash(params.newPassword)
        let now = domain.clock()
        let session = domain.newSessionRow(userID: row.id, now: now)
        // The caller's connection moves to the new session before the change commits: the
        // revocation is in the event log from the commit on, and a dispatcher that applies it
        // before this call resumes must not sign the caller out with the others. A change that
        // does not commit puts the connection back on its old session (confirmed below, in case
        // that session was revoked meanwhile).
        let previous = call.client.principal
        domain.sessions.signIn(call.client, as: Domain.principal(row, sessionID: session.id, expiresAt: session.expiresAt))
        let user: UserRow
        do {
            user = try await domain.store.write { tx in
                guard let user = try tx.user(id: row.id) else { throw RPCError.sessionEnded }
                // Changed meanwhile by another call: what was verified is no longer current.
                guard user.passwordHash == row.passwordHash else { throw RPCError.incorrectPassword("currentPassword") }
                try tx.setPasswordHash(userID: user.id, hash: hash)
                try tx.insertSession(session)
                _ = try tx.deleteSessions(userID: user.id, except: session.id)
                // Reset links mailed before the change must not undo it.
                try tx.deleteOneTimeTokens(userID: user.id, purpose: .passwordReset)
                try tx.insertSessionRevocation(
                    actorID: user.id, data: SessionRevocation(scope: .user(user.id, except: session.id), reason: .passwordChanged).data,
                    at: now)
                return user
            }
        } catch {
            if let previous, call.client.principal?.sessionID == session.id {
                _ = try? await domain.signInConfirmed(call.client, as: previous, undoneWith: .loggedOut)
            }
            throw error
        }
        domain.activityCommitted()
        // The principal again with the row as committed, then confirmed: a revocation of every
        // session (a reset elsewhere) between the commit and here signs the caller out too.
        let confirmed = try await domain.signInConfirmed(
            call.client, as: Domain.principal(user, sessionID: session.id, expiresAt: session.expiresAt))
        domain.sessions.revokeUser(user.id, except: session.id, reason: .passwordChanged)
        guard confirmed else { throw RPCError.sessionEnded }
        call.client.logger.info("password changed")
        return domain.accessToken(for: session, issuedAt: now)
    }

    // MARK: users.search

    /// Users whose username contains `query` (literally, ignoring case), prefix matches first,
    /// never the caller.
    static func search(_ params: SearchParams, call: SignedInCall, domain: Domain) async throws -> SearchResult {
        var violations = FieldErrors()
        let folded = violations.check { () throws(RPCError) in try AccountRules.searchQuery(params.query) }
        let limit = params.limit ?? defaultSearchLimit
        if !searchLimits.contains(limit) {
            violations.check { () throws(RPCError) in
                throw RPCError.invalidParams(
                    field: "limit",
                    message: "must be between \(searchLimits.lowerBound) and \(searchLimits.upperBound)"
                )
            }
        }
        try violations.throwIfAny()
        guard let folded else { throw RPCError.internalError() }
        let caller = call.userID
        let items = try await domain.store.read { try $0.searchUsers(queryFolded: folded, excluding: caller, limit: limit) }
        return SearchResult(items: items)
    }

    // MARK: users.updateMe

    /// Changes the username and/or email. A new email needs `currentPassword`, starts
    /// unverified, voids the old address's verification and reset links, and gets a
    /// verification mail (under the verification-mail limits, checked before anything
    /// changes). Taken names are -32009 with `data.field`. With `requestKey`, a retry returns
    /// the first answer and sends no second mail.
    static func updateMe(_ params: UpdateMeParams, call: SignedInCall, domain: Domain) async throws -> JSONValue {
        var violations = FieldErrors()
        let username = violations.check { () throws(RPCError) in
            try params.username.map { name throws(RPCError) in try AccountRules.username(name) }
        } ?? nil
        let email = violations.check { () throws(RPCError) in
            try params.email.map { address throws(RPCError) in try AccountRules.email(address) }
        } ?? nil
        if let password = params.currentPassword {
            violations.check { () throws(RPCError) in try AccountRules.givenPassword(password, field: "currentPassword") }
        }
        Domain.validateRequestKey(params.requestKey, into: &violations)
        try violations.throwIfAny()

        let userID = call.userID
        guard let current = try await domain.store.read({ try $0.user(id: userID) }) else { throw RPCError.sessionEnded }
        let emailChanges = email.map { $0 != current.email } ?? false
        if emailChanges, params.currentPassword == nil {
            throw RPCError.invalidParams(field: "currentPassword", message: "is required when the email changes")
        }
        if let password = params.currentPassword {
            _ = try await verifyPassword(password, field: "currentPassword", call: call, domain: domain)
        }
        let mailKeys = email.map { address in
            [
                RateLimitKey(rule: RateLimitPolicy.verificationMailsPerEmail, key: RateLimitPolicy.emailKey(address)),
                RateLimitKey(
                    rule: RateLimitPolicy.verificationMailsPerAddress,
                    key: RateLimitPolicy.addressKey(call.client.clientAddress)
                ),
            ]
        } ?? []
        if emailChanges { try await domain.rateLimitCheck(mailKeys) }

        let now = domain.clock()
        let verification = domain.oneTimeTokens.generate()
        let queue = domain.mailQueue(at: now)
        let outcome = UpdateOutcome()
        let passwordGiven = params.currentPassword != nil
        let result = try await domain.writeOnce(call, method: "users.updateMe", requestKey: params.requestKey) { tx in
            guard let row = try tx.user(id: userID) else { throw RPCError.sessionEnded }
            let newUsername = username ?? row.username
            let newEmail = email ?? row.email
            guard newUsername != row.username || newEmail != row.email else { return domain.userObject(row) }
            let emailChanged = newEmail != row.email
            // Changed meanwhile by another call, so this one changes it after all: the password
            // rule applies to what the transaction writes, not to what the call first saw.
            if emailChanged, !passwordGiven {
                throw RPCError.invalidParams(field: "currentPassword", message: "is required when the email changes")
            }
            guard let updated = try tx.updateUser(
                id: userID,
                username: newUsername,
                email: newEmail,
                emailVerified: emailChanged ? false : row.emailVerified
            ) else { throw RPCError.sessionEnded }
            if emailChanged {
                try tx.deleteOneTimeTokens(userID: userID, purpose: .passwordReset)
                try tx.putOneTimeToken(OneTimeTokenRow(
                    purpose: .emailVerification,
                    userID: userID,
                    tokenHash: verification.hash,
                    email: updated.email,
                    expiresAt: now.adding(milliseconds: AccountMail.verificationLifetimeMilliseconds)
                ))
                try tx.enqueueMail(queue.account(
                    domain.verificationMail(to: updated.email, token: verification.token, messageID: queue.newMessageID()),
                    kind: .verification, userID: userID
                ))
            }
            outcome.record(updated, emailChanged: emailChanged)
            return domain.userObject(updated)
        }

        if let (updated, emailChanged) = outcome.value {
            if emailChanged {
                await domain.rateLimitNote(mailKeys)
                domain.mailCommitted()
            }
            if updated.username != call.principal.username, call.client.principal == call.principal {
                var principal = call.principal
                principal.username = updated.username
                _ = try await domain.signInConfirmed(call.client, as: principal)
            }
            call.client.logger.info("profile updated")
        }
        return result
    }

    // MARK: users.deleteMe

    /// Deletes the account with everything it owns (the store cascades); every other
    /// connection of the user is signed out with `loggedOut` and the caller becomes anonymous.
    ///
    /// Each owned task that had collaborators logs `task.deleted` in the same transaction, so
    /// its sharees learn it is gone (the audience is recorded before the cascade removes the
    /// shares); a task nobody else could see needs no event. Tasks are locked in id order, like
    /// every multi-task write, so this never deadlocks with a bulk update.
    static func deleteMe(_ params: DeleteMeParams, call: SignedInCall, domain: Domain) async throws -> JSONValue {
        try AccountRules.givenPassword(params.password, field: "password")
        let row = try await verifyPassword(params.password, field: "password", call: call, domain: domain)
        let now = domain.clock()
        let userID = row.id
        try await domain.store.write { tx in
            let activity = ActivityRecorder(tx: tx, actor: userID, at: now)
            for task in try tx.sharedTasks(owner: userID) {
                try activity.taskDeleted(try tx.lockTask(id: task.id, viewer: userID) ?? task)
            }
            // Written while the account still exists (the row's actor is nulled by the delete).
            try tx.insertSessionRevocation(
                actorID: userID, data: SessionRevocation(scope: .user(userID, except: nil), reason: .loggedOut).data, at: now)
            guard try tx.deleteUser(id: userID) else { throw RPCError.sessionEnded }
        }
        domain.activityCommitted()
        if call.client.principal?.userID == row.id { domain.sessions.signOut(call.client) }
        domain.sessions.revokeUser(row.id, except: nil, reason: .loggedOut)
        domain.logger.info("account deleted", metadata: ["enduser.id": "\(row.id)"])
        return AuthMethods.empty
    }

    // MARK: Shared

    /// The caller's row once `password` is proven theirs. Over the account's failed-login limit
    /// is -32029 before any hashing; a wrong password counts as a failed login and is -32602
    /// naming `field`; a right one clears the account's failures; a vanished account is -32001.
    static func verifyPassword(_ password: String, field: String, call: SignedInCall, domain: Domain) async throws -> UserRow {
        let userID = call.userID
        let accountKey = RateLimitKey(
            rule: RateLimitPolicy.failedLoginsPerAccount,
            key: RateLimitPolicy.accountKey(userID: userID)
        )
        // Counted up front and cleared by a success, as in `auth.login`.
        let attempt = domain.clock()
        try await domain.rateLimitRecord([accountKey], at: attempt)
        guard let row = try await domain.store.read({ try $0.user(id: userID) }) else { throw RPCError.sessionEnded }
        let verified: Bool
        do {
            verified = try await domain.hasher.verify(password, against: row.passwordHash)
        } catch {
            // Nothing was checked (the hasher's queue is full): not a guess.
            await domain.rateLimitRefund([accountKey], recordedAt: attempt)
            throw error
        }
        guard verified else { throw RPCError.incorrectPassword(field) }
        await domain.rateLimitReset([accountKey])
        return row
    }
}

/// What the `users.updateMe` transaction did, read after it commits (nothing when a stored
/// result was replayed or nothing changed).
///
/// One case it cannot tell: two calls with the same `requestKey` at the same moment both run
/// their body, and the loser's transaction rolls back at the key's insert after recording here.
/// The loser then mails a verification link whose token was rolled back (a dead link beside
/// the winner's working one); nothing else of it survives.
private final class UpdateOutcome: Sendable {
    private let state = Mutex<(UserRow, Bool)?>(nil)

    func record(_ user: UserRow, emailChanged: Bool) {
        state.withLock { $0 = (user, emailChanged) }
    }

    var value: (UserRow, Bool)? { state.withLock { $0 } }
}

extension RPCError {
    /// -32602 naming the password field that did not match.
    static func incorrectPassword(_ field: String) -> RPCError {
        .invalidParams(field: field, message: "is incorrect")
    }
}
