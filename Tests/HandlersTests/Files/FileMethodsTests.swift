import Handlers
import JSONRPC
import StoreTestSupport
import Testing

/// Contract tests of `files.list` and `files.delete` on both backends, and of the blob-cleanup
/// queue every removal of a file row feeds.
@Suite struct FileMethodsTests {
    static let fileKeys = ["id", "taskId", "filename", "size", "contentType", "uploadedBy", "uploadedAt"]

    static func queued(_ store: any Store) async throws -> Set<String> {
        Set(try await store.read { try $0.pendingBlobCleanups(limit: 1000) })
    }

    @Test(arguments: TestBackend.allCases)
    func listIsOldestFirstForViewers(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            let first = try await w.insertFile(by: w.ownerUser.id, name: "a.png")
            w.t.clock.advance(milliseconds: 1000)
            let second = try await w.insertFile(by: w.editorUser.id, name: "b.pdf")
            let listed = try await w.viewer.call("files.list", ["taskId": w.task]).items
            #expect(listed.map(\.id) == [first.id, second.id])
            #expect(listed.first?.objectValue?.keys == Self.fileKeys)
            #expect(listed.first == [
                "id": .id(first.id), "taskId": w.task, "filename": "a.png", "size": 42,
                "contentType": "text/plain; charset=utf-8", "uploadedBy": .id(w.ownerUser.id),
                "uploadedAt": .string(first.uploadedAt.description),
            ])
            await expectError(.notFound) { try await w.stranger.call("files.list", ["taskId": w.task]) }
            await expectError(.invalidParams, fields: ["taskId"]) { try await w.stranger.call("files.list", ["taskId": 0]) }
            await expectError(.invalidParams, fields: ["taskId", "limit"]) { try await w.viewer.call("files.list", ["limit": 5]) }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func deleteIsTheOwnersOrTheUploadingEditors(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            let owners = try await w.insertFile(by: w.ownerUser.id, name: "owner.txt", key: "k-owner")
            let editors = try await w.insertFile(by: w.editorUser.id, name: "editor.txt", key: "k-editor")
            let viewers = try await w.insertFile(by: w.viewerUser.id, name: "viewer.txt", key: "k-viewer")
            let before = try await collaborationDump(store)
            await expectError(.forbidden) { try await w.editor.call("files.delete", ["id": .id(owners.id)]) }
            // A viewer deletes nothing, not even what they uploaded while they could edit.
            await expectError(.forbidden) { try await w.viewer.call("files.delete", ["id": .id(viewers.id)]) }
            await expectError(.notFound) { try await w.stranger.call("files.delete", ["id": .id(owners.id)]) }
            await expectError(.notFound) { try await w.owner.call("files.delete", ["id": .id(owners.id + 1000)]) }
            await expectError(.invalidParams, fields: ["id"]) { try await w.owner.call("files.delete", ["id": nil]) }
            #expect(try await collaborationDump(store) == before)
            #expect(try await Self.queued(store).isEmpty)

            let mark = try await lastActivityID(store)
            #expect(try await w.editor.call("files.delete", ["id": .id(editors.id)]) == [:])
            #expect(try await w.owner.call("files.delete", ["id": .id(viewers.id)]) == [:])
            #expect(try await w.viewer.call("files.list", ["taskId": w.task]).items.map(\.id) == [owners.id])
            #expect(try await Self.queued(store) == ["k-editor", "k-viewer"])
            await expectError(.notFound) { try await w.editor.call("files.delete", ["id": .id(editors.id)]) }

            let log = try await loggedActivity(store, after: mark)
            #expect(log.map(\.action) == ["file.deleted", "file.deleted"])
            #expect(log.map(\.actorID) == [w.editorUser.id, w.ownerUser.id])
            #expect(log[0].data == ["id": .id(editors.id), "taskId": w.task])
            #expect(log[0].details == ["filename": "editor.txt", "size": 42, "contentType": "text/plain; charset=utf-8"])
            #expect(log.allSatisfy { $0.resourceType == "file" && $0.audience == w.everyone && $0.taskID == w.taskID })
        }
    }

    @Test(arguments: TestBackend.allCases)
    func deletingATaskOrItsOwnerQueuesEveryBlob(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            try await w.insertFile(by: w.ownerUser.id, key: "task-1")
            try await w.insertFile(by: w.editorUser.id, key: "task-2")
            try await w.owner.call("tasks.delete", ["id": w.task])
            #expect(try await Self.queued(store) == ["task-1", "task-2"])

            let other = try await w.owner.createTask(title: "another")
            let file = NewFile(
                taskID: other, filename: "x.zip", size: 1, contentType: "application/zip", storageKey: "owner-gone",
                etag: "\"x\"", uploadedBy: w.ownerUser.id, uploadedAt: w.t.clock.now
            )
            try await store.write { _ = try $0.insertFile(file) }
            try await store.write { _ = try $0.deleteUser(id: w.ownerUser.id) }
            #expect(try await Self.queued(store) == ["task-1", "task-2", "owner-gone"])
            try await store.write { try $0.completeBlobCleanups(["task-1", "owner-gone"]) }
            #expect(try await Self.queued(store) == ["task-2"])
        }
    }
}
