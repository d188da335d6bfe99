import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

/// Every task change logs its activity row, with old and new values and its audience, in the
/// transaction of the change (docs/events.md §1); a change that changes nothing logs nothing.
@Suite struct TaskActivityTests {
    @Test(arguments: TestBackend.allCases)
    func createUpdateDeleteAreLoggedWithTheirAudience(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (bob, owner) = try await t.signedInUser("bob")
            let (cara, editor) = try await t.signedInUser("cara")
            let created = try await owner.createTask(["title": "draft", "tags": ["a"], "dueDate": "2026-12-01"])
            var log = try await loggedActivity(store)
            #expect(log.count == 1)
            #expect(log[0].action == "task.created" && log[0].resourceType == "task" && log[0].resourceID == created.id)
            #expect(log[0].taskID == created.id && log[0].actorID == bob.id && log[0].actorUsername == "bob")
            #expect(log[0].data == created && log[0].details == created)
            #expect(log[0].audience == [bob.id: "owner"])
            #expect(log[0].seq == nil && log[0].createdAt == t.clock.now)
            #expect(t.commits.value == 1)

            try await owner.call("shares.create", ["taskId": .id(created.id), "username": "cara", "permission": "edit"])
            let mark = try await lastActivityID(store)
            t.clock.advance(milliseconds: 1000)
            let updated = try await editor.call("tasks.update", [
                "id": .id(created.id), "title": "final", "completed": true, "dueDate": nil, "description": "now",
            ])
            log = try await loggedActivity(store, after: mark)
            #expect(log.count == 1)
            let changes: JSONValue = [
                "title": ["old": "draft", "new": "final"],
                "description": ["old": nil, "new": "now"],
                "completed": ["old": false, "new": true],
                "dueDate": ["old": "2026-12-01", "new": nil],
            ]
            #expect(log[0].action == "task.updated" && log[0].actorID == cara.id)
            #expect(log[0].details == changes)
            // The Task as its owner sees it, whoever acted, plus the changes.
            guard case .object(var expected) = updated else { Issue.record("not an object"); return }
            expected["permission"] = "owner"
            expected.append(key: "changes", value: changes)
            #expect(log[0].data == .object(expected))
            #expect(log[0].audience == [bob.id: "owner", cara.id: "edit"])

            // Nothing changed: no row, no event.
            #expect(try await editor.call("tasks.update", ["id": .id(created.id), "title": " final "])["updatedAt"] == updated["updatedAt"])
            #expect(try await loggedActivity(store, after: mark).count == 1)

            // Tags are task.updated too.
            let tagged = try await editor.call("tasks.addTags", ["id": .id(created.id), "tags": ["b"]])
            _ = try await editor.call("tasks.addTags", ["id": .id(created.id), "tags": ["B"]])
            _ = try await owner.call("tasks.removeTag", ["id": .id(created.id), "tag": "A"])
            log = try await loggedActivity(store, after: mark)
            #expect(log.map(\.action) == ["task.updated", "task.updated", "task.updated"])
            #expect(log[1].details == ["tags": ["old": ["a"], "new": ["a", "b"]]])
            #expect(log[1].data["tags"] == tagged["tags"])
            #expect(log[2].details == ["tags": ["old": ["a", "b"], "new": ["b"]]])

            let deleteMark = try await lastActivityID(store)
            let snapshot = try await owner.getTask(created.id)
            #expect(try await owner.call("tasks.delete", ["id": .id(created.id)]) == [:])
            log = try await loggedActivity(store, after: deleteMark)
            #expect(log.count == 1)
            #expect(log[0].action == "task.deleted" && log[0].data == ["id": .id(created.id)])
            #expect(log[0].details == snapshot)
            // Everyone who could view it before it went.
            #expect(log[0].audience == [bob.id: "owner", cara.id: "edit"])
            // The log outlives the task: created, shared, updated, two tag changes (adding "B" changed nothing), deleted.
            #expect(try await loggedActivity(store).filter { $0.taskID == created.id }.count == 6)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func bulkUpdateLogsEachChangedTask(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            let a = try await ana.createTask(["title": "a"])
            let b = try await ana.createTask(["title": "b", "priority": "high"])
            let c = try await ana.createTask(["title": "c"])
            let mark = try await lastActivityID(store)
            let commits = t.commits.value
            _ = try await ana.call("tasks.bulkUpdate", ["ids": [.id(c.id), .id(b.id), .id(a.id)], "changes": ["priority": "high"]])
            let log = try await loggedActivity(store, after: mark)
            // b already was high: it is neither written nor logged.
            #expect(log.map(\.resourceID) == [c.id, a.id])
            #expect(log.allSatisfy { $0.action == "task.updated" && $0.details == ["priority": ["old": "medium", "new": "high"]] })
            #expect(t.commits.value == commits + 1)

            // All or nothing: a refused bulk update logs nothing and calls no hook.
            await expectError(.notFound) {
                try await ana.call("tasks.bulkUpdate", ["ids": [.id(a.id), .id(a.id + 1000)], "changes": ["completed": true]])
            }
            #expect(try await loggedActivity(store, after: mark).count == 2)
            #expect(t.commits.value == commits + 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func deletingAnAccountTellsCollaboratorsItsTasksAreGone(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            let alone = try await w.owner.createTask(title: "private")
            _ = alone
            // The password is checked first: give the owner a real one.
            let hash = try await w.t.domain.hasher.hash("correct horse")
            try await store.write { try $0.setPasswordHash(userID: w.ownerUser.id, hash: hash) }
            let mark = try await lastActivityID(store)
            #expect(try await w.owner.call("users.deleteMe", ["password": "correct horse"]) == [:])
            let everything = try await loggedActivity(store, after: mark)
            // The account's sessions are revoked through the log (internal, never listed)...
            #expect(everything.map(\.action).filter { $0 == "session.revoked" }.count == 1)
            let log = everything.filter { $0.action != "session.revoked" }
            // ...and only the task that had collaborators is announced.
            #expect(log.map(\.action) == ["task.deleted"])
            #expect(log.first?.taskID == w.taskID && log.first?.data == ["id": w.task])
            #expect(log.first?.actorUsername == "bob" && log.first?.actorID == nil)
            // The owner's audience row went with the account; the sharees keep theirs.
            #expect(log.first?.audience == [w.editorUser.id: "edit", w.viewerUser.id: "view"])
            #expect(try await w.editor.call("shares.sharedWithMe")["total"] == 0)
        }
    }
}
