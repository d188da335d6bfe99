import Handlers
import JSON
import JSONRPC
import Storage
import StoreTestSupport
import Testing

/// The store's shares, comments, files and activity log on both backends, below the handlers.
@Suite struct StoreCollaborationTests {
    @Test(arguments: TestBackend.allCases)
    func sharesInsertConflictUpdateDeleteAndAudience(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("Bob")
            let carol = try await store.makeUser("carol")
            let task = try await store.makeTask(alice.id, "Shared")
            let share = NewShare(taskID: task.id, userID: bob.id, permission: .view, sharedAt: StoreTestTime.at(1), sharedBy: alice.id)
            let inserted = try await store.write { try $0.insertShare(share) }
            #expect(inserted == ShareRecord(taskID: task.id, userID: bob.id, username: "Bob", permission: .view, sharedAt: StoreTestTime.at(1), sharedBy: alice.id))

            // A duplicate is a conflict naming username, and the transaction stays usable
            // (PostgreSQL would refuse every later statement after a unique violation).
            let afterConflict = try await store.write { tx -> Int in
                do {
                    _ = try tx.insertShare(NewShare(taskID: task.id, userID: bob.id, permission: .edit, sharedAt: StoreTestTime.at(2), sharedBy: alice.id))
                    Issue.record("expected a conflict")
                } catch let error as StoreError {
                    #expect(error.kind == .conflict(field: "username"))
                }
                _ = try tx.insertShare(NewShare(taskID: task.id, userID: carol.id, permission: .edit, sharedAt: StoreTestTime.at(2), sharedBy: alice.id))
                return try tx.shares(taskID: task.id).count
            }
            #expect(afterConflict == 2)
            #expect(try await store.read { try $0.shares(taskID: task.id) }.map(\.userID) == [bob.id, carol.id])
            #expect(try await store.read { try $0.share(taskID: task.id, userID: bob.id) } == inserted)
            #expect(try await store.read { try $0.taskAudience(taskID: task.id) } == [
                AudienceMember(userID: alice.id, permission: .owner),
                AudienceMember(userID: bob.id, permission: .view),
                AudienceMember(userID: carol.id, permission: .edit),
            ])
            #expect(try await store.read { try $0.taskAudience(taskID: task.id + 1000) }.isEmpty)
            #expect(try await store.read { try $0.sharedTasks(owner: alice.id) }.map(\.id) == [task.id])

            let updated = try await store.write { try $0.updateShare(taskID: task.id, userID: bob.id, permission: .edit) }
            #expect(updated?.permission == .edit && updated?.sharedAt == StoreTestTime.at(1))
            #expect(try await store.write { try $0.updateShare(taskID: task.id, userID: alice.id, permission: .edit) } == nil)
            let deleted = try await store.write { try $0.deleteShare(taskID: task.id, userID: bob.id) }
            #expect(deleted == updated)
            #expect(try await store.write { try $0.deleteShare(taskID: task.id, userID: bob.id) } == nil)

            let page = try await store.read { try $0.sharedWithMe(userID: carol.id, limit: 10, offset: 0) }
            #expect(page.items.map(\.id) == [task.id] && page.items.first?.permission == .edit && page.total == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func commentsPageOldestFirstWithTotals(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let task = try await store.makeTask(alice.id, "Talk")
            var ids: [Int64] = []
            for index in 0..<5 {
                // Two comments share each instant: the id breaks the tie.
                let at = StoreTestTime.at(Int64(index / 2))
                ids.append(try await store.write { try $0.insertComment(taskID: task.id, authorID: alice.id, content: "c\(index)", at: at) }.id)
            }
            let (c0, c1) = (ids[0], ids[1])
            let first = try await store.read { try $0.comments(taskID: task.id, limit: 2, offset: 0) }
            #expect(first.items.map(\.id) == Array(ids[0..<2]) && first.total == 5)
            let last = try await store.read { try $0.comments(taskID: task.id, limit: 2, offset: 4) }
            #expect(last.items.map(\.id) == [ids[4]] && last.total == 5)
            let past = try await store.read { try $0.comments(taskID: task.id, limit: 2, offset: 9) }
            #expect(past.items.isEmpty && past.total == 5)
            let edited = try await store.write { try $0.updateComment(id: c0, content: "new", at: StoreTestTime.at(60)) }
            #expect(edited?.content == "new" && edited?.createdAt == StoreTestTime.at(0) && edited?.updatedAt == StoreTestTime.at(60))
            #expect(edited?.authorUsername == "alice")
            #expect(try await store.write { try $0.updateComment(id: 999_999, content: "x", at: StoreTestTime.at(60)) } == nil)
            #expect(try await store.write { try $0.deleteComment(id: c1) })
            #expect(try await store.write { try $0.deleteComment(id: c1) } == false)
            #expect(try await store.read { try $0.comment(id: c1) } == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func filesKeepTheirBlobKeyUniqueAndQueueTheirBlobOnDelete(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let task = try await store.makeTask(alice.id, "Files")
            let new = NewFile(
                taskID: task.id, filename: "r\u{e9}sum\u{e9}.pdf", size: 1234, contentType: "application/pdf",
                storageKey: "k1", etag: "\"abc\"", uploadedBy: alice.id, uploadedAt: StoreTestTime.t0
            )
            let file = try await store.write { try $0.insertFile(new) }
            #expect(try await store.read { try $0.file(id: file.id) } == file)
            let error = await storeError { _ = try await store.write { try $0.insertFile(new) } }
            #expect(error?.kind == .conflict(field: "storageKey"))
            #expect(try await store.read { try $0.files(taskID: task.id) } == [file])

            // A rolled-back delete queues nothing.
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await store.write { tx in
                    _ = try tx.deleteFile(id: file.id)
                    throw Abort()
                }
            }
            #expect(try await store.read { try $0.pendingBlobCleanups(limit: 10) }.isEmpty)
            #expect(try await store.write { try $0.deleteFile(id: file.id) } == file)
            #expect(try await store.write { try $0.deleteFile(id: file.id) } == nil)
            #expect(try await store.read { try $0.pendingBlobCleanups(limit: 10) } == ["k1"])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func activityRowsArePendingWithTheirAudience(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("bob")
            let task = try await store.makeTask(alice.id, "Logged")
            // More recipients than one audience statement holds, with a duplicate.
            var extra: [AudienceMember] = []
            for index in 0..<120 {
                extra.append(AudienceMember(userID: try await store.makeUser("user\(index)").id, permission: .view))
            }
            let activity = NewActivity(
                actorID: bob.id, action: .commentCreated, resourceID: 7, taskID: task.id,
                details: ["content": "hi"], data: ["id": 7, "taskId": .number(JSONNumber(task.id))], createdAt: StoreTestTime.at(5),
                audience: [AudienceMember(userID: alice.id, permission: .owner), AudienceMember(userID: bob.id, permission: .edit)]
                    + extra + [AudienceMember(userID: bob.id, permission: .view)]
            )
            let id = try await store.write { try $0.insertActivity(activity) }
            let audience = try await store.read { try $0.activityAudience(activityID: id) }
            #expect(audience.count == 122)
            #expect(audience.first { $0.userID == bob.id }?.permission == .edit)
            let rows = try await sqlStore(store).query("SELECT seq, actor_username, data FROM activity WHERE id = $1", [.int64(id)])
            #expect(try rows[0].optionalInt64("seq") == nil)
            #expect(try rows[0].string("actor_username") == "bob")
            #expect(try JSONParser().parse(try rows[0].string("data")) == activity.data)
            let pending = try await sqlStore(store).query("SELECT id FROM activity WHERE seq IS NULL ORDER BY id")
            #expect(try pending.map { try $0.int64("id") } == [id])
            let sequence = try await sqlStore(store).query("SELECT last_seq FROM event_sequence")
            #expect(try sequence.map { try $0.int64("last_seq") } == [0])

            let listed = try await store.read { tx in
                var query = ActivityQuery(actorID: bob.id)
                query.limit = 10
                return try tx.activity(matching: query)
            }
            #expect(listed.total == 1 && listed.items.first?.details == ["content": "hi"] && listed.items.first?.resourceType == .comment)
            #expect(try await store.read { try $0.taskTimeline(taskID: task.id, limit: 10, offset: 0) }.items.map(\.id) == [id])
            let stats = try await store.read { try $0.activityStats(actorID: bob.id) }
            #expect(stats.total == 1 && stats.byAction == ["comment.created": 1] && stats.byResourceType == ["comment": 1])

            // A row whose transaction rolls back is never seen.
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await store.write { tx in
                    _ = try tx.insertActivity(activity)
                    throw Abort()
                }
            }
            #expect(try await sqlStore(store).query("SELECT COUNT(*) AS n FROM activity")[0].int64("n") == 1)
        }
    }
}
