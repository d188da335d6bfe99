import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

/// Per-user write quotas on both backends, with small configured values: over a quota the write
/// is -32013 with `data.limit` and writes nothing.
@Suite struct QuotaTests {
    private static func domain(_ store: any Store, _ configure: @escaping (inout DomainConfiguration.Quotas) -> Void) -> TestDomain {
        TestDomain(store: store) { configure(&$0.quotas) }
    }

    private static func expectQuota(_ error: RPCError?, limit: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(error?.code == .tooLarge, sourceLocation: sourceLocation)
        #expect(error?.data == ["limit": .number(JSONNumber(limit))], sourceLocation: sourceLocation)
        #expect(error?.message.hasPrefix("Quota reached") == true, sourceLocation: sourceLocation)
    }

    @Test(arguments: TestBackend.allCases)
    func commentsPerUser(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Self.domain(store) { $0.commentsPerUser = 2 }
            let (_, bob) = try await t.signedInUser("bob")
            let task = JSONValue.id(try await bob.createTask(title: "talk"))
            let first = try await bob.call("comments.create", ["taskId": task, "content": "one"])
            try await bob.call("comments.create", ["taskId": task, "content": "two"])
            let before = try await collaborationDump(store)
            Self.expectQuota(await Auth.error(bob, "comments.create", ["taskId": task, "content": "three"]), limit: 2)
            #expect(try await collaborationDump(store) == before)
            // Another user has a quota of their own; a deleted comment frees its place.
            let (_, ana) = try await t.signedInUser("ana")
            try await ana.call("comments.create", ["taskId": .id(try await ana.createTask(title: "own")), "content": "mine"])
            try await bob.call("comments.delete", ["id": .id(first.id)])
            try await bob.call("comments.create", ["taskId": task, "content": "three"])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func sharesPerUser(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Self.domain(store) { $0.sharesPerUser = 2 }
            let (_, bob) = try await t.signedInUser("bob")
            for name in ["ana", "cid", "dan"] { _ = try await t.signedInUser(name) }
            let first = JSONValue.id(try await bob.createTask(title: "first"))
            let second = JSONValue.id(try await bob.createTask(title: "second"))
            try await bob.call("shares.create", ["taskId": first, "username": "ana"])
            try await bob.call("shares.create", ["taskId": second, "username": "cid"])
            let before = try await collaborationDump(store)
            Self.expectQuota(await Auth.error(bob, "shares.create", ["taskId": first, "username": "dan"]), limit: 2)
            #expect(try await collaborationDump(store) == before)
            try await bob.call("shares.revoke", ["taskId": first, "username": "ana"])
            try await bob.call("shares.create", ["taskId": first, "username": "dan"])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func storedResultsPerUser(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Self.domain(store) { $0.storedResultsPerUser = 2 }
            let (_, bob) = try await t.signedInUser("bob")
            let one = try await bob.call("tasks.create", ["title": "one", "requestKey": "k1"])
            try await bob.call("tasks.create", ["title": "two", "requestKey": "k2"])
            let before = try await collaborationDump(store)
            Self.expectQuota(await Auth.error(bob, "tasks.create", ["title": "three", "requestKey": "k3"]), limit: 2)
            #expect(try await collaborationDump(store) == before)
            // A retry of a stored key still answers its result, and calls without a key still run.
            #expect(try await bob.call("tasks.create", ["title": "one", "requestKey": "k1"]) == one)
            try await bob.call("tasks.create", ["title": "three"])
            // Results older than the key lifetime no longer count.
            t.clock.advance(milliseconds: t.domain.configuration.requestKeyLifetimeMilliseconds + 1)
            try await bob.call("tasks.create", ["title": "four", "requestKey": "k3"])
        }
    }
}
