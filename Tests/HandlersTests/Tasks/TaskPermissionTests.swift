import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

/// Contract tests of who may do what with a shared task, on both backends: owner, editor,
/// viewer, stranger. A stranger always gets -32004 (never -32003, which would tell them the id is
/// taken).
@Suite struct TaskPermissionTests {
    struct World {
        var t: TestDomain
        var owner: TestClient
        var editor: TestClient
        var viewer: TestClient
        var stranger: TestClient
        /// Bob's task, shared with Cara (edit) and Ana (view).
        var shared: JSONValue
    }

    static func world(_ store: any Store) async throws -> World {
        let t = TestDomain(store: store)
        let (bobUser, bob) = try await t.signedInUser("bob")
        let (anaUser, ana) = try await t.signedInUser("ana")
        let (caraUser, cara) = try await t.signedInUser("cara")
        let (_, dave) = try await t.signedInUser("dave")
        let task = try await bob.createTask(["title": "shared", "tags": ["x"]])
        try await insertShare(store, taskID: task.id, userID: caraUser.id, permission: .edit, sharedAt: t.clock.now, sharedBy: bobUser.id)
        try await insertShare(store, taskID: task.id, userID: anaUser.id, permission: .view, sharedAt: t.clock.now, sharedBy: bobUser.id)
        return World(t: t, owner: bob, editor: cara, viewer: ana, stranger: dave, shared: try await bob.getTask(task.id))
    }

    @Test(arguments: TestBackend.allCases)
    func everyoneSeesTheirOwnPermission(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await Self.world(store)
            let id = w.shared.id
            #expect(w.shared["permission"] == "owner" && w.shared["shareCount"] == 2)
            #expect(try await w.editor.getTask(id)["permission"] == "edit")
            #expect(try await w.viewer.getTask(id)["permission"] == "view")
            #expect(try await w.viewer.getTask(id)["ownerUsername"] == "bob")
            await expectError(.notFound) { _ = try await w.stranger.getTask(id) }
            #expect(try await w.owner.call("tasks.stats")["tasksShared"] == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func listScopes(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await Self.world(store)
            w.t.clock.advance(milliseconds: 1000)
            _ = try await w.viewer.createTask(title: "ana's own")
            #expect(try await w.viewer.listTitles().titles == ["ana's own"])
            #expect(try await w.viewer.listTitles(["scope": "owned"]).titles == ["ana's own"])
            let shared = try await w.viewer.call("tasks.list", ["scope": "shared"])
            #expect((shared["items"]?.arrayValue ?? []).map { $0["permission"] } == ["view"])
            #expect(shared["total"] == 1)
            #expect(try await w.viewer.listTitles(["scope": "all"]).titles == ["ana's own", "shared"])
            #expect(try await w.editor.listTitles(["scope": "shared", "search": "SHARED", "tags": ["X"]]).titles == ["shared"])
            #expect(try await w.stranger.listTitles(["scope": "all"]).total == 0)
            #expect(try await w.owner.listTitles(["scope": "shared"]).total == 0)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func viewersMayNotChangeAndStrangersCannotSee(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await Self.world(store)
            let id = JSONValue.id(w.shared.id)
            let changes: [(String, JSONValue)] = [
                ("tasks.update", ["id": id, "title": "viewer was here"]),
                ("tasks.update", ["id": id]),
                ("tasks.addTags", ["id": id, "tags": ["y"]]),
                // The limit check needs the stored tags, so permission is decided first.
                ("tasks.addTags", ["id": id, "tags": .strings((0..<20).map { "t\($0)" })]),
                ("tasks.removeTag", ["id": id, "tag": "x"]),
                ("tasks.removeTag", ["id": id, "tag": "absent"]),
                ("tasks.delete", ["id": id]),
                ("tasks.bulkUpdate", ["ids": [id], "changes": ["completed": true]]),
            ]
            for (method, params) in changes {
                await expectError(.forbidden) { try await w.viewer.call(method, params) }
                await expectError(.notFound) { try await w.stranger.call(method, params) }
            }
            #expect(try await w.owner.getTask(w.shared.id) == w.shared)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func editorsMayChangeButNotDelete(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await Self.world(store)
            let id = JSONValue.id(w.shared.id)
            w.t.clock.advance(milliseconds: 1000)
            let updated = try await w.editor.call("tasks.update", ["id": id, "title": "edited", "completed": true])
            #expect(updated["permission"] == "edit" && updated["title"] == "edited")
            #expect(updated["ownerId"] == w.shared["ownerId"])
            #expect(try await w.editor.call("tasks.addTags", ["id": id, "tags": ["y"]]).tagList == ["x", "y"])
            #expect(try await w.editor.call("tasks.removeTag", ["id": id, "tag": "X"]).tagList == ["y"])
            await expectError(.forbidden) { try await w.editor.call("tasks.delete", ["id": id]) }
            let seenByOwner = try await w.owner.getTask(w.shared.id)
            #expect(seenByOwner["title"] == "edited" && seenByOwner["permission"] == "owner")
            #expect(try await w.owner.call("tasks.delete", ["id": id]) == [:])
            await expectError(.notFound) { _ = try await w.editor.getTask(w.shared.id) }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func bulkUpdateNamesTheFirstFailureInRequestOrder(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await Self.world(store)
            let own = try await w.viewer.createTask(["title": "ana's own"])
            let strangers = try await w.stranger.createTask(["title": "dave's"])
            var error = await expectError(.forbidden) {
                try await w.viewer.call("tasks.bulkUpdate", [
                    "ids": [.id(own.id), .id(w.shared.id), .id(strangers.id)], "changes": ["completed": true],
                ])
            }
            #expect(error?.data == ["id": .id(w.shared.id)])
            error = await expectError(.notFound) {
                try await w.viewer.call("tasks.bulkUpdate", [
                    "ids": [.id(strangers.id), .id(w.shared.id), .id(own.id)], "changes": ["completed": true],
                ])
            }
            #expect(error?.data == ["id": .id(strangers.id)])
            #expect(try await w.viewer.getTask(own.id) == own)
            #expect(try await w.owner.getTask(w.shared.id) == w.shared)

            let done = try await w.editor.call("tasks.bulkUpdate", ["ids": [.id(w.shared.id)], "changes": ["priority": "high"]])
            #expect(done["items"]?.arrayValue?.first?["permission"] == "edit")
        }
    }
}
