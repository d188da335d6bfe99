import Handlers
import Storage
import StoreTestSupport
import Testing

/// `taskStats`: counts over owned tasks, always current.
@Suite struct StoreTaskStatsTests {
    @Test(arguments: TestBackend.allCases)
    func statsCountOwnedTasksAndCommentsAnywhere(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("bob")
            let empty = try await store.read { try $0.taskStats(owner: alice.id, today: StoreTestTime.today) }
            #expect(empty == TaskStats())

            let a = try await store.makeTask(alice.id, "a", completed: false, priority: .high, due: "2026-11-24", tags: ["Work", "urgent"])
            _ = try await store.makeTask(alice.id, "b", completed: true, priority: .high, due: "2026-11-20", tags: ["work"])
            _ = try await store.makeTask(alice.id, "c", completed: false, priority: .low, due: "2026-11-25", tags: ["home", "WORK"])
            let d = try await store.makeTask(alice.id, "d", completed: false, priority: .medium, due: nil, tags: [])
            let bobs = try await store.makeTask(bob.id, "bob's", completed: false, priority: .high, due: "2020-01-01", tags: ["work", "bob"])
            try await insertShare(store, taskID: a.id, userID: bob.id)
            try await insertShare(store, taskID: d.id, userID: bob.id, permission: .edit)
            try await insertShare(store, taskID: bobs.id, userID: alice.id)
            try await insertComment(store, taskID: bobs.id, authorID: alice.id)
            try await insertComment(store, taskID: a.id, authorID: alice.id)
            try await insertComment(store, taskID: a.id, authorID: bob.id)

            let stats = try await store.read { try $0.taskStats(owner: alice.id, today: StoreTestTime.today) }
            #expect(stats.total == 4)
            #expect(stats.completed == 1)
            #expect(stats.incomplete == 3)
            #expect(stats.overdue == 1)
            #expect(stats.byPriority.low == 1)
            #expect(stats.byPriority.medium == 1)
            #expect(stats.byPriority.high == 2)
            // One entry per folded tag, spelled as the code-point-first spelling ("WORK" < "Work" < "work").
            #expect(stats.byTag == ["WORK": 3, "urgent": 1, "home": 1])
            #expect(stats.tasksShared == 2)
            #expect(stats.commentsPosted == 2)

            let later = try await store.read { try $0.taskStats(owner: alice.id, today: DayDate("2026-11-26")!) }
            #expect(later.overdue == 2)

            // Always current: a change shows on the next call.
            _ = try await store.write { try $0.deleteTask(id: a.id) }
            let after = try await store.read { try $0.taskStats(owner: alice.id, today: StoreTestTime.today) }
            #expect(after.total == 3)
            #expect(after.overdue == 0)
            #expect(after.byTag == ["WORK": 2, "home": 1])
            #expect(after.tasksShared == 1)
            #expect(after.commentsPosted == 1)
        }
    }
}
