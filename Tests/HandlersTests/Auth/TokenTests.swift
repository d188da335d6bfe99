import Credentials
@testable import Handlers
import JSON
import JSONRPC
import Logging
import StoreTestSupport
import Testing
import SystemTime

/// Tokens and sessions on both backends: authenticate, refresh, logout, the upgrade's bearer
/// check, expiry, housekeeping.
@Suite struct TokenTests {
    @Test(arguments: TestBackend.allCases)
    func authenticateSignsAConnectionIn(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let ana = try await Auth.register(t, t.client(), "ana")
            let client = t.client()
            #expect(await Auth.error(client, "users.me")?.code == .unauthenticated)
            let result = try await client.call("auth.authenticate", ["accessToken": .string(ana.token)])
            #expect(result == ["user": ana.user, "expiresAt": "2026-12-25T12:00:00.000Z"])
            #expect(try await client.call("users.me") == ana.user)
            #expect(client.session.principal?.sessionID == (try Auth.sessionID(t, ana.token)))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func authenticateRefusesBadTokens(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let ana = try await Auth.register(t, t.client(), "ana")
            let claims = try t.domain.signer.verify(ana.token, now: 0)
            let otherSigner = TokenSigner(secret: Array(repeating: 9, count: 32))
            var flipped = Array(ana.token.utf8)
            flipped[flipped.count / 2] = flipped[flipped.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let invalid: [String] = [
                "garbage",
                "a.b.c",
                ana.token + "x",
                String(decoding: flipped, as: UTF8.self),
                otherSigner.sign(claims),
                // A valid signature over a session that does not exist, or another user's.
                t.domain.signer.sign(TokenClaims(subject: claims.subject, sessionID: "no-such-session", issuedAt: claims.issuedAt, expiresAt: claims.expiresAt)),
                t.domain.signer.sign(TokenClaims(subject: claims.subject + 1, sessionID: claims.sessionID, issuedAt: claims.issuedAt, expiresAt: claims.expiresAt)),
                // Expired by the domain's clock.
                t.domain.signer.sign(TokenClaims(subject: claims.subject, sessionID: claims.sessionID, issuedAt: claims.issuedAt, expiresAt: t.clock.now.seconds)),
            ]
            for token in invalid {
                let client = t.client()
                let error = await Auth.error(client, "auth.authenticate", ["accessToken": .string(token)])
                #expect(error?.code == .unauthenticated, "\(token)")
                #expect(error?.message == "Invalid or expired token")
                #expect(client.session.principal == nil)
                #expect(try await t.domain.principal(forBearer: token) == nil)
            }
            let params: [(JSONValue?, [RPCError.FieldError])] = [
                (nil, [.init("accessToken", "is required")]),
                (["accessToken": ""], [.init("accessToken", "must not be empty")]),
                (["accessToken": 42], [.init("accessToken", "must be a string")]),
                (["accessToken": .string(String(repeating: "a", count: 4097))], [.init("accessToken", "must be at most 4096 bytes")]),
                (["accessToken": .string(ana.token), "refresh": true], [.init("refresh", "is unknown")]),
            ]
            for (value, expected) in params {
                let error = await Auth.error(t.client(), "auth.authenticate", value)
                #expect(error?.fieldErrors == expected)
            }
            // A failed authenticate leaves a signed-in session as it was.
            let client = t.client()
            try await client.call("auth.authenticate", ["accessToken": .string(ana.token)])
            _ = await Auth.error(client, "auth.authenticate", ["accessToken": "garbage"])
            #expect(client.session.principal?.userID == ana.userID)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func authenticatingAsAnotherUserSwitchesTheConnection(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let ana = try await Auth.register(t, t.client(), "ana")
            let bob = try await Auth.register(t, t.client(), "bob")
            let client = t.client()
            try await client.call("auth.authenticate", ["accessToken": .string(ana.token)])
            try await client.call("auth.authenticate", ["accessToken": .string(bob.token)])
            #expect(try await client.call("users.me")["username"] == "bob")
            // Logging ana's session out elsewhere no longer reaches this connection.
            let other = t.client()
            try await other.call("auth.authenticate", ["accessToken": .string(ana.token)])
            try await other.call("auth.logout")
            #expect(client.notifications.isEmpty)
            #expect(client.session.principal?.userID == bob.userID)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func bearerTokensNameAPrincipal(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let ana = try await Auth.register(t, t.client(), "ana")
            let principal = try #require(try await t.domain.principal(forBearer: ana.token))
            #expect(principal.userID == ana.userID)
            #expect(principal.username == "ana")
            #expect(principal.sessionID == (try Auth.sessionID(t, ana.token)))
            #expect(principal.expiresAt == Timestamp(rfc3339: "2026-12-25T12:00:00Z"))
            #expect(try await t.domain.principal(forBearer: "") == nil)
            t.clock.advance(milliseconds: 30 * 86_400_000)
            #expect(try await t.domain.principal(forBearer: ana.token) == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func refreshKeepsTheSessionAndTheOldTokenUntilItsExpiry(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            // 30-day tokens (see Auth.domain); the clock moves in days.
            let t = Auth.domain(store)
            let day: Int64 = 86_400_000
            let client = t.client()
            let registered = try await client.call("auth.register", ["username": "ana", "email": "ana@example.com", "password": .string(Auth.password)])
            let old = try #require(registered["token"]?["accessToken"]?.stringValue)
            let sid = try Auth.sessionID(t, old)
            #expect(registered["token"]?["expiresAt"] == "2026-12-25T12:00:00.000Z")

            t.clock.advance(milliseconds: 15 * day)
            let refreshed = try await client.call("auth.refresh")
            #expect(refreshed["expiresAt"] == "2027-01-09T12:00:00.000Z")
            #expect(refreshed.objectValue?.keys == ["accessToken", "expiresAt"])
            let new = try #require(refreshed["accessToken"]?.stringValue)
            #expect(new != old)
            #expect(try Auth.sessionID(t, new) == sid)
            #expect(client.session.principal?.sessionID == sid)
            #expect(client.session.principal?.expiresAt == Timestamp(rfc3339: "2027-01-09T12:00:00Z"))
            #expect(try await store.read { try $0.session(id: sid) }?.expiresAt == Timestamp(rfc3339: "2027-01-09T12:00:00Z"))
            #expect(await Auth.error(client, "auth.refresh", ["extra": 1])?.fieldErrors == [.init("extra", "is unknown")])

            // Both tokens work until the old one's exp; then only the new one.
            try await t.client().call("auth.authenticate", ["accessToken": .string(old)])
            t.clock.advance(milliseconds: 15 * day)
            #expect(await Auth.error(t.client(), "auth.authenticate", ["accessToken": .string(old)])?.code == .unauthenticated)
            try await t.client().call("auth.authenticate", ["accessToken": .string(new)])
            t.clock.advance(milliseconds: 15 * day)
            #expect(await Auth.error(t.client(), "auth.authenticate", ["accessToken": .string(new)])?.code == .unauthenticated)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func refreshAndLogoutNeedASignedInSession(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            for method in ["auth.refresh", "auth.logout", "users.me", "users.search", "users.changePassword", "users.updateMe", "users.deleteMe"] {
                // -32001 comes before params are even looked at.
                #expect(await Auth.error(t.client(), method, ["bogus": 1])?.code == .unauthenticated, "\(method)")
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func logoutRevokesTheSessionEverywhere(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let caller = t.client()
            let ana = try await Auth.register(t, caller, "ana")
            let sid = try Auth.sessionID(t, ana.token)
            let sameSession = t.client()
            try await sameSession.call("auth.authenticate", ["accessToken": .string(ana.token)])
            let otherSession = t.client()
            let otherToken = try await Auth.login(otherSession, "ana")

            #expect(try await caller.call("auth.logout") == [:])
            #expect(caller.session.principal == nil)
            #expect(caller.notifications.isEmpty)
            #expect(Auth.signOuts(sameSession) == ["loggedOut"])
            #expect(sameSession.session.principal == nil)
            #expect(await Auth.error(sameSession, "users.me")?.code == .unauthenticated)
            #expect(otherSession.notifications.isEmpty)
            #expect(try await otherSession.call("users.me")["username"] == "ana")

            #expect(try await store.read { try $0.session(id: sid) } == nil)
            #expect(await Auth.error(t.client(), "auth.authenticate", ["accessToken": .string(ana.token)])?.code == .unauthenticated)
            #expect(try await t.domain.principal(forBearer: ana.token) == nil)
            try await t.client().call("auth.authenticate", ["accessToken": .string(otherToken)])
            #expect(t.domain.sessions.signedInCount == 2)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func refreshOfARevokedSessionSignsTheCallerOut(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let client = t.client()
            let ana = try await Auth.register(t, client, "ana")
            // Revoked behind this instance's back (another instance, without the relay).
            _ = try await store.write { try $0.deleteSession(id: Auth.sessionID(t, ana.token)) }
            #expect(await Auth.error(client, "auth.refresh")?.code == .unauthenticated)
            #expect(client.session.principal == nil)
        }
    }

    /// Real time: a short token lifetime, and the session is signed out when it passes.
    @Test(arguments: TestBackend.allCases)
    func anExpiredTokenSignsItsLiveSessionOut(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            var configuration = DomainConfiguration(publicURL: "http://faros.test")
            configuration.tokenTTLMilliseconds = 1_000
            let domain = Domain(
                store: store,
                hasher: FastPasswordHasher(),
                signer: TokenSigner(secret: Array(repeating: 7, count: 32)),
                oneTimeTokens: OneTimeTokenIssuer(),
                rateLimiter: InProcessRateLimiter(),
                zones: ZoneCache(source: ZoneDirectory()),
                configuration: configuration,
                clock: SystemClock.now,
                logger: Logger(label: "faros.handlers.tests", factory: { _ in SwiftLogNoOpLogHandler() })
            )
            let engine = RPCEngine(registry: domain.registry())
            let client = TestClient(engine: engine, address: "192.0.2.1", sessions: domain.sessions)
            let result = try await client.call("auth.register", ["username": "ana", "email": "ana@example.com", "password": .string(Auth.password)])
            let token = try #require(result["token"]?["accessToken"]?.stringValue)
            try await Auth.eventually("auth.signedOut expired") { Auth.signOuts(client) == ["expired"] }
            #expect(client.session.principal == nil)
            #expect(await Auth.error(client, "users.me")?.code == .unauthenticated)
            let other = TestClient(engine: engine, address: "192.0.2.1", sessions: domain.sessions)
            #expect(await Auth.error(other, "auth.authenticate", ["accessToken": .string(token)])?.code == .unauthenticated)
            #expect(domain.sessions.signedInCount == 0)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func sweepDeletesExpiredSessionsAndOldResults(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let client = t.client()
            let ana = try await Auth.register(t, client, "ana")
            let sid = try Auth.sessionID(t, ana.token)
            try await client.call("users.updateMe", ["username": "ana2", "requestKey": "k1"])
            let since = Timestamp(milliseconds: 0)
            let stored = { @Sendable () async throws -> Bool in
                try await store.read { try $0.storedResult(userID: ana.userID, requestKey: "k1", since: since) } != nil
            }

            try await t.domain.sweepExpired()
            #expect(try await store.read { try $0.session(id: sid) } != nil)
            #expect(try await stored())

            t.clock.advance(milliseconds: 86_400_001)
            try await t.domain.sweepExpired()
            #expect(try await store.read { try $0.session(id: sid) } != nil)
            #expect(try await stored() == false)

            t.clock.advance(milliseconds: 29 * 86_400_000)
            try await t.domain.sweepExpired()
            #expect(try await store.read { try $0.session(id: sid) } == nil)
        }
    }
}
