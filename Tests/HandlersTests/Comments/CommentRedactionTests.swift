import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

/// A deleted comment's text does not outlive it, and text edited out of a comment is not kept:
/// not in the timeline (shown to everyone who can see the task, including people it is shared
/// with afterwards), not in the log replays are sent from.
@Suite struct CommentRedactionTests {
    private static func text(_ value: JSONValue) -> String {
        String(decoding: JSONWriter.serialize(value), as: UTF8.self)
    }

    /// Every text the log holds, details and event data, as one string.
    private static func logText(_ store: any Store) async throws -> String {
        try await loggedActivity(store).map { Self.text($0.details) + Self.text($0.data) }.joined()
    }

    @Test(arguments: TestBackend.allCases)
    func aDeletedCommentIsNotReadableBySomeoneSharedWithLater(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            let comment = try await w.owner.call("comments.create", ["taskId": w.task, "content": "the door code is 4711"])
            try await w.owner.call("comments.delete", ["id": .id(comment.id)])
            try await w.owner.call("shares.create", ["taskId": w.task, "username": "dave"])
            let timeline = try await w.stranger.call("activity.taskTimeline", ["taskId": w.task])
            let shown = Self.text(timeline)
            #expect(shown.contains("comment.deleted"))
            #expect(!shown.contains("4711"))
            #expect(!(try await Self.logText(store)).contains("4711"))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anEditKeepsOnlyTheCurrentText(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            let comment = try await w.viewer.call("comments.create", ["taskId": w.task, "content": "password: hunter2"])
            w.t.clock.advance(milliseconds: 1000)
            try await w.viewer.call("comments.update", ["id": .id(comment.id), "content": "oops, ignore that"])
            w.t.clock.advance(milliseconds: 1000)
            let current = try await w.viewer.call("comments.update", ["id": .id(comment.id), "content": "see the vault"])
            let text = try await Self.logText(store)
            #expect(!text.contains("hunter2"))
            #expect(!text.contains("oops, ignore that"))
            let entries = try await loggedActivity(store).filter { $0.resourceType == "comment" }
            #expect(entries.map(\.action) == ["comment.created", "comment.updated", "comment.updated"])
            // Earlier entries carry the comment as it now is; the latest its new text only.
            #expect(entries.map(\.data) == [current, current, current])
            #expect(entries.map(\.details) == [["redacted": true], ["redacted": true], ["content": ["new": "see the vault"]]])
        }
    }
}
