import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

/// Contract tests of `shares.*` on both backends: every method, every role, the activity each
/// change logs (rows and audience), bad input, races.
@Suite struct ShareMethodsTests {
    static let shareKeys = ["taskId", "userId", "username", "permission", "sharedAt", "sharedBy"]

    @Test(arguments: TestBackend.allCases)
    func createListUpdateRevoke(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (bob, owner) = try await t.signedInUser("bob")
            let (ana, sharee) = try await t.signedInUser("ana")
            let (cara, _) = try await t.signedInUser("cara")
            let id = try await owner.createTask(title: "plan")
            let mark = try await lastActivityID(store)
            let commitsBefore = t.commits.value

            let share = try await owner.call("shares.create", ["taskId": .id(id), "username": "  ANA "])
            #expect(share.objectValue?.keys == Self.shareKeys)
            #expect(share == [
                "taskId": .id(id), "userId": .id(ana.id), "username": "ana", "permission": "view",
                "sharedAt": "2026-11-25T12:00:00.000Z", "sharedBy": .id(bob.id),
            ])
            #expect(t.commits.value == commitsBefore + 1)
            #expect(try await sharee.getTask(id)["permission"] == "view")
            #expect(try await owner.getTask(id)["shareCount"] == 1)
            t.clock.advance(milliseconds: 1000)
            let second = try await owner.call("shares.create", ["taskId": .id(id), "username": "cara", "permission": "edit"])
            #expect(second["permission"] == "edit" && second["userId"] == .id(cara.id))
            #expect(try await owner.call("shares.list", ["taskId": .id(id)]).items == [share, second])

            t.clock.advance(milliseconds: 1000)
            let updated = try await owner.call("shares.update", ["taskId": .id(id), "username": "ana", "permission": "edit"])
            #expect(updated["permission"] == "edit" && updated["sharedAt"] == share["sharedAt"])
            #expect(try await sharee.getTask(id)["permission"] == "edit")
            // The same permission again changes nothing and logs nothing.
            let countBefore = try await loggedActivity(store, after: mark).count
            #expect(try await owner.call("shares.update", ["taskId": .id(id), "username": "ana", "permission": "edit"]) == updated)
            #expect(try await loggedActivity(store, after: mark).count == countBefore)

            #expect(try await owner.call("shares.revoke", ["taskId": .id(id), "username": "ana"]) == [:])
            await expectError(.notFound) { _ = try await sharee.getTask(id) }
            #expect(try await owner.call("shares.list", ["taskId": .id(id)]).items == [second])

            let log = try await loggedActivity(store, after: mark)
            #expect(log.map(\.action) == ["share.created", "share.created", "share.updated", "share.revoked"])
            #expect(log.allSatisfy { $0.resourceType == "share" && $0.taskID == id && $0.actorID == bob.id && $0.actorUsername == "bob" && $0.seq == nil })
            #expect(log.map(\.resourceID) == [ana.id, cara.id, ana.id, ana.id])
            #expect(log[0].data == share)
            #expect(log[0].details == ["username": "ana", "permission": "view"])
            #expect(log[0].audience == [bob.id: "owner", ana.id: "view"])
            #expect(log[1].audience == [bob.id: "owner", ana.id: "view", cara.id: "edit"])
            #expect(log[2].data == updated)
            #expect(log[2].details == ["permission": ["old": "view", "new": "edit"]])
            #expect(log[2].audience == [bob.id: "owner", ana.id: "edit", cara.id: "edit"])
            // The revoked user is in the audience with the permission they had.
            #expect(log[3].data == updated)
            #expect(log[3].details == ["username": "ana", "permission": "edit"])
            #expect(log[3].audience == [bob.id: "owner", ana.id: "edit", cara.id: "edit"])
            #expect(log[3].createdAt == t.clock.now)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func whoMayDoWhat(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            let (_, _) = try await w.t.signedInUser("eve")
            let before = try await collaborationDump(store)
            let attempts: [(String, JSONValue)] = [
                ("shares.create", ["taskId": w.task, "username": "eve"]),
                ("shares.update", ["taskId": w.task, "username": "ana", "permission": "edit"]),
                ("shares.revoke", ["taskId": w.task, "username": "ana"]),
            ]
            for (method, params) in attempts {
                await expectError(.forbidden) { try await w.editor.call(method, params) }
                await expectError(.notFound) { try await w.stranger.call(method, params) }
            }
            await expectError(.forbidden) { try await w.viewer.call("shares.create", ["taskId": w.task, "username": "eve"]) }
            await expectError(.forbidden) { try await w.viewer.call("shares.revoke", ["taskId": w.task, "username": "cara"]) }
            // Editors may list the shares; viewers may not; strangers cannot see the task.
            #expect(try await w.editor.call("shares.list", ["taskId": w.task]).items.count == 2)
            await expectError(.forbidden) { try await w.viewer.call("shares.list", ["taskId": w.task]) }
            await expectError(.notFound) { try await w.stranger.call("shares.list", ["taskId": w.task]) }
            // A stranger gets -32004 whatever the username, so nothing about the task leaks.
            await expectError(.notFound) { try await w.stranger.call("shares.create", ["taskId": w.task, "username": "nobody"]) }
            #expect(try await collaborationDump(store) == before)

            // A sharee may leave.
            #expect(try await w.viewer.call("shares.revoke", ["taskId": w.task, "username": "ana"]) == [:])
            await expectError(.notFound) { _ = try await w.viewer.getTask(w.taskID) }
            let left = try await loggedActivity(store).last
            #expect(left?.action == "share.revoked" && left?.actorID == w.viewerUser.id)
            #expect(left?.audience == w.everyone)
            // Having left, they are a stranger.
            await expectError(.notFound) { try await w.viewer.call("shares.revoke", ["taskId": w.task, "username": "ana"]) }
            await expectError(.notFound) { try await w.viewer.call("comments.create", ["taskId": w.task, "content": "still here?"]) }
            #expect(try await w.viewer.call("shares.sharedWithMe")["total"] == 0)
            #expect(try await w.editor.call("shares.sharedWithMe").items.map(\.id) == [w.taskID])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func refusedCallsChangeNothing(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            let (_, _) = try await w.t.signedInUser("eve")
            let before = try await collaborationDump(store)
            let invalid: [(JSONValue, [String])] = [
                (["taskId": w.task, "username": "bob"], ["username"]),
                (["taskId": w.task, "username": "BOB"], ["username"]),
                (["taskId": w.task, "username": "nobody"], ["username"]),
                (["taskId": w.task, "username": "a@b.example"], ["username"]),
                (["taskId": w.task, "username": "  "], ["username"]),
                (["taskId": w.task, "username": "eve", "permission": "owner"], ["permission"]),
                (["taskId": w.task, "username": 7], ["username"]),
                (["taskId": "1", "username": "eve"], ["taskId"]),
                (["taskId": 0, "username": "eve"], ["taskId"]),
                (["username": "eve"], ["taskId"]),
                (["taskId": w.task, "username": "eve", "colour": "red"], ["colour"]),
                (["taskId": w.task, "username": "eve", "requestKey": ""], ["requestKey"]),
            ]
            for (params, fields) in invalid {
                await expectError(.invalidParams, fields: fields) { try await w.owner.call("shares.create", params) }
            }
            let conflict = await expectError(.conflict) { try await w.owner.call("shares.create", ["taskId": w.task, "username": "Ana", "permission": "edit"]) }
            #expect(conflict?.data == ["field": "username"])
            await expectError(.notFound) { try await w.owner.call("shares.create", ["taskId": .id(w.taskID + 1000), "username": "eve"]) }
            await expectError(.invalidParams, fields: ["permission"]) {
                try await w.owner.call("shares.update", ["taskId": w.task, "username": "ana"])
            }
            await expectError(.invalidParams, fields: ["username"]) {
                try await w.owner.call("shares.update", ["taskId": w.task, "username": "bob", "permission": "view"])
            }
            await expectError(.invalidParams, fields: ["username"]) {
                try await w.owner.call("shares.revoke", ["taskId": w.task, "username": "bob"])
            }
            // A real user without a share.
            await expectError(.notFound) { try await w.owner.call("shares.update", ["taskId": w.task, "username": "eve", "permission": "edit"]) }
            await expectError(.notFound) { try await w.owner.call("shares.revoke", ["taskId": w.task, "username": "eve"]) }
            await expectError(.invalidParams, fields: ["params"]) { try await w.owner.call("shares.list", [w.task]) }
            for params: JSONValue in [["limit": 0], ["limit": 101], ["offset": -1], ["limit": "5"]] {
                await expectError(.invalidParams) { try await w.viewer.call("shares.sharedWithMe", params) }
            }
            #expect(try await collaborationDump(store) == before)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func concurrentDuplicateSharesConflictCleanly(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, owner) = try await t.signedInUser("bob")
            let (ana, _) = try await t.signedInUser("ana")
            let id = try await owner.createTask(title: "popular")
            let outcomes = await withTaskGroup(of: RPCError.Code?.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        do {
                            try await owner.call("shares.create", ["taskId": .id(id), "username": "ana", "permission": "edit"])
                            return nil
                        } catch let error as RPCError {
                            return error.code
                        } catch {
                            return RPCError.Code.internalError
                        }
                    }
                }
                var all: [RPCError.Code?] = []
                for await outcome in group { all.append(outcome) }
                return all
            }
            #expect(outcomes.filter { $0 == nil }.count == 1)
            #expect(outcomes.compactMap { $0 }.allSatisfy { $0 == .conflict }, "\(outcomes)")
            let shares = try await owner.call("shares.list", ["taskId": .id(id)]).items
            #expect(shares.map { $0["userId"] } == [.id(ana.id)])
            #expect(try await loggedActivity(store).filter { $0.action == "share.created" }.count == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func sharedWithMeNewestShareFirst(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, bob) = try await t.signedInUser("bob")
            let (_, cara) = try await t.signedInUser("cara")
            let (_, ana) = try await t.signedInUser("ana")
            var ids: [Int64] = []
            for (index, owner) in [bob, cara, bob].enumerated() {
                let id = try await owner.createTask(title: "task \(index)")
                ids.append(id)
            }
            for (index, id) in ids.enumerated() {
                let owner = index == 1 ? cara : bob
                try await owner.call("shares.create", ["taskId": .id(id), "username": "ana", "permission": index == 2 ? "edit" : "view"])
                t.clock.advance(milliseconds: 1000)
            }
            let page = try await ana.call("shares.sharedWithMe")
            #expect(page["total"] == 3 && page["limit"] == 50 && page["offset"] == 0)
            #expect(page.items.map(\.id) == ids.reversed())
            #expect(page.items.map { $0["permission"] } == ["edit", "view", "view"])
            #expect(page.items[1]["ownerUsername"] == "cara")
            let second = try await ana.call("shares.sharedWithMe", ["limit": 1, "offset": 1])
            #expect(second.items.map(\.id) == [ids[1]] && second["total"] == 3)
            #expect(try await ana.call("shares.sharedWithMe", ["offset": 5])["total"] == 3)
            #expect(try await bob.call("shares.sharedWithMe")["total"] == 0)
        }
    }
}
