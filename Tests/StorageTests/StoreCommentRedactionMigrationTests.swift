import Handlers
import JSON
import Storage
import StoreTestSupport
import Testing

/// Migration 7 on a log written as version 6 wrote it: comment text survives only where it is
/// a live comment's current text.
@Suite struct StoreCommentRedactionMigrationTests {
    static let logger = TestStoreEnvironment.logger

    @Test(arguments: TestBackend.allCases)
    func oldCommentTextLeavesTheLog(_ backend: TestBackend) async throws {
        try await withStoreConfiguration(backend) { configuration in
            let version6 = Array(Migrations.all.prefix(6))
            #expect(version6.last?.version == 6)
            let old = try await StoreFactory.open(configuration, migrations: version6, threadPool: testThreadPool, logger: Self.logger)
            let alice = try await old.makeUser("alice")
            let task = try await old.makeTask(alice.id, "a task")
            let at = StoreTestTime.t0
            // Version 6's entries: a comment edited twice, one deleted, one never touched.
            let (edited, deletedID, kept): (CommentRecord, Int64, CommentRecord) = try await old.write { tx in
                func log(_ action: ActivityAction, _ id: Int64, _ details: JSONObject, _ data: JSONValue) throws {
                    try tx.insertActivity(NewActivity(
                        actorID: alice.id, action: action, resourceID: id, taskID: task.id, details: details, data: data,
                        createdAt: at, audience: .currentMembers(taskID: task.id)))
                }
                func comment(_ record: CommentRecord) throws -> JSONValue { try JSONValueEncoder().encode(record) }
                let first = try tx.insertComment(taskID: task.id, authorID: alice.id, content: "first secret", at: at)
                try log(.commentCreated, first.id, ["content": "first secret"], try comment(first))
                let second = try #require(try tx.updateComment(id: first.id, content: "second secret", at: at))
                try log(.commentUpdated, first.id, ["content": ["old": "first secret", "new": "second secret"]], try comment(second))
                let third = try #require(try tx.updateComment(id: first.id, content: "current text", at: at))
                try log(.commentUpdated, first.id, ["content": ["old": "second secret", "new": "current text"]], try comment(third))

                let gone = try tx.insertComment(taskID: task.id, authorID: alice.id, content: "deleted secret", at: at)
                try log(.commentCreated, gone.id, ["content": "deleted secret"], try comment(gone))
                _ = try tx.deleteComment(id: gone.id)
                try log(.commentDeleted, gone.id, ["content": "deleted secret"], ["id": .number(JSONNumber(gone.id)), "taskId": .number(JSONNumber(task.id))])

                let kept = try tx.insertComment(taskID: task.id, authorID: alice.id, content: "kept text", at: at)
                try log(.commentCreated, kept.id, ["content": "kept text"], try comment(kept))
                return (third, gone.id, kept)
            }
            await old.close()

            let report = try await StoreFactory.migrate(configuration, threadPool: testThreadPool, logger: Self.logger)
            #expect(report.applied.map(\.version) == Migrations.all.dropFirst(6).map(\.version))
            let store = try await StoreFactory.open(configuration, threadPool: testThreadPool, logger: Self.logger)
            let rows = try await sqlStore(store).query("SELECT action, resource_id, details, data FROM activity ORDER BY id")
            let log = try rows.map { row in
                (action: try row.string("action"), id: try row.int64("resource_id"),
                 details: try JSONParser().parse(Array(try row.string("details").utf8)),
                 data: try JSONParser().parse(Array(try row.string("data").utf8)))
            }
            let everything = try rows.map { try $0.string("details") + $0.string("data") }.joined()
            for secret in ["first secret", "second secret", "deleted secret"] {
                #expect(!everything.contains(secret), "\(secret)")
            }
            let editedNow = try JSONValueEncoder().encode(edited)
            #expect(log.map(\.action) == ["comment.created", "comment.updated", "comment.updated", "comment.created", "comment.deleted", "comment.created"])
            #expect(log[0].details == ["redacted": true] && log[0].data == editedNow)
            #expect(log[1].details == ["redacted": true] && log[1].data == editedNow)
            #expect(log[2].details == ["content": ["new": "current text"]] && log[2].data == editedNow)
            let reference: JSONValue = ["id": .number(JSONNumber(deletedID)), "taskId": .number(JSONNumber(task.id))]
            #expect(log[3].details == ["redacted": true] && log[3].data == reference)
            #expect(log[4].details == [:] && log[4].data == reference)
            let keptNow = try JSONValueEncoder().encode(kept)
            #expect(log[5].details == ["content": "kept text"] && log[5].data == keptNow)
            await store.close()
        }
    }
}
