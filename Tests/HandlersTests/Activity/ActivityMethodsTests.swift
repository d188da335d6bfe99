import Handlers
import JSON
import JSONRPC
import Storage
import StoreTestSupport
import Testing

/// Contract tests of `activity.list`, `activity.taskTimeline` and `activity.stats` on both
/// backends.
@Suite struct ActivityMethodsTests {
    static let activityKeys = [
        "id", "actorId", "actorUsername", "action", "resourceType", "resourceId", "taskId", "details", "createdAt", "seq",
    ]

    @Test(arguments: TestBackend.allCases)
    func listIsTheCallersOwnNewestFirstWithFilters(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            let start = w.t.clock.now
            try await w.owner.call("tasks.update", ["id": w.task, "title": "renamed"])
            w.t.clock.advance(milliseconds: 1000)
            let comment = try await w.owner.call("comments.create", ["taskId": w.task, "content": "hello"])
            w.t.clock.advance(milliseconds: 1000)
            try await w.editor.call("comments.create", ["taskId": w.task, "content": "not bob's"])
            // A sign-out row in the same log is never listed (written as the sign-out fan-out does).
            try await sqlStore(store).execute("""
                INSERT INTO activity (actor_id, actor_username, action, resource_type, resource_id, task_id, details, data, created_at)
                VALUES ($1, 'bob', 'session.revoked', 'session', $1, NULL, '{}', '{}', $2)
                """, [.int64(w.ownerUser.id), .int64(w.t.clock.now.milliseconds)])

            let all = try await w.owner.call("activity.list")
            #expect(all["total"] == 5 && all["limit"] == 50 && all["offset"] == 0)
            #expect(all.items.map { $0["action"] } == ["comment.created", "task.updated", "share.created", "share.created", "task.created"])
            #expect(all.items.first?.objectValue?.keys == Self.activityKeys)
            let first = try #require(all.items.first)
            #expect(first["actorId"] == .id(w.ownerUser.id) && first["actorUsername"] == "bob")
            #expect(first["resourceType"] == "comment" && first["resourceId"] == .id(comment.id) && first["taskId"] == w.task)
            #expect(first["details"] == ["content": "hello"] && first["seq"] == .null)
            #expect(all.items[1]["details"] == ["title": ["old": "shared", "new": "renamed"]])

            #expect(try await w.owner.call("activity.list", ["resourceType": "share"])["total"] == 2)
            #expect(try await w.owner.call("activity.list", ["action": "task.updated"]).items.map { $0["taskId"] } == [w.task])
            let ranged = try await w.owner.call("activity.list", ["from": .string(start.description), "to": .string(start.adding(milliseconds: 1000).description)])
            #expect(ranged.items.map { $0["action"] } == ["comment.created", "task.updated"])
            #expect(try await w.owner.call("activity.list", ["from": .string(start.adding(milliseconds: 1).description), "to": .string(start.description)])["total"] == 0)
            let paged = try await w.owner.call("activity.list", ["limit": 2, "offset": 1])
            #expect(paged.items.map { $0["action"] } == ["task.updated", "share.created"] && paged["total"] == 5)
            #expect(try await w.stranger.call("activity.list")["total"] == 0)

            let stats = try await w.owner.call("activity.stats")
            #expect(stats.objectValue?.keys == ["total", "byAction", "byResourceType"])
            #expect(stats["total"] == 5)
            let byAction = stats["byAction"]?.objectValue
            #expect(byAction?.count == 4 && byAction?["task.created"] == 1 && byAction?["share.created"] == 2)
            #expect(byAction?["task.updated"] == 1 && byAction?["comment.created"] == 1)
            let byType = stats["byResourceType"]?.objectValue
            #expect(byType?.count == 3 && byType?["task"] == 2 && byType?["share"] == 2 && byType?["comment"] == 1)
            #expect(try await w.stranger.call("activity.stats") == ["total": 0, "byAction": [:], "byResourceType": [:]])

            let bad: [(JSONValue, [String])] = [
                (["action": "session.revoked"], ["action"]),
                (["action": "task.exploded"], ["action"]),
                (["resourceType": "session"], ["resourceType"]),
                (["from": "yesterday"], ["from"]),
                (["limit": 0], ["limit"]),
                (["limit": 101], ["limit"]),
                (["offset": -1], ["offset"]),
                (["actor": 1], ["actor"]),
            ]
            for (params, fields) in bad {
                await expectError(.invalidParams, fields: fields) { try await w.owner.call("activity.list", params) }
            }
            await expectError(.invalidParams, fields: ["x"]) { try await w.owner.call("activity.stats", ["x": 1]) }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func timelineIsTheTasksHistoryOldestFirstForViewers(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            try await w.editor.call("tasks.update", ["id": w.task, "priority": "high"])
            try await w.viewer.call("comments.create", ["taskId": w.task, "content": "ok"])
            let other = try await w.owner.createTask(title: "unrelated")
            _ = other
            let timeline = try await w.viewer.call("activity.taskTimeline", ["taskId": w.task])
            #expect(timeline.items.map { $0["action"] } == ["task.created", "share.created", "share.created", "task.updated", "comment.created"])
            #expect(timeline.items.map { $0["actorUsername"] } == ["bob", "bob", "bob", "cara", "ana"])
            #expect(timeline["total"] == 5)
            let page = try await w.viewer.call("activity.taskTimeline", ["taskId": w.task, "limit": 2, "offset": 3])
            #expect(page.items == Array(timeline.items[3...]) && page["total"] == 5)
            await expectError(.notFound) { try await w.stranger.call("activity.taskTimeline", ["taskId": w.task]) }
            await expectError(.invalidParams, fields: ["taskId", "limit"]) {
                try await w.stranger.call("activity.taskTimeline", ["taskId": 0, "limit": 1000])
            }
            try await w.owner.call("tasks.delete", ["id": w.task])
            await expectError(.notFound) { try await w.owner.call("activity.taskTimeline", ["taskId": w.task]) }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theSequencerHookRunsAfterEveryCommittedChangeOnly(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            // Create and two shares.
            #expect(w.t.commits.value == 3)
            try await w.owner.call("comments.create", ["taskId": w.task, "content": "x"])
            #expect(w.t.commits.value == 4)
            await expectError(.forbidden) { try await w.viewer.call("tasks.update", ["id": w.task, "title": "no"]) }
            await expectError(.conflict) { try await w.owner.call("shares.create", ["taskId": w.task, "username": "ana"]) }
            await expectError(.invalidParams) { try await w.owner.call("comments.create", ["taskId": w.task, "content": ""]) }
            #expect(w.t.commits.value == 4)
            // Reads never call it.
            _ = try await w.owner.call("activity.list")
            _ = try await w.owner.call("comments.list", ["taskId": w.task])
            #expect(w.t.commits.value == 4)
        }
    }
}
