import JSON
import JSONRPC
import Logging

/// `auth.*`: register, login, token authentication and refresh, logout, password reset.
///
/// Open to anonymous sessions except `auth.refresh` and `auth.logout`, which act on the
/// caller's own session. None of them takes a `requestKey`: the open ones have no user to key
/// it on, and a stored result of register or login would be an access token at rest in the
/// database. Their retries are safe anyway: a repeated register conflicts (-32009), a repeated
/// login opens one more session.
enum AuthMethods {
    static func register(in registry: inout MethodRegistry<ClientSession>, domain: Domain) {
        registry.registerOpen("auth.register", params: RegisterParams.self) { params, client in
            try await register(params, client: client, domain: domain)
        }
        registry.registerOpen("auth.login", params: LoginParams.self) { params, client in
            try await login(params, client: client, domain: domain)
        }
        registry.registerOpen("auth.authenticate", params: AuthenticateParams.self) { params, client in
            try await authenticate(params, client: client, domain: domain)
        }
        registry.registerSignedIn("auth.refresh", params: NoParams.self) { _, call in
            try await refresh(call, domain: domain)
        }
        registry.registerSignedIn("auth.logout", params: NoParams.self) { _, call in
            try await logout(call, domain: domain)
        }
        registry.registerOpen("auth.requestPasswordReset", params: RequestPasswordResetParams.self) { params, client in
            try requestPasswordReset(params, client: client, domain: domain)
        }
        registry.registerOpen("auth.resetPassword", params: ResetPasswordParams.self) { params, _ in
            try await resetPassword(params, domain: domain)
        }
        // The account's own profile methods live beside these, in one registration.
        UserMethods.register(in: &registry, domain: domain)
    }

    // MARK: Params and results

    struct RegisterParams: Decodable, Sendable {
        var username: String
        var email: String
        var password: String
    }

    struct LoginParams: Decodable, Sendable {
        /// The username or the email address.
        var username: String
        var password: String
    }

    struct AuthenticateParams: Decodable, Sendable {
        var accessToken: String
    }

    struct RequestPasswordResetParams: Decodable, Sendable {
        var email: String
    }

    struct ResetPasswordParams: Decodable, Sendable {
        var token: String
        var newPassword: String
    }

    /// `{user, token}` of register and login.
    struct SignedIn: Encodable, Sendable {
        var user: User
        var token: Token
    }

    /// `{user, expiresAt}` of authenticate.
    struct Authenticated: Encodable, Sendable {
        var user: User
        var expiresAt: Timestamp
    }

    /// The `{}` result of the methods that answer nothing more.
    static let empty: JSONValue = .object(JSONObject())

    /// The longest one-time token accepted before any lookup: ours are 43 characters; 512 leaves
    /// room for any future format and bounds the work a hostile value causes.
    static let maxOneTimeTokenLength = 512

    // MARK: auth.register

    /// Creates the account, opens a session, signs the caller in and mails a verification link.
    ///
    /// Every field is validated before anything else (-32602 naming each bad one); then the
    /// per-address registration limit counts the attempt; the password is hashed outside the
    /// transaction; user, session and verification token are inserted in one transaction, so a
    /// taken username or email (including a concurrent twin registration) is -32009 naming the
    /// field and leaves nothing behind.
    static func register(_ params: RegisterParams, client: ClientSession, domain: Domain) async throws -> SignedIn {
        var violations = FieldErrors()
        let username = violations.check { () throws(RPCError) in try AccountRules.username(params.username) }
        let email = violations.check { () throws(RPCError) in try AccountRules.email(params.email) }
        violations.check { () throws(RPCError) in try AccountRules.newPassword(params.password, field: "password") }
        try violations.throwIfAny()
        guard let username, let email else { throw RPCError.internalError() }

        try await domain.rateLimitRecord([
            RateLimitKey(rule: RateLimitPolicy.registrationsPerAddress, key: RateLimitPolicy.addressKey(client.clientAddress))
        ])
        let hash = try await domain.hasher.hash(params.password)
        let now = domain.clock()
        let verification = domain.oneTimeTokens.generate()
        let queue = domain.mailQueue(at: now)
        let (user, session): (UserRow, SessionRow) = try await domain.store.write { tx in
            let user = try tx.insertUser(NewUser(username: username, email: email, passwordHash: hash, createdAt: now))
            let session = domain.newSessionRow(userID: user.id, now: now)
            try tx.insertSession(session)
            try tx.putOneTimeToken(OneTimeTokenRow(
                purpose: .emailVerification,
                userID: user.id,
                tokenHash: verification.hash,
                email: user.email,
                expiresAt: now.adding(milliseconds: AccountMail.verificationLifetimeMilliseconds)
            ))
            // The first verification mail commits with the account: neither exists without the other.
            try tx.enqueueMail(queue.account(
                domain.verificationMail(to: user.email, token: verification.token, messageID: queue.newMessageID()),
                kind: .verification, userID: user.id
            ))
            return (user, session)
        }
        domain.mailCommitted()
        let token = domain.accessToken(for: session, issuedAt: now)
        guard try await domain.signInConfirmed(client, as: Domain.principal(user, sessionID: session.id, expiresAt: session.expiresAt)) else {
            throw RPCError.sessionEnded
        }
        // Registration's own limit bounds these mails; they count toward the address's
        // verification-mail budget so a later resend cannot exceed it.
        await domain.rateLimitNote([
            RateLimitKey(rule: RateLimitPolicy.verificationMailsPerEmail, key: RateLimitPolicy.emailKey(user.email))
        ])
        client.logger.info("account registered", metadata: ["enduser.id": "\(user.id)"])
        return SignedIn(user: domain.userObject(user), token: token)
    }

    // MARK: auth.login

    /// Verifies a username-or-email and password, opens a session and signs the caller in.
    ///
    /// Both limits count the attempt before any hashing, so a limited caller costs nothing and
    /// concurrent guesses cannot all pass the check before the first failure is counted (120 at
    /// once from one address would otherwise all be hashed). They count failures only: a
    /// success takes its attempt back from the address (but not the address's earlier
    /// failures, so one good account cannot launder an address's guesses) and clears the
    /// account's; an attempt refused by the other limit or never hashed (the hasher's queue is
    /// full: -32029 at once) is taken back from both. An unknown login runs a dummy
    /// verification, and both failures give the same -32001, so neither the answer nor its
    /// timing tells whether the account exists. A hash below the current cost is replaced.
    static func login(_ params: LoginParams, client: ClientSession, domain: Domain) async throws -> SignedIn {
        var violations = FieldErrors()
        let login = violations.check { () throws(RPCError) in try AccountRules.login(params.username) }
        violations.check { () throws(RPCError) in try AccountRules.givenPassword(params.password, field: "password") }
        try violations.throwIfAny()
        guard let login else { throw RPCError.internalError() }

        let found = try await domain.store.read { try $0.user(login: login) }
        let accountKey = RateLimitKey(
            rule: RateLimitPolicy.failedLoginsPerAccount,
            key: found.map { RateLimitPolicy.accountKey(userID: $0.id) } ?? RateLimitPolicy.accountKey(login: login)
        )
        let addressKey = RateLimitKey(
            rule: RateLimitPolicy.failedLoginsPerAddress,
            key: RateLimitPolicy.addressKey(client.clientAddress)
        )
        let attempt = domain.clock()
        try await domain.rateLimitRecord([addressKey], at: attempt)
        do {
            try await domain.rateLimitRecord([accountKey], at: attempt)
        } catch {
            await domain.rateLimitRefund([addressKey], recordedAt: attempt)
            throw error
        }

        let verified: Bool
        do {
            if let found {
                verified = try await domain.hasher.verify(params.password, against: found.passwordHash)
            } else {
                try await domain.hasher.verifyDummy(params.password)
                verified = false
            }
        } catch {
            // Nothing was checked: not a guess.
            await domain.rateLimitRefund([addressKey, accountKey], recordedAt: attempt)
            throw error
        }
        guard verified, let found else {
            client.logger.debug("login failed")
            throw RPCError.badCredentials
        }
        await domain.rateLimitRefund([addressKey], recordedAt: attempt)

        var newHash: String?
        if domain.hasher.needsRehash(found.passwordHash) {
            do {
                newHash = try await domain.hasher.hash(params.password)
            } catch {
                client.logger.warning("password rehash failed", metadata: ["error": "\(Domain.loggable(error))"])
            }
        }
        let rehash = newHash
        let now = domain.clock()
        let (user, session): (UserRow, SessionRow) = try await domain.store.write { tx in
            // Deleted, or its password changed, since the check: what was verified no longer
            // holds, the same answer as a wrong password.
            guard let user = try tx.user(id: found.id), user.passwordHash == found.passwordHash else {
                throw RPCError.badCredentials
            }
            if let rehash { try tx.setPasswordHash(userID: user.id, hash: rehash) }
            let session = domain.newSessionRow(userID: user.id, now: now)
            try tx.insertSession(session)
            return (user, session)
        }
        await domain.rateLimitReset([accountKey])
        let token = domain.accessToken(for: session, issuedAt: now)
        guard try await domain.signInConfirmed(client, as: Domain.principal(user, sessionID: session.id, expiresAt: session.expiresAt)) else {
            throw RPCError.sessionEnded
        }
        client.logger.info("signed in", metadata: ["enduser.id": "\(user.id)"])
        return SignedIn(user: domain.userObject(user), token: token)
    }

    // MARK: auth.authenticate

    /// Signs the caller in with an access token (or swaps a live session's token); an invalid
    /// one is -32001 and leaves the session as it was. A token whose session is revoked while
    /// the call runs is -32001 too, and the caller is then anonymous: see
    /// ``Domain/signInConfirmed(_:as:undoneWith:)``.
    static func authenticate(_ params: AuthenticateParams, client: ClientSession, domain: Domain) async throws -> Authenticated {
        let token = params.accessToken
        if token.isEmpty { throw RPCError.invalidParams(field: "accessToken", message: "must not be empty") }
        guard token.utf8.count <= TokenLimits.maxTokenBytes else {
            throw RPCError.invalidParams(field: "accessToken", message: "must be at most \(TokenLimits.maxTokenBytes) bytes")
        }
        guard let verified = try await domain.verifiedAccessToken(token) else { throw RPCError.invalidToken }
        guard try await domain.signInConfirmed(client, as: verified.principal) else { throw RPCError.invalidToken }
        return Authenticated(user: domain.userObject(verified.user), expiresAt: verified.principal.expiresAt)
    }

    // MARK: auth.refresh

    /// A new token for the caller's session (same `sid`), whose expiry moves to the new
    /// token's; the connection switches to it. The old token keeps working until its own `exp`
    /// (it names the same, still valid session).
    static func refresh(_ call: SignedInCall, domain: Domain) async throws -> Token {
        let now = domain.clock()
        let principal = call.principal
        guard principal.expiresAt > now else { throw RPCError.invalidToken }
        let expiry = domain.tokenExpiry(issuedAt: now)
        let refreshed: (UserRow, SessionRow)? = try await domain.store.write { tx in
            guard var session = try tx.session(id: principal.sessionID),
                  session.userID == principal.userID, session.expiresAt >= now,
                  let user = try tx.user(id: principal.userID)
            else { return nil }
            session.expiresAt = max(session.expiresAt, expiry)
            guard try tx.extendSession(id: session.id, expiresAt: session.expiresAt) else { return nil }
            return (user, session)
        }
        guard let refreshed else {
            // Revoked where this instance did not hear of it: the connection is not signed in.
            if call.client.principal == principal { domain.sessions.signOut(call.client) }
            throw RPCError.sessionEnded
        }
        let (user, session) = refreshed
        let token = domain.accessToken(for: session, issuedAt: now)
        guard try await domain.signInConfirmed(call.client, as: Domain.principal(user, sessionID: session.id, expiresAt: session.expiresAt)) else {
            throw RPCError.sessionEnded
        }
        return token
    }

    // MARK: auth.logout

    /// Deletes the caller's session: every token of it stops working, every other connection
    /// holding it is signed out with `loggedOut`, and the caller becomes anonymous (its `{}`
    /// says so; it gets no notification).
    static func logout(_ call: SignedInCall, domain: Domain) async throws -> JSONValue {
        let sessionID = call.principal.sessionID
        let userID = call.userID
        let now = domain.clock()
        _ = try await domain.store.write { tx in
            let deleted = try tx.deleteSession(id: sessionID)
            // Other instances sign their connections on this session out from the log.
            try tx.insertSessionRevocation(
                actorID: userID, data: SessionRevocation(scope: .sessions([sessionID]), reason: .loggedOut).data, at: now)
            return deleted
        }
        domain.activityCommitted()
        if call.client.principal?.sessionID == sessionID { domain.sessions.signOut(call.client) }
        domain.sessions.revoke(sessionIDs: [sessionID], reason: .loggedOut)
        return AuthMethods.empty
    }

    // MARK: auth.requestPasswordReset

    /// Answers `{}` at once; looking the address up, the limits, the token and the mail happen
    /// in a detached task, so the answer and its timing are the same whether the address has
    /// an account, has none, or is rate limited: nobody learns from it who has an account.
    static func requestPasswordReset(
        _ params: RequestPasswordResetParams, client: ClientSession, domain: Domain
    ) throws -> JSONValue {
        let email = try AccountRules.email(params.email)
        let address = client.clientAddress
        Task.detached(priority: .utility) {
            await domain.processPasswordResetRequest(email: email, clientAddress: address)
        }
        return AuthMethods.empty
    }

    // MARK: auth.resetPassword

    /// Sets a new password with a mailed reset token: every session of the user is deleted and
    /// their live connections are signed out with `passwordReset`.
    ///
    /// `newPassword` is validated first, then the token is taken (single use) in its own
    /// transaction, so the costly hash is only computed for a real token and outside any
    /// transaction; when the hash cannot be computed now (the hasher is busy) the token is put
    /// back. A token mailed to an address the account no longer has is void.
    static func resetPassword(_ params: ResetPasswordParams, domain: Domain) async throws -> JSONValue {
        try AccountRules.newPassword(params.newPassword, field: "newPassword")
        let length = params.token.utf8.count
        if length == 0 { throw RPCError.invalidParams(field: "token", message: "must not be empty") }
        guard length <= maxOneTimeTokenLength else { throw RPCError.invalidOneTimeToken }

        let tokenHash = domain.oneTimeTokens.hash(params.token)
        let now = domain.clock()
        let taken: (userID: Int64, row: OneTimeTokenRow)? = try await domain.store.write { tx in
            guard let row = try tx.takeOneTimeToken(purpose: .passwordReset, tokenHash: tokenHash, now: now),
                  let user = try tx.user(id: row.userID), user.email == row.email
            else { return nil }
            return (user.id, row)
        }
        guard let (userID, row) = taken else { throw RPCError.invalidOneTimeToken }

        let hash: String
        do {
            hash = try await domain.hasher.hash(params.newPassword)
        } catch {
            // A busy hasher (-32029, retry later) must not burn the mailed link: the token goes
            // back. (It replaces a newer reset token requested meanwhile, which cannot be the one
            // the user is following at this moment.)
            _ = try? await domain.store.write { tx in try tx.putOneTimeToken(row) }
            throw error
        }
        let changed: Bool = try await domain.store.write { tx in
            guard try tx.user(id: userID) != nil else { return false }
            try tx.setPasswordHash(userID: userID, hash: hash)
            try tx.deleteOneTimeTokens(userID: userID, purpose: .passwordReset)
            _ = try tx.deleteSessions(userID: userID, except: nil)
            try tx.insertSessionRevocation(
                actorID: userID, data: SessionRevocation(scope: .user(userID, except: nil), reason: .passwordReset).data, at: now)
            return true
        }
        guard changed else { throw RPCError.invalidOneTimeToken }
        domain.activityCommitted()
        domain.sessions.revokeUser(userID, except: nil, reason: .passwordReset)
        await domain.rateLimitReset([
            RateLimitKey(rule: RateLimitPolicy.failedLoginsPerAccount, key: RateLimitPolicy.accountKey(userID: userID))
        ])
        domain.logger.info("password reset", metadata: ["enduser.id": "\(userID)"])
        return AuthMethods.empty
    }
}

extension Domain {
    /// The background half of `auth.requestPasswordReset`: limits, lookup, token, mail.
    ///
    /// Both limits count every request, known address or not, so probing is limited alike. A
    /// new token replaces the user's older one. Errors are logged by kind only, never with the
    /// address.
    func processPasswordResetRequest(email: String, clientAddress: String) async {
        do {
            try await rateLimitRecord([
                RateLimitKey(rule: RateLimitPolicy.passwordResetsPerAddress, key: RateLimitPolicy.addressKey(clientAddress)),
                RateLimitKey(rule: RateLimitPolicy.passwordResetsPerEmail, key: RateLimitPolicy.emailKey(email)),
            ])
        } catch {
            logger.debug("password reset request rate limited")
            return
        }
        let now = clock()
        let generated = oneTimeTokens.generate()
        let queue = mailQueue(at: now)
        do {
            let userID: Int64? = try await store.write { tx in
                guard let user = try tx.user(email: email) else { return nil }
                try tx.putOneTimeToken(OneTimeTokenRow(
                    purpose: .passwordReset,
                    userID: user.id,
                    tokenHash: generated.hash,
                    email: user.email,
                    expiresAt: now.adding(milliseconds: AccountMail.passwordResetLifetimeMilliseconds)
                ))
                try tx.enqueueMail(queue.account(
                    self.passwordResetMail(to: user.email, token: generated.token, messageID: queue.newMessageID()),
                    kind: .passwordReset, userID: user.id
                ))
                return user.id
            }
            guard let userID else {
                logger.debug("password reset requested for an address with no account")
                return
            }
            mailCommitted()
            logger.info("password reset mail queued", metadata: ["enduser.id": "\(userID)"])
        } catch {
            logger.error("password reset request failed", metadata: ["error": "\(Self.loggable(error))"])
        }
    }
}

extension RPCError {
    /// -32602 naming `token`: a one-time token that is wrong, expired or already used
    /// (protocol/README.md, "Accounts and sessions").
    static var invalidOneTimeToken: RPCError {
        .invalidParams(field: "token", message: "is invalid, expired or already used")
    }
}
