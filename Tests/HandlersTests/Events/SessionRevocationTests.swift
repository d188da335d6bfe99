@testable import Handlers
import JSONRPC
import StoreTestSupport
import Testing

/// Sign-outs reach other instances through the event log: two domains over one store stand for
/// two instances, and the second learns of a revocation only from the log's `session.revoked`
/// entries, as its dispatcher would apply them.
@Suite struct SessionRevocationTests {
    /// Numbers what is pending and applies its revocations to `instance`, as a dispatcher does.
    static func deliverLog(_ store: any Store, to instance: TestDomain) async throws -> [LoggedEvent] {
        let events = try await store.sequencePending(limit: 100)
        for event in events where event.type == LoggedEvent.sessionRevoked {
            try #require(SessionRevocation(event.data)).apply(to: instance.domain.sessions)
        }
        return events
    }

    @Test(arguments: TestBackend.allCases)
    func passwordChangesAndLogoutsSignOutSessionsOnOtherInstances(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let a = Auth.domain(store), b = Auth.domain(store)
            let onA = a.client()
            let (_, token, userID) = try await Auth.register(a, onA, "ana")
            let onB = b.client()
            try await onB.call("auth.authenticate", ["accessToken": .string(token)])
            let secondOnB = b.client()
            try await secondOnB.call("auth.authenticate", ["accessToken": .string(try await Auth.login(b.client(), "ana"))])

            // Logout on A: the session's connection on B is signed out once B reads the log.
            try await onA.call("auth.logout")
            #expect(Auth.signOuts(onB).isEmpty)
            let logged = try await Self.deliverLog(store, to: b)
            #expect(logged.map(\.type).contains(LoggedEvent.sessionRevoked))
            #expect(Auth.signOuts(onB) == ["loggedOut"])
            #expect(Auth.signOuts(secondOnB).isEmpty)

            // A password change on A keeps A's caller and ends every other session, B's included.
            let again = a.client()
            try await again.call("auth.authenticate", ["accessToken": .string(try await Auth.login(a.client(), "ana"))])
            try await again.call("users.changePassword", ["currentPassword": .string(Auth.password), "newPassword": "another password 2"])
            _ = try await Self.deliverLog(store, to: b)
            _ = try await Self.deliverLog(store, to: a)
            #expect(Auth.signOuts(secondOnB) == ["passwordChanged"])
            #expect(Auth.signOuts(again).isEmpty)
            #expect(again.session.principal?.userID == userID)

            // The entries are internal: activity.* never lists them.
            let activity = try await again.call("activity.list")
            #expect(activity["items"]?.arrayValue?.allSatisfy { $0["resourceType"] != "session" } == true)
            let stats = try await again.call("activity.stats")
            #expect(stats["total"] == 0)
        }
    }
}
