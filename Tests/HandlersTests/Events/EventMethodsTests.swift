@testable import Handlers
import JSON
import JSONRPC
import Storage
import StoreTestSupport
import Testing

extension TestClient {
    @discardableResult
    func subscribe(_ topics: [String], since: Int64? = nil) async throws(RPCError) -> JSONValue {
        var params: JSONObject = ["topics": .array(topics.map { .string($0) })]
        if let since { params["since"] = .number(JSONNumber(since)) }
        return try await call("events.subscribe", .object(params))
    }

    /// The `event` notifications received so far.
    var events: [JSONValue] { notifications.filter { $0.method == "event" }.map(\.params) }
    var eventSeqs: [Int64] { events.compactMap { $0["seq"]?.numberValue?.int64 } }
}

func expectRPCError(_ code: RPCError.Code, field: String? = nil, _ body: () async throws(RPCError) -> Void) async -> RPCError? {
    do {
        try await body()
        Issue.record("expected error \(code.rawValue)")
        return nil
    } catch {
        #expect(error.code == code, "\(error)")
        if let field { #expect(error.fieldErrors.map(\.field).contains(field), "\(error)") }
        return error
    }
}

@Suite struct EventMethodsTests {
    @Test(arguments: TestBackend.allCases)
    func badTopicsAreRefusedAllOrNothing(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let test = TestDomain(store: store) { $0.events.maxTopics = 5 }
            let (_, ana) = try await test.signedInUser("ana")
            let (_, ben) = try await test.signedInUser("ben")
            let own = try await ana.createTask(title: "mine")
            let others = try await ben.createTask(title: "ben's")

            let bad = await expectRPCError(.invalidParams, field: "topics.1") { () throws(RPCError) in
                try await ana.subscribe(["tasks", "task:abc"])
            }
            #expect(bad?.data?["topic"] == "task:abc")
            for topics in [[], ["task:0"], ["task:-3"], ["Tasks"], ["task:1 "]] {
                _ = await expectRPCError(.invalidParams) { () throws(RPCError) in try await ana.subscribe(topics) }
            }
            _ = await expectRPCError(.invalidParams, field: "topics") { () throws(RPCError) in
                _ = try await ana.call("events.subscribe", ["topics": "tasks"])
            }
            _ = await expectRPCError(.invalidParams, field: "extra") { () throws(RPCError) in
                _ = try await ana.call("events.subscribe", ["topics": ["tasks"], "extra": 1])
            }
            // Someone else's task is not found, named by topic, and nothing is added.
            let hidden = await expectRPCError(.notFound) { () throws(RPCError) in
                try await ana.subscribe(["task:\(own)", "task:\(others)"])
            }
            #expect(hidden?.data?["topic"] == .string("task:\(others)"))
            _ = await expectRPCError(.notFound) { () throws(RPCError) in try await ana.subscribe(["task:999999"]) }
            #expect(ana.session.events.topics.isEmpty)
            // Too many topics in one call, or in all.
            let many = (1...6).map { "task:\($0)" }
            let tooLarge = await expectRPCError(.tooLarge) { () throws(RPCError) in try await ana.subscribe(many) }
            #expect(tooLarge?.data?["limit"] == 5)
            let huge = (1...100_000).map { "task:\($0)" }
            _ = await expectRPCError(.tooLarge) { () throws(RPCError) in try await ana.subscribe(huge) }
            try await ana.subscribe(["tasks", "task:\(own)", "tasks"])
            #expect(ana.session.events.topics == [.tasks, .task(own)])
            // since must be 0…head.
            _ = await expectRPCError(.invalidParams, field: "since") { () throws(RPCError) in try await ana.subscribe(["tasks"], since: -1) }
            _ = await expectRPCError(.invalidParams, field: "since") { () throws(RPCError) in
                try await ana.subscribe(["tasks"], since: 1_000_000)
            }
            // Anonymous sessions cannot subscribe.
            _ = await expectRPCError(.unauthenticated) { () throws(RPCError) in try await test.client().subscribe(["tasks"]) }
        }
    }

    @Test func concurrentSubscribesCannotPassTheTopicLimitTogether() async throws {
        try await withStore(.sqlite) { store in
            let test = TestDomain(store: store) { $0.events.maxTopics = 5 }
            let (_, client) = try await test.signedInUser("ana")
            var ids: [Int64] = []
            for index in 0..<10 { ids.append(try await client.createTask(title: "t\(index)")) }
            let outcomes = await withTaskGroup(of: Int?.self) { group in
                for id in ids {
                    group.addTask {
                        do { try await client.subscribe(["task:\(id)"]); return nil } catch let error as RPCError { return error.code.rawValue } catch { return 0 }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 5)
            #expect(outcomes.compactMap { $0 }.allSatisfy { $0 == -32013 })
            #expect(client.session.events.topics.count == 5)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func subscribeAnswersTheWholeListAndTheHeadAndUnsubscribeRemoves(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let test = TestDomain(store: store)
            let (ana, client) = try await test.signedInUser("ana")
            let task = try await client.createTask(title: "t")
            try await insertActivityRow(store, taskID: task, audience: [(ana.id, .owner)])
            _ = try await store.sequencePending(limit: 10)
            let head = try await store.headSeq()
            let first = try await client.subscribe(["task:\(task)"])
            #expect(first == ["topics": [.string("task:\(task)")], "seq": .number(JSONNumber(head)), "resync": false])
            let second = try await client.subscribe(["tasks"])
            #expect(second["topics"] == [.string("task:\(task)"), "tasks"])
            let after = try await client.call("events.unsubscribe", ["topics": [.string("task:\(task)"), "task:12345"]])
            #expect(after == ["topics": ["tasks"]])
            _ = await expectRPCError(.invalidParams, field: "topics.0") { () throws(RPCError) in
                _ = try await client.call("events.unsubscribe", ["topics": ["nope"]])
            }
            #expect(try await client.call("events.unsubscribe", ["topics": ["tasks"]]) == ["topics": []])
            #expect(test.domain.hub.subscriberCount == 0)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func sinceReplaysWhatTheCallerMayOnTheAddedTopicsThenLiveWithoutDuplicates(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let test = TestDomain(store: store)
            let (ana, anaClient) = try await test.signedInUser("ana")
            let (ben, benClient) = try await test.signedInUser("ben")
            let seven = try await anaClient.createTask(title: "seven")
            let eight = try await anaClient.createTask(title: "eight")
            // The creations are events too (seq 1 and 2, for ana only): number them out of the way.
            #expect(try await store.sequencePending(limit: 10).map(\.seq) == [1, 2])
            try await insertActivityRow(store, taskID: seven, data: "{\"n\":1}", audience: [(ana.id, .owner), (ben.id, .view)])
            try await insertActivityRow(store, taskID: eight, data: "{\"n\":2}", audience: [(ana.id, .owner)])
            try await insertActivityRow(store, taskID: seven, data: "{\"n\":3}", audience: [(ana.id, .owner), (ben.id, .edit)])
            try await insertActivityRow(store, action: "task.updated", resourceType: "task", taskID: seven,
                                        data: "{\"id\":\(seven),\"permission\":\"owner\"}", audience: [(ana.id, .owner), (ben.id, .edit)])
            let events = try await store.sequencePending(limit: 10)
            #expect(events.map(\.seq) == [3, 4, 5, 6])

            let answer = try await benClient.subscribe(["tasks"], since: 0)
            #expect(answer["seq"] == 6 && answer["resync"] == false)
            #expect(benClient.eventSeqs == [3, 5, 6])
            #expect(benClient.events.map { $0["topic"] } == ["tasks", "tasks", "tasks"])
            #expect(benClient.events.last?["data"]?["permission"] == "edit")
            // Live events after the head arrive once; anything at or below what was sent is dropped.
            // As the dispatcher does: each event with its audience set's members.
            func dispatch(_ events: [LoggedEvent]) async throws {
                for var event in events {
                    event.audience = try await store.audience(setID: try #require(event.audienceSetID))
                    test.domain.hub.dispatch(event)
                }
            }
            try await dispatch(events)
            try await insertActivityRow(store, taskID: seven, data: "{\"n\":5}", audience: [(ana.id, .owner), (ben.id, .view)])
            try await dispatch(try await store.sequencePending(limit: 10))
            #expect(benClient.eventSeqs == [3, 5, 6, 7])

            // The owner resumes from 3 on one task only: just that task's later events.
            let resumed = try await anaClient.subscribe(["task:\(seven)"], since: 3)
            #expect(resumed["resync"] == false)
            #expect(anaClient.eventSeqs == [5, 6, 7])
            #expect(anaClient.events.allSatisfy { $0["topic"] == .string("task:\(seven)") })
        }
    }

    @Test(arguments: TestBackend.allCases)
    func resyncWhenTheGapIsTooOldOrTooLong(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let test = TestDomain(store: store) {
                $0.events.replayMaxEvents = 3
                $0.events.replayWindowMilliseconds = 3_600_000
            }
            let (ana, client) = try await test.signedInUser("ana")
            let now = test.clock.now
            try await insertActivityRow(store, audience: [(ana.id, .owner)], at: now.adding(milliseconds: -7_200_000))
            for _ in 0..<4 { try await insertActivityRow(store, audience: [(ana.id, .owner)], at: now) }
            _ = try await store.sequencePending(limit: 10)
            // Missed event 1 is two hours old: beyond the one-hour window.
            let old = try await client.subscribe(["tasks"], since: 0)
            #expect(old == ["topics": ["tasks"], "seq": 5, "resync": true])
            #expect(client.events.isEmpty)
            _ = try await client.call("events.unsubscribe", ["topics": ["tasks"]])
            // Four missed events, three allowed.
            #expect(try await client.subscribe(["tasks"], since: 1)["resync"] == true)
            _ = try await client.call("events.unsubscribe", ["topics": ["tasks"]])
            #expect(try await client.subscribe(["tasks"], since: 2)["resync"] == false)
            #expect(client.eventSeqs == [3, 4, 5])
            // Resubscribing from the head replays nothing.
            _ = try await client.call("events.unsubscribe", ["topics": ["tasks"]])
            #expect(try await client.subscribe(["tasks"], since: 5)["resync"] == false)
            #expect(client.eventSeqs == [3, 4, 5])
        }
    }
}
