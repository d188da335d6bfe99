@testable import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

extension TestClient {
    /// The `presence.*` notifications received so far, as `method userId [sessions] [state]`.
    var presence: [String] {
        notifications.filter { $0.method.hasPrefix("presence.") }.map { note in
            let member = note.params["member"]
            let user = member?["userId"] ?? note.params["userId"] ?? .null
            var text = "\(note.method) \(user)"
            if let sessions = member?["sessions"] { text += " x\(sessions)" }
            if let state = member?["state"], state != [:] { text += " \(state)" }
            return text
        }
    }

    @discardableResult
    func enter(_ taskID: Int64, _ state: JSONValue? = nil) async throws(RPCError) -> JSONValue {
        var params: JSONObject = ["taskId": .number(JSONNumber(taskID))]
        if let state { params["state"] = state }
        return try await call("presence.enter", .object(params))
    }
}

@Suite struct PresenceMethodsTests {
    static func id(_ value: Int64) -> JSONValue { .number(JSONNumber(value)) }

    /// Numbers the events written so far and dispatches them to the hub, as the server's
    /// sequencer and dispatcher do.
    static func dispatchPending(_ test: TestDomain, _ store: any Store) async throws {
        for var event in try await store.sequencePending(limit: 1000) {
            if let setID = event.audienceSetID { event.audience = try await store.audience(setID: setID) }
            test.domain.hub.dispatch(event)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func threeTabsAreOneMemberJoinedWithTheFirstAndLeftWithTheLast(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let test = TestDomain(store: store)
            let (_, ana) = try await test.signedInUser("ana")
            let (ben, benTab1) = try await test.signedInUser("ben")
            let benTab2 = test.signIn(userID: ben.id, username: "ben")
            let benTab3 = test.signIn(userID: ben.id, username: "ben")
            let task = try await Notify.task(ana)
            try await Notify.share(ana, task, with: "ben", permission: "view")

            let entered = try await ana.enter(task)
            #expect(entered["taskId"] == Self.id(task) && entered["partial"] == false)
            #expect(entered["since"]?.stringValue == test.clock.now.description)
            try await benTab1.enter(task, ["typing": true])
            try await benTab2.enter(task)
            try await benTab3.enter(task)
            await test.domain.presence.settled()
            #expect(ana.presence == [
                "presence.joined \(ana.session.principal!.userID) x1",
                "presence.joined \(ben.id) x1 {\"typing\":true}",
                "presence.updated \(ben.id) x2 {\"typing\":true}",
                "presence.updated \(ben.id) x3 {\"typing\":true}",
            ])
            let list = try await benTab1.call("presence.list", ["taskId": Self.id(task)])
            let members = try #require(list["members"]?.arrayValue)
            #expect(members.map { $0["username"] } == ["ana", "ben"])
            #expect(members[1]["sessions"] == 3 && members[1]["avatarUrl"] == .null && members[1]["state"] == ["typing": true])
            #expect(list["partial"] == false)

            // Leaving and closing, in any mix, leave the person with the last one only.
            #expect(try await benTab2.call("presence.leave", ["taskId": Self.id(task)])["left"] == true)
            #expect(try await benTab2.call("presence.leave", ["taskId": Self.id(task)])["left"] == false)
            test.domain.sessions.connectionClosed(benTab1.session)
            test.domain.sessions.signOut(benTab3.session)
            await test.domain.presence.settled()
            #expect(ana.presence.suffix(3) == ["presence.updated \(ben.id) x2 {\"typing\":true}", "presence.updated \(ben.id) x1", "presence.left \(ben.id)"])
            #expect(test.domain.presence.members(taskID: task).map(\.username) == ["ana"])
            #expect(test.domain.presence.localEntryCount == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func hostileParamsGetClearErrorsAndChangeNothing(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let test = TestDomain(store: store) { $0.rateLimitsEnabled = false }
            let (_, ana) = try await test.signedInUser("ana")
            let (_, ben) = try await test.signedInUser("ben")
            let own = try await Notify.task(ana)
            let others = try await Notify.task(ben)
            for params: JSONValue in [[:], ["taskId": 0], ["taskId": -1], ["taskId": "1"], ["taskId": 1.5], ["taskId": .null]] {
                _ = await expectRPCError(.invalidParams) { () throws(RPCError) in _ = try await ana.call("presence.enter", params) }
                _ = await expectRPCError(.invalidParams) { () throws(RPCError) in _ = try await ana.call("presence.list", params) }
                _ = await expectRPCError(.invalidParams) { () throws(RPCError) in _ = try await ana.call("presence.leave", params) }
            }
            _ = await expectRPCError(.invalidParams, field: "extra") { () throws(RPCError) in
                _ = try await ana.call("presence.enter", ["taskId": Self.id(own), "extra": 1])
            }
            for state: JSONValue in ["typing", 1, true, [1, 2], .null] {
                _ = await expectRPCError(.invalidParams, field: "state") { () throws(RPCError) in try await ana.enter(own, state) }
            }
            let big = JSONValue.object(["text": .string(String(repeating: "x", count: 1024))])
            let tooLarge = await expectRPCError(.tooLarge) { () throws(RPCError) in try await ana.enter(own, big) }
            #expect(tooLarge?.data?["limit"] == 1024)
            // Someone else's task and a missing one look the same.
            for task in [others, 999_999] {
                _ = await expectRPCError(.notFound) { () throws(RPCError) in try await ana.enter(task) }
                _ = await expectRPCError(.notFound) { () throws(RPCError) in _ = try await ana.call("presence.list", ["taskId": Self.id(task)]) }
            }
            // presence.overview: 1-200 ids, each at least 1; hidden tasks are left out.
            for ids: JSONValue in [[], .array((1...201).map { Self.id($0) }), [0], "1", [.null]] {
                _ = await expectRPCError(.invalidParams) { () throws(RPCError) in _ = try await ana.call("presence.overview", ["taskIds": ids]) }
            }
            try await ben.enter(others)
            try await ana.enter(own)
            let overview = try await ana.call("presence.overview", ["taskIds": [Self.id(others), Self.id(own), Self.id(own), 424242]])
            #expect(overview["tasks"] == [["taskId": Self.id(own), "userIds": [Self.id(ana.session.principal!.userID)]]])
            // Anonymous sessions cannot.
            let anonymous = test.client()
            _ = await expectRPCError(.unauthenticated) { () throws(RPCError) in try await anonymous.enter(own) }
            _ = await expectRPCError(.unauthenticated) { () throws(RPCError) in _ = try await anonymous.call("presence.overview", ["taskIds": [1]]) }
            // Nothing above put anyone anywhere else.
            #expect(test.domain.presence.members(taskID: own).count == 1 && test.domain.presence.members(taskID: others).count == 1)
        }
    }

    @Test func aSessionIsOnTwentyTasksAtMostAndEntersAndLeavesAtTheRateLimit() async throws {
        try await withStore(.sqlite) { store in
            let test = TestDomain(store: store)
            let (_, ana) = try await test.signedInUser("ana")
            var tasks: [Int64] = []
            for n in 0..<21 { tasks.append(try await Notify.task(ana, "task \(n)")) }
            for task in tasks.prefix(20) { try await ana.enter(task) }
            // The burst (20) is spent: the 21st change is refused with a wait, even a valid one.
            let limited = await expectRPCError(.rateLimited) { () throws(RPCError) in try await ana.enter(tasks[20]) }
            #expect((limited?.data?["retryAfterMs"]?.numberValue?.int ?? 0) > 0)
            test.clock.advance(milliseconds: 1000)
            let full = await expectRPCError(.tooLarge) { () throws(RPCError) in try await ana.enter(tasks[20]) }
            #expect(full?.data?["limit"] == 20)
            try await ana.call("presence.leave", ["taskId": Self.id(tasks[0])])
            try await ana.enter(tasks[20])
            #expect(test.domain.presence.localEntryCount == 20)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func statesAreCoalescedToTwoASecondAndExpireByThemselves(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let test = TestDomain(store: store)
            let (_, ana) = try await test.signedInUser("ana")
            let (ben, benClient) = try await test.signedInUser("ben")
            let task = try await Notify.task(ana)
            try await Notify.share(ana, task, with: "ben")
            try await ana.enter(task)
            try await benClient.enter(task, ["typing": true])
            // Ten changes within the interval: none goes out before it passes, then the last.
            for n in 0..<10 {
                try await benClient.enter(task, ["typing": true, "n": .number(JSONNumber(n))])
                test.clock.advance(milliseconds: 40)
                test.domain.presence.tick()
            }
            await test.domain.presence.settled()
            #expect(ana.presence.filter { $0.contains("\(ben.id)") } == ["presence.joined \(ben.id) x1 {\"typing\":true}"])
            test.clock.advance(milliseconds: 100)
            test.domain.presence.tick()
            await test.domain.presence.settled()
            #expect(ana.presence.last == "presence.updated \(ben.id) x1 {\"typing\":true,\"n\":9}")
            // Sent again within its lifetime, the same state goes out to nobody and lives on.
            test.clock.advance(milliseconds: 6000)
            try await benClient.enter(task, ["typing": true, "n": 9])
            test.clock.advance(milliseconds: 6000)
            test.domain.presence.tick()
            await test.domain.presence.settled()
            #expect(ana.presence.count == 3)
            // Not sent again for its lifetime (10 s): it becomes {} by itself.
            test.clock.advance(milliseconds: 4000)
            test.domain.presence.tick()
            await test.domain.presence.settled()
            #expect(ana.presence.last == "presence.updated \(ben.id) x1")
            #expect(test.domain.presence.members(taskID: task).last?.state == [:])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func losingViewEndsPresenceAndItsNotificationsAtOnce(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let test = TestDomain(store: store)
            let (ana, anaClient) = try await test.signedInUser("ana")
            let (ben, benClient) = try await test.signedInUser("ben")
            let (_, carl) = try await test.signedInUser("carl")
            let (_, dave) = try await test.signedInUser("dave")
            let task = try await Notify.task(anaClient)
            try await Notify.share(anaClient, task, with: "ben")
            try await Notify.share(anaClient, task, with: "carl", permission: "view")
            try await Self.dispatchPending(test, store)
            // carl only watches the list (tasks), dave sees nothing of the task: both subscribe.
            try await carl.subscribe(["tasks"])
            try await dave.subscribe(["tasks"])
            try await benClient.enter(task)
            try await anaClient.enter(task)
            await test.domain.presence.settled()
            #expect(carl.presence == ["presence.joined \(ben.id) x1", "presence.joined \(ana.id) x1"])
            #expect(dave.presence.isEmpty)

            try await anaClient.call("shares.revoke", ["taskId": Self.id(task), "username": "ben"])
            try await Self.dispatchPending(test, store)
            await test.domain.presence.settled()
            #expect(anaClient.presence.last == "presence.left \(ben.id)")
            #expect(carl.presence.last == "presence.left \(ben.id)")
            #expect(test.domain.presence.members(taskID: task).map(\.userID) == [ana.id])
            let before = benClient.presence.count
            try await anaClient.enter(task, ["typing": true])
            test.clock.advance(milliseconds: 1000)
            test.domain.presence.tick()
            await test.domain.presence.settled()
            #expect(carl.presence.last == "presence.updated \(ana.id) x1 {\"typing\":true}")
            #expect(benClient.presence.count == before)
            _ = await expectRPCError(.notFound) { () throws(RPCError) in try await benClient.enter(task) }

            // The task deleted: nobody is on it, and nothing more is said.
            try await anaClient.call("tasks.delete", ["id": Self.id(task)])
            try await Self.dispatchPending(test, store)
            await test.domain.presence.settled()
            #expect(test.domain.presence.members(taskID: task).isEmpty && test.domain.presence.localEntryCount == 0)
            #expect(dave.presence.isEmpty)
        }
    }

    @Test func signingInAsSomeoneElseLeavesAsTheFirstPerson() async throws {
        try await withStore(.sqlite) { store in
            let test = TestDomain(store: store)
            let (ana, anaClient) = try await test.signedInUser("ana")
            let (ben, benClient) = try await test.signedInUser("ben")
            let task = try await Notify.task(anaClient)
            try await Notify.share(anaClient, task, with: "ben")
            try await anaClient.enter(task)
            try await benClient.enter(task)
            // ana's connection now signs in as ben: ana leaves, ben counts it as a second session
            // only once it enters.
            test.domain.sessions.signIn(
                anaClient.session,
                as: Principal(userID: ben.id, username: "ben", sessionID: "switch", expiresAt: test.clock.now.adding(milliseconds: 3_600_000)))
            await test.domain.presence.settled()
            #expect(benClient.presence.last == "presence.left \(ana.id)")
            #expect(test.domain.presence.members(taskID: task).map(\.userID) == [ben.id])
        }
    }
}
