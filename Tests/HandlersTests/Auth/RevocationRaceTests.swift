import Credentials
@testable import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

/// A revocation that commits between a method's read of the session row and its sign-in must
/// still end the session on that connection. Each test runs the revocation exactly there,
/// through ``HookedStore``.
@Suite struct RevocationRaceTests {
    @Test(arguments: TestBackend.allCases)
    func aLogoutDuringAuthenticateIsNotMissed(_ backend: TestBackend) async throws {
        try await withStore(backend) { inner in
            let store = HookedStore(inner)
            let t = Auth.domain(store)
            let owner = t.client()
            let ana = try await Auth.register(t, owner, "ana")
            let thief = t.client(address: "203.0.113.66")
            // The token checks out; the owner logs out before the thief's connection is signed in.
            let error = try await store.racing({ await Auth.error(thief, "auth.authenticate", ["accessToken": .string(ana.token)]) }) {
                try await owner.call("auth.logout")
            }
            #expect(error?.code == .unauthenticated)
            #expect(thief.session.principal == nil)
            #expect(t.domain.sessions.signedInCount == 0)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aPasswordResetDuringAuthenticateIsNotMissed(_ backend: TestBackend) async throws {
        try await withStore(backend) { inner in
            let store = HookedStore(inner)
            let t = Auth.domain(store)
            let ana = try await Auth.register(t, t.client(), "ana")
            let before = t.mailer.messages.count
            try await t.client().call("auth.requestPasswordReset", ["email": "ana@example.com"])
            try await Auth.eventually("reset mail") { t.mailer.messages.count > before }
            let resetToken = try Auth.linkToken(try #require(t.mailer.messages.last))
            let thief = t.client(address: "203.0.113.66")
            let error = try await store.racing({ await Auth.error(thief, "auth.authenticate", ["accessToken": .string(ana.token)]) }) {
                try await t.client().call("auth.resetPassword", ["token": .string(resetToken), "newPassword": "a brand new password"])
            }
            #expect(error?.code == .unauthenticated)
            #expect(thief.session.principal == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aLogoutDuringRefreshIsNotMissed(_ backend: TestBackend) async throws {
        try await withStore(backend) { inner in
            let store = HookedStore(inner)
            let t = Auth.domain(store)
            let owner = t.client()
            let ana = try await Auth.register(t, owner, "ana")
            let thief = t.client(address: "203.0.113.66")
            try await thief.call("auth.authenticate", ["accessToken": .string(ana.token)])
            // The refresh's write extends the session; the logout commits right after it.
            let error = try await store.racing({ await Auth.error(thief, "auth.refresh") }) { try await owner.call("auth.logout") }
            #expect(error?.code == .unauthenticated)
            #expect(thief.session.principal == nil)
            #expect(t.domain.sessions.signedInCount == 0)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aLogoutDuringABearerUpgradeIsNotMissed(_ backend: TestBackend) async throws {
        try await withStore(backend) { inner in
            let store = HookedStore(inner)
            let t = Auth.domain(store)
            let owner = t.client()
            let ana = try await Auth.register(t, owner, "ana")
            // The upgrade checks the token, the owner logs out, then the server signs the new
            // connection in and confirms it, as RPCSession does.
            let found = try await store.racing({ try await t.domain.principal(forBearer: ana.token) }) {
                try await owner.call("auth.logout")
            }
            let principal = try #require(found)
            let upgraded = t.client(address: "203.0.113.66")
            t.domain.sessions.signIn(upgraded.session, as: principal)
            await t.domain.confirmSignIn(upgraded.session, as: principal)
            #expect(upgraded.session.principal == nil)
            #expect(Auth.signOuts(upgraded) == ["loggedOut"])
            #expect(t.domain.sessions.signedInCount == 0)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anAuthenticateThatIsNotRacedStaysSignedIn(_ backend: TestBackend) async throws {
        try await withStore(backend) { inner in
            let t = Auth.domain(HookedStore(inner))
            let ana = try await Auth.register(t, t.client(), "ana")
            let other = t.client()
            try await other.call("auth.authenticate", ["accessToken": .string(ana.token)])
            #expect(other.session.principal?.userID == ana.userID)
            let principal = try #require(other.session.principal)
            await t.domain.confirmSignIn(other.session, as: principal)
            #expect(other.session.principal == principal)
            #expect(Auth.signOuts(other).isEmpty)
        }
    }
}
