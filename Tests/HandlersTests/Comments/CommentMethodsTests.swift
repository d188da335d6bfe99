import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

/// Contract tests of `comments.*` on both backends.
@Suite struct CommentMethodsTests {
    static let commentKeys = ["id", "taskId", "authorId", "authorUsername", "content", "createdAt", "updatedAt"]

    @Test(arguments: TestBackend.allCases)
    func createListUpdateDelete(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            let mark = try await lastActivityID(store)
            let created = try await w.viewer.call("comments.create", ["taskId": w.task, "content": "  first line\n\tsecond  "])
            #expect(created.objectValue?.keys == Self.commentKeys)
            #expect(created["content"] == "first line\n\tsecond")
            #expect(created["authorId"] == .id(w.viewerUser.id) && created["authorUsername"] == "ana")
            #expect(created["taskId"] == w.task && created["createdAt"] == created["updatedAt"])
            w.t.clock.advance(milliseconds: 1000)
            let byOwner = try await w.owner.call("comments.create", ["taskId": w.task, "content": "reply"])
            w.t.clock.advance(milliseconds: 1000)
            let byEditor = try await w.editor.call("comments.create", ["taskId": w.task, "content": "me too"])

            let all = try await w.viewer.call("comments.list", ["taskId": w.task])
            #expect(all.items == [created, byOwner, byEditor] && all["total"] == 3 && all["limit"] == 50)
            let second = try await w.editor.call("comments.list", ["taskId": w.task, "limit": 1, "offset": 1])
            #expect(second.items == [byOwner] && second["total"] == 3 && second["offset"] == 1)

            w.t.clock.advance(milliseconds: 1000)
            let edited = try await w.viewer.call("comments.update", ["id": .id(created.id), "content": "edited"])
            #expect(edited["content"] == "edited" && edited["createdAt"] == created["createdAt"])
            #expect(edited["updatedAt"] == .string(w.t.clock.now.description))
            // The same content again writes nothing and keeps updatedAt.
            w.t.clock.advance(milliseconds: 1000)
            #expect(try await w.viewer.call("comments.update", ["id": .id(created.id), "content": " edited "]) == edited)

            #expect(try await w.editor.call("comments.delete", ["id": .id(byEditor.id)]) == [:])
            // The owner may delete anyone's comment.
            #expect(try await w.owner.call("comments.delete", ["id": .id(created.id)]) == [:])
            #expect(try await w.viewer.call("comments.list", ["taskId": w.task]).items == [byOwner])
            #expect(try await w.viewer.call("tasks.stats")["commentsPosted"] == 0)
            #expect(try await w.owner.call("tasks.stats")["commentsPosted"] == 1)

            let log = try await loggedActivity(store, after: mark)
            #expect(log.map(\.action) == [
                "comment.created", "comment.created", "comment.created", "comment.updated", "comment.deleted", "comment.deleted",
            ])
            #expect(log.allSatisfy { $0.resourceType == "comment" && $0.taskID == w.taskID && $0.audience == w.everyone })
            #expect(log.map(\.actorID) == [w.viewerUser.id, w.ownerUser.id, w.editorUser.id, w.viewerUser.id, w.editorUser.id, w.ownerUser.id])
            // A deleted comment's text is gone from every entry; the untouched one keeps its own.
            let createdGone: JSONValue = ["id": .id(created.id), "taskId": w.task]
            let editorGone: JSONValue = ["id": .id(byEditor.id), "taskId": w.task]
            #expect(log[0].data == createdGone && log[0].details == ["redacted": true])
            #expect(log[0].resourceID == created.id)
            #expect(log[1].data == byOwner && log[1].details == ["content": "reply"])
            #expect(log[2].data == editorGone && log[2].details == ["redacted": true])
            #expect(log[3].data == createdGone && log[3].details == ["redacted": true])
            #expect(log[4].data == editorGone && log[4].details == [:])
            #expect(log[5].data == createdGone && log[5].details == [:])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func whoMayDoWhat(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            let ownerComment = try await w.owner.call("comments.create", ["taskId": w.task, "content": "owner's"])
            let viewerComment = try await w.viewer.call("comments.create", ["taskId": w.task, "content": "viewer's"])
            let before = try await collaborationDump(store)
            // Strangers see nothing, whatever they try.
            await expectError(.notFound) { try await w.stranger.call("comments.create", ["taskId": w.task, "content": "hi"]) }
            await expectError(.notFound) { try await w.stranger.call("comments.list", ["taskId": w.task]) }
            await expectError(.notFound) { try await w.stranger.call("comments.update", ["id": .id(ownerComment.id), "content": "x"]) }
            await expectError(.notFound) { try await w.stranger.call("comments.delete", ["id": .id(ownerComment.id)]) }
            // Only the author edits; only the author or the owner deletes.
            await expectError(.forbidden) { try await w.editor.call("comments.update", ["id": .id(ownerComment.id), "content": "x"]) }
            await expectError(.forbidden) { try await w.owner.call("comments.update", ["id": .id(viewerComment.id), "content": "x"]) }
            await expectError(.forbidden) { try await w.editor.call("comments.delete", ["id": .id(viewerComment.id)]) }
            await expectError(.forbidden) { try await w.viewer.call("comments.delete", ["id": .id(ownerComment.id)]) }
            #expect(try await collaborationDump(store) == before)

            // Revoked: the author can no longer touch their own comment; the owner still can.
            try await w.owner.call("shares.revoke", ["taskId": w.task, "username": "ana"])
            let afterRevoke = try await collaborationDump(store)
            await expectError(.notFound) { try await w.viewer.call("comments.update", ["id": .id(viewerComment.id), "content": "x"]) }
            await expectError(.notFound) { try await w.viewer.call("comments.delete", ["id": .id(viewerComment.id)]) }
            await expectError(.notFound) { try await w.viewer.call("comments.list", ["taskId": w.task]) }
            #expect(try await collaborationDump(store) == afterRevoke)
            #expect(try await w.owner.call("comments.delete", ["id": .id(viewerComment.id)]) == [:])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func badInputIsRefusedByName(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            let comment = try await w.owner.call("comments.create", ["taskId": w.task, "content": "keep"])
            let before = try await collaborationDump(store)
            let creates: [(JSONValue, [String])] = [
                (["taskId": w.task, "content": " \n\t "], ["content"]),
                (["taskId": w.task, "content": .string(String(repeating: "é", count: 2001))], ["content"]),
                (["taskId": w.task, "content": "bell\u{7}"], ["content"]),
                (["taskId": w.task, "content": 5], ["content"]),
                (["taskId": w.task], ["content"]),
                (["content": "x"], ["taskId"]),
                (["taskId": -1, "content": ""], ["taskId", "content"]),
                (["taskId": w.task, "content": "x", "extra": true], ["extra"]),
            ]
            for (params, fields) in creates {
                await expectError(.invalidParams, fields: fields) { try await w.owner.call("comments.create", params) }
            }
            _ = try await w.owner.call("comments.create", ["taskId": w.task, "content": .string(String(repeating: "é", count: 2000))])
            let afterLongest = try await collaborationDump(store)
            #expect(afterLongest.count == before.count + 2)
            await expectError(.invalidParams, fields: ["content"]) { try await w.owner.call("comments.update", ["id": .id(comment.id), "content": ""]) }
            await expectError(.invalidParams, fields: ["id"]) { try await w.owner.call("comments.update", ["id": "1", "content": "x"]) }
            await expectError(.notFound) { try await w.owner.call("comments.update", ["id": .id(comment.id + 1000), "content": "x"]) }
            await expectError(.notFound) { try await w.owner.call("comments.delete", ["id": .id(comment.id + 1000)]) }
            await expectError(.notFound) { try await w.owner.call("comments.create", ["taskId": .id(w.taskID + 1000), "content": "x"]) }
            for params: JSONValue in [["taskId": w.task, "limit": 0], ["taskId": w.task, "limit": 101], ["taskId": w.task, "offset": -1]] {
                await expectError(.invalidParams) { try await w.owner.call("comments.list", params) }
            }
            // Validation comes before lookup: a bad limit on an invisible task is still -32602.
            await expectError(.invalidParams, fields: ["limit"]) { try await w.stranger.call("comments.list", ["taskId": w.task, "limit": 0]) }
            #expect(try await collaborationDump(store) == afterLongest)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aDeletedAuthorsCommentsStayWithoutAnAuthor(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            let comment = try await w.viewer.call("comments.create", ["taskId": w.task, "content": "bye"])
            try await store.write { tx in _ = try tx.deleteUser(id: w.viewerUser.id) }
            let listed = try await w.owner.call("comments.list", ["taskId": w.task]).items
            #expect(listed.map(\.id) == [comment.id])
            #expect(listed.first?["authorId"] == .null && listed.first?["authorUsername"] == .null)
            // The log keeps the name the actor had.
            let logged = try await loggedActivity(store).first { $0.action == "comment.created" }
            #expect(logged?.actorID == nil && logged?.actorUsername == "ana")
        }
    }
}
