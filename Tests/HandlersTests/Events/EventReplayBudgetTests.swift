@testable import Handlers
import JSON
import JSONRPC
import Storage
import StoreTestSupport
import Testing

/// `events.subscribe` with `since` is bounded by bytes as well as by events.
@Suite struct EventReplayBudgetTests {
    /// The bytes of the notifications a replay of `events` to their owner on `tasks` sends.
    static func notificationBytes(_ events: [LoggedEvent]) -> Int {
        events.reduce(0) { total, event in
            total + EventSerializer.notification(event, topic: .tasks, permission: .owner).count
        }
    }

    /// The attack: events with large payloads, replayed from the start. Over the byte limit the
    /// answer is `resync: true` and nothing is sent; the events read in pages of two, so the
    /// call never held more than the limit and one page.
    @Test(arguments: TestBackend.allCases)
    func aReplayOverTheByteLimitSendsNothingAndAsksForAResync(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let (userID, events) = try await Self.largeEvents(store, count: 7)
            let all = Self.notificationBytes(events)
            let lastSix = Self.notificationBytes(Array(events.dropFirst()))
            let test = TestDomain(store: store) {
                $0.events.replayMaxBytes = lastSix
                $0.events.replayPageEvents = 2
            }
            let client = test.signIn(userID: userID, username: "user1")
            // Seven events are one notification too many for the limit.
            let over = try await client.subscribe(["tasks"], since: 0)
            #expect(over == ["topics": ["tasks"], "seq": 7, "resync": true])
            #expect(client.events.isEmpty)
            #expect(all > lastSix)
            // The last six fit exactly, across three pages.
            _ = try await client.call("events.unsubscribe", ["topics": ["tasks"]])
            let fits = try await client.subscribe(["tasks"], since: 1)
            #expect(fits["resync"] == false)
            #expect(client.eventSeqs == [2, 3, 4, 5, 6, 7])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func pagesJoinWithoutAGapOrARepeatAndTheEventLimitStillHolds(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let (userID, _) = try await Self.largeEvents(store, count: 7, bytes: 10)
            let test = TestDomain(store: store) {
                $0.events.replayPageEvents = 3
                $0.events.replayMaxEvents = 6
            }
            let client = test.signIn(userID: userID, username: "user1")
            #expect(try await client.subscribe(["tasks"], since: 0)["resync"] == true)
            #expect(client.events.isEmpty)
            _ = try await client.call("events.unsubscribe", ["topics": ["tasks"]])
            // Exactly the limit, two whole pages and the probe for one more.
            #expect(try await client.subscribe(["tasks"], since: 1)["resync"] == false)
            #expect(client.eventSeqs == [2, 3, 4, 5, 6, 7])
        }
    }

    /// A user and `count` numbered events in their audience, each carrying `bytes` of text.
    static func largeEvents(_ store: any Store, count: Int, bytes: Int = 20_000) async throws -> (Int64, [LoggedEvent]) {
        let userID = try await insertUsers(store, count: 1)[0]
        let text = String(repeating: "d", count: bytes)
        for index in 0..<count {
            try await insertActivityRow(
                store, action: "task.updated", resourceType: "task", taskID: 7,
                data: #"{"n":\#(index),"description":"\#(text)"}"#, audience: [(userID, .owner)])
        }
        var events = try await store.sequencePending(limit: count)
        for index in events.indices { events[index].audience = [LoggedEvent.Recipient(userID: userID, permission: .owner)] }
        return (userID, events)
    }
}
