import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

/// Contract tests of `tasks.create`, `get`, `update`, `delete` and `stats` on both backends.
@Suite struct TaskMethodsTests {
    static let taskKeys = [
        "id", "ownerId", "ownerUsername", "title", "description", "completed", "priority", "dueDate", "tags",
        "createdAt", "updatedAt", "permission", "shareCount",
    ]

    @Test(arguments: TestBackend.allCases)
    func createNormalizesAndAppliesDefaults(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (ana, client) = try await t.signedInUser("ana")
            let task = try await client.createTask([
                "title": "  Write report\u{3000}", "description": " \n\t ", "tags": [" work ", "WORK", "home", "Home "],
            ])
            #expect(task.objectValue?.keys == Self.taskKeys)
            #expect(task["title"] == "Write report")
            #expect(task["description"] == .null)
            #expect(task["priority"] == "medium")
            #expect(task["completed"] == false)
            #expect(task["dueDate"] == .null)
            #expect(task.tagList == ["work", "home"])
            #expect(task["ownerId"] == .id(ana.id))
            #expect(task["ownerUsername"] == "ana")
            #expect(task["permission"] == "owner")
            #expect(task["shareCount"] == 0)
            #expect(task["createdAt"] == "2026-11-25T12:00:00.000Z")
            #expect(task["updatedAt"] == "2026-11-25T12:00:00.000Z")
            #expect(try await client.getTask(task.id) == task)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func createKeepsEveryFieldGiven(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, client) = try await t.signedInUser("ana")
            let title = String(repeating: "é", count: 199) + "👍"
            let description = "line 1\n\tline 2 with 'quotes', \\ and %_"
            let task = try await client.createTask([
                "title": .string(title), "description": .string("  " + description + "  "), "priority": "high",
                "dueDate": "2028-02-29", "completed": true, "tags": .strings((0..<20).map { "t/\($0)" } + ["T/0", "t/1"]),
                "requestKey": nil,
            ])
            #expect(task["title"] == .string(title))
            #expect(task["description"] == .string(description))
            #expect(task["priority"] == "high")
            #expect(task["dueDate"] == "2028-02-29")
            #expect(task["completed"] == true)
            #expect(task.tagList == (0..<20).map { "t/\($0)" })
            #expect(try await client.getTask(task.id) == task)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func refusedCreatesLeaveNoTask(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, client) = try await t.signedInUser("ana")
            let bad: [JSONValue] = [
                [:], ["title": "   "], ["title": .string(String(repeating: "x", count: 201))],
                ["title": "x", "dueDate": "2026-02-30"], ["title": "x", "tags": .strings((0..<21).map { "t\($0)" })],
                ["title": "x", "priority": "urgent"], ["title": "x", "extra": 1], ["title": "x", "tags": [""]],
            ]
            for params in bad {
                await expectError(.invalidParams) { try await client.createTask(params) }
            }
            #expect(try await client.listTitles().total == 0)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func createIsRateLimitedPerUser(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            let (_, bob) = try await t.signedInUser("bob")
            for i in 0..<60 {
                _ = try await ana.createTask(title: "task \(i)")
                // Half at the start of the minute, half thirty seconds in.
                if i == 29 { t.clock.advance(milliseconds: 30_000) }
            }
            let error = await expectError(.rateLimited) { _ = try await ana.createTask(title: "one too many") }
            // A sliding window: room again once the first thirty leave it, 30 s from now (the
            // in-process limiter adds one millisecond of margin).
            let wait = error?.data?["retryAfterMs"]?.numberValue?.int ?? 0
            #expect((30_000...30_001).contains(wait))
            // Validation still comes first: a malformed call is told so, not to wait.
            await expectError(.invalidParams, fields: ["title"]) { _ = try await ana.createTask(["title": " "]) }
            // Per user: someone else is not held back.
            _ = try await bob.createTask(title: "bob's")
            #expect(try await ana.listTitles(["limit": 100]).total == 60)
            t.clock.advance(milliseconds: Int64(wait))
            _ = try await ana.createTask(title: "after the window")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func rateLimitsCanBeSwitchedOff(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store, rateLimits: false)
            let (_, ana) = try await t.signedInUser("ana")
            for i in 0..<61 {
                _ = try await ana.createTask(title: "task \(i)")
            }
            #expect(try await ana.listTitles(["limit": 100]).total == 61)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func requestKeyReplaysTheFirstResult(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            let (_, bob) = try await t.signedInUser("bob")
            let first = try await ana.createTask(["title": "once", "requestKey": "k-1"])
            t.clock.advance(milliseconds: 1000)
            let again = try await ana.createTask(["title": "once, but different", "requestKey": "k-1"])
            #expect(again == first)
            #expect(try await ana.listTitles().titles == ["once"])
            // Keys are per user.
            let bobs = try await bob.createTask(["title": "bob's", "requestKey": "k-1"])
            #expect(bobs.id != first.id)
            // A key reused for another method is refused by name, and changes nothing.
            await expectError(.invalidParams, fields: ["requestKey"]) {
                try await ana.call("tasks.delete", ["id": .id(first.id), "requestKey": "k-1"])
            }
            #expect(try await ana.getTask(first.id) == first)

            // Update: the retry answers the first result and does not apply its own changes.
            let updated = try await ana.call("tasks.update", ["id": .id(first.id), "title": "renamed", "requestKey": "k-2"])
            let retried = try await ana.call("tasks.update", ["id": .id(first.id), "title": "renamed again", "requestKey": "k-2"])
            #expect(retried == updated)
            #expect(try await ana.getTask(first.id)["title"] == "renamed")

            // Delete: the retry answers {} instead of -32004.
            let deleted = try await ana.call("tasks.delete", ["id": .id(first.id), "requestKey": "k-3"])
            #expect(deleted == [:])
            #expect(try await ana.call("tasks.delete", ["id": .id(first.id), "requestKey": "k-3"]) == [:])
            await expectError(.notFound) { try await ana.call("tasks.delete", ["id": .id(first.id)]) }

            // A failed call stores nothing under its key: the key stays usable.
            await expectError(.notFound) {
                try await ana.call("tasks.update", ["id": .id(first.id), "title": "x", "requestKey": "k-4"])
            }
            _ = try await ana.createTask(["title": "with k-4", "requestKey": "k-4"])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func getAnswersNotFoundForAbsentAndOthersTasks(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            let (_, bob) = try await t.signedInUser("bob")
            let id = try await ana.createTask(title: "private")
            let absent = await expectError(.notFound) { _ = try await bob.getTask(id) }
            let missing = await expectError(.notFound) { _ = try await bob.getTask(id + 1000) }
            // Same answer either way: nothing tells a stranger the id exists.
            #expect(absent?.message == missing?.message && absent?.data == missing?.data)
            await expectError(.notFound) { _ = try await ana.getTask(Int64.max) }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func updateChangesNormalizesAndClears(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            let created = try await ana.createTask([
                "title": "draft", "description": "text", "dueDate": "2026-12-24", "priority": "low", "tags": ["a", "b"],
            ])
            t.clock.advance(milliseconds: 5000)
            let updated = try await ana.call("tasks.update", [
                "id": .id(created.id), "title": "  final ", "description": nil, "dueDate": nil,
                "priority": "high", "completed": true, "tags": ["B", " c ", "b"],
            ])
            #expect(updated["title"] == "final")
            #expect(updated["description"] == .null)
            #expect(updated["dueDate"] == .null)
            #expect(updated["priority"] == "high")
            #expect(updated["completed"] == true)
            #expect(updated.tagList == ["B", "c"])
            #expect(updated["createdAt"] == created["createdAt"])
            #expect(updated["updatedAt"] == "2026-11-25T12:00:05.000Z")
            #expect(try await ana.getTask(created.id) == updated)

            let described = try await ana.call("tasks.update", ["id": .id(created.id), "description": "again\n"])
            #expect(described["description"] == "again")
            let blanked = try await ana.call("tasks.update", ["id": .id(created.id), "description": "  \n "])
            #expect(blanked["description"] == .null)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anUpdateThatChangesNothingKeepsUpdatedAt(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            let created = try await ana.createTask([
                "title": "same", "description": "text", "dueDate": "2026-12-24", "tags": ["a", "b"],
            ])
            t.clock.advance(milliseconds: 5000)
            let sameAgain: [JSONValue] = [
                ["id": .id(created.id)],
                ["id": .id(created.id), "title": " same ", "description": "text\u{3000}", "tags": ["a", "A", "b"]],
                ["id": .id(created.id), "priority": "medium", "completed": false, "dueDate": "2026-12-24"],
            ]
            for params in sameAgain {
                #expect(try await ana.call("tasks.update", params) == created)
            }
            #expect(try await ana.getTask(created.id) == created)
            // A spelling change is a change.
            let respelled = try await ana.call("tasks.update", ["id": .id(created.id), "tags": ["A", "b"]])
            #expect(respelled["updatedAt"] == "2026-11-25T12:00:05.000Z")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func updateAndDeleteOfAnotherUsersTaskAreNotFoundAndChangeNothing(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            let (_, bob) = try await t.signedInUser("bob")
            let task = try await ana.createTask(["title": "ana's"])
            await expectError(.notFound) { try await bob.call("tasks.update", ["id": .id(task.id), "title": "mine now"]) }
            await expectError(.notFound) { try await bob.call("tasks.delete", ["id": .id(task.id)]) }
            await expectError(.notFound) { try await bob.call("tasks.addTags", ["id": .id(task.id), "tags": ["x"]]) }
            await expectError(.notFound) { try await bob.call("tasks.removeTag", ["id": .id(task.id), "tag": "x"]) }
            await expectError(.notFound) { try await ana.call("tasks.update", ["id": 999_999, "title": "x"]) }
            // Validation still comes first.
            await expectError(.invalidParams, fields: ["title"]) {
                try await bob.call("tasks.update", ["id": .id(task.id), "title": ""])
            }
            #expect(try await ana.getTask(task.id) == task)
            #expect(try await bob.listTitles(["scope": "all"]).total == 0)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func deleteRemovesTheTask(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            let keep = try await ana.createTask(title: "keep")
            let gone = try await ana.createTask(title: "gone")
            #expect(try await ana.call("tasks.delete", ["id": .id(gone)]) == [:])
            await expectError(.notFound) { _ = try await ana.getTask(gone) }
            await expectError(.notFound) { try await ana.call("tasks.delete", ["id": .id(gone)]) }
            #expect(try await ana.listTitles().titles == ["keep"])
            _ = try await ana.getTask(keep)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func statsAreAlwaysCurrent(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (anaUser, ana) = try await t.signedInUser("ana")
            let (bobUser, bob) = try await t.signedInUser("bob")
            let ids = try await TaskListTests.createFixture(ana, clock: t.clock)
            let bobsTask = try await bob.createTask(["title": "bob's", "tags": ["work"], "dueDate": "2020-01-01"])

            var stats = try await ana.call("tasks.stats")
            #expect(stats["total"] == 7)
            #expect(stats["completed"] == 2)
            #expect(stats["incomplete"] == 5)
            #expect(stats["overdue"] == 2)
            #expect(stats["byPriority"] == ["low": 2, "medium": 3, "high": 2])
            #expect(Self.counts(stats["byTag"]) == ["Work": 3, "urgent": 2, "home": 2, "bug": 1])
            #expect(stats["tasksShared"] == 0)
            #expect(stats["commentsPosted"] == 0)
            #expect(stats.objectValue?.keys == [
                "total", "completed", "incomplete", "overdue", "byPriority", "byTag", "tasksShared", "commentsPosted",
            ])

            _ = try await ana.call("tasks.update", ["id": .id(ids[0]), "completed": true, "priority": "low"])
            stats = try await ana.call("tasks.stats")
            #expect(stats["completed"] == 3)
            #expect(stats["overdue"] == 1)
            #expect(stats["byPriority"] == ["low": 3, "medium": 3, "high": 1])

            _ = try await ana.call("tasks.delete", ["id": .id(ids[5])])
            _ = try await ana.call("tasks.addTags", ["id": .id(ids[6]), "tags": ["WORK", "new"]])
            _ = try await ana.call("tasks.removeTag", ["id": .id(ids[3]), "tag": "bug"])
            stats = try await ana.call("tasks.stats")
            #expect(stats["total"] == 6)
            #expect(stats["overdue"] == 0)
            #expect(Self.counts(stats["byTag"]) == ["WORK": 4, "urgent": 1, "home": 1, "new": 1])

            // The clock moves into the next day: a task due today becomes overdue.
            t.clock.advance(milliseconds: 86_400_000)
            #expect(try await ana.call("tasks.stats")["overdue"] == 1)

            let bobs = try await bob.call("tasks.stats")
            #expect(bobs["total"] == 1 && bobs["overdue"] == 1)

            // Comments the caller wrote anywhere, and owned tasks with a share, count at once.
            try await insertComment(store, taskID: bobsTask.id, authorID: anaUser.id)
            try await insertShare(store, taskID: ids[1], userID: bobUser.id)
            stats = try await ana.call("tasks.stats")
            #expect(stats["commentsPosted"] == 1 && stats["tasksShared"] == 1)
            #expect(try await bob.call("tasks.stats")["commentsPosted"] == 0)
        }
    }

    static func counts(_ value: JSONValue?) -> [String: Int] {
        var result: [String: Int] = [:]
        for member in value?.objectValue?.members ?? [] {
            result[member.key] = member.value.numberValue?.int ?? -1
        }
        return result
    }
}
