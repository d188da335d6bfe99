import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

/// Contract tests of `tasks.bulkUpdate`, `tasks.addTags` and `tasks.removeTag`, concurrency
/// included, on both backends.
@Suite struct TaskBulkAndTagsTests {
    @Test(arguments: TestBackend.allCases)
    func bulkUpdateAppliesInRequestOrderAndAnswersInIt(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            let a = try await ana.createTask(["title": "a"])
            let b = try await ana.createTask(["title": "b", "completed": true])
            let c = try await ana.createTask(["title": "c", "tags": ["x"]])
            t.clock.advance(milliseconds: 2000)
            let result = try await ana.call("tasks.bulkUpdate", [
                "ids": [.id(c.id), .id(a.id), .id(b.id)], "changes": ["completed": true, "dueDate": "2026-12-24"],
            ])
            #expect(result.objectValue?.keys == ["items"])
            let items = result["items"]?.arrayValue ?? []
            #expect(items.map(\.id) == [c.id, a.id, b.id])
            #expect(items.allSatisfy { $0["completed"] == true && $0["dueDate"] == "2026-12-24" })
            #expect(items.allSatisfy { $0["updatedAt"] == "2026-11-25T12:00:02.000Z" })
            #expect(items[0].tagList == ["x"] && items[0]["title"] == "c")
            for item in items {
                #expect(try await ana.getTask(item.id) == item)
            }
            // A task the changes leave as it is keeps its updatedAt.
            t.clock.advance(milliseconds: 2000)
            let again = try await ana.call("tasks.bulkUpdate", ["ids": [.id(a.id), .id(b.id)], "changes": ["completed": true, "title": "b"]])
            let againItems = again["items"]?.arrayValue ?? []
            #expect(againItems.map { $0["title"] } == ["b", "b"])
            #expect(againItems[0]["updatedAt"] == "2026-11-25T12:00:04.000Z")
            #expect(againItems[1]["updatedAt"] == "2026-11-25T12:00:02.000Z")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func bulkUpdateIsAllOrNothingAndNamesTheFirstFailingID(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            let (_, bob) = try await t.signedInUser("bob")
            let a = try await ana.createTask(["title": "a"])
            let b = try await ana.createTask(["title": "b"])
            let bobs = try await bob.createTask(["title": "bob's"])
            let absent: Int64 = 999_999
            t.clock.advance(milliseconds: 1000)

            var error = await expectError(.notFound) {
                try await ana.call("tasks.bulkUpdate", [
                    "ids": [.id(a.id), .id(bobs.id), .id(absent), .id(b.id)], "changes": ["completed": true],
                ])
            }
            #expect(error?.data == ["id": .id(bobs.id)])
            error = await expectError(.notFound) {
                try await ana.call("tasks.bulkUpdate", [
                    "ids": [.id(b.id), .id(absent), .id(bobs.id), .id(a.id)], "changes": ["completed": true],
                ])
            }
            #expect(error?.data == ["id": .id(absent)])
            // Validation wins over lookups: nothing is looked up for a bad change.
            await expectError(.invalidParams, fields: ["changes.title"]) {
                try await ana.call("tasks.bulkUpdate", ["ids": [.id(absent)], "changes": ["title": " "]])
            }
            // Nothing changed, not even the tasks before the failing one.
            #expect(try await ana.getTask(a.id) == a)
            #expect(try await ana.getTask(b.id) == b)
            #expect(try await bob.getTask(bobs.id) == bobs)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func concurrentBulkUpdatesOverTheSameTasksNeitherDeadlockNorInterleave(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (user, _) = try await t.signedInUser("ana")
            let clients = (0..<8).map { _ in t.signIn(userID: user.id, username: "ana") }
            var ids: [Int64] = []
            for i in 0..<6 {
                ids.append(try await clients[0].createTask(title: "task \(i)"))
            }
            let orders: [[Int64]] = (0..<8).map { round in
                round % 2 == 0 ? ids : ids.reversed()
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for round in 0..<8 {
                    let client = clients[round]
                    let order = orders[round]
                    group.addTask {
                        _ = try await client.call("tasks.bulkUpdate", [
                            "ids": .array(order.map { .id($0) }), "changes": ["title": .string("round \(round)")],
                        ])
                    }
                }
                try await group.waitForAll()
            }
            // Each bulk update held every row until it committed: one round's title is on all.
            var titles = Set<String>()
            for id in ids {
                titles.insert(try await clients[0].getTask(id)["title"]?.stringValue ?? "")
            }
            #expect(titles.count == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func retriesWithARequestKeyApplyOnce(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            let task = try await ana.createTask(["title": "t", "tags": ["keep"]])
            let calls: [(String, JSONValue)] = [
                ("tasks.addTags", ["id": .id(task.id), "tags": ["a"], "requestKey": "add"]),
                ("tasks.removeTag", ["id": .id(task.id), "tag": "a", "requestKey": "remove"]),
                ("tasks.bulkUpdate", ["ids": [.id(task.id)], "changes": ["tags": ["b"]], "requestKey": "bulk"]),
            ]
            var firsts: [JSONValue] = []
            for (method, params) in calls {
                t.clock.advance(milliseconds: 1000)
                firsts.append(try await ana.call(method, params))
            }
            #expect(try await ana.getTask(task.id).tagList == ["b"])
            // Replayed in the same order: each answers its first result and changes nothing
            // (a second removal of "a" would be -32004, a second addition would add it again).
            for ((method, params), first) in zip(calls, firsts) {
                t.clock.advance(milliseconds: 1000)
                #expect(try await ana.call(method, params) == first, "\(method)")
            }
            #expect(try await ana.getTask(task.id).tagList == ["b"])
            #expect(try await ana.getTask(task.id)["updatedAt"] == "2026-11-25T12:00:03.000Z")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func addTagsMergesIgnoringCaseWithinTheLimit(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            let task = try await ana.createTask(["title": "t", "tags": ["work", "Urgent"]])
            t.clock.advance(milliseconds: 1000)
            let merged = try await ana.call("tasks.addTags", ["id": .id(task.id), "tags": ["URGENT", "new", " new ", "a/b", "Other"]])
            #expect(merged.tagList == ["work", "Urgent", "new", "a/b", "Other"])
            #expect(merged["updatedAt"] == "2026-11-25T12:00:01.000Z")
            // Only known tags: nothing written.
            t.clock.advance(milliseconds: 1000)
            #expect(try await ana.call("tasks.addTags", ["id": .id(task.id), "tags": ["WORK", "a/B"]]) == merged)

            // 5 + 15 = 20 fits; one more does not, and changes nothing.
            let full = try await ana.call("tasks.addTags", ["id": .id(task.id), "tags": .strings((0..<15).map { "f\($0)" })])
            #expect(full.tagList.count == 20)
            await expectError(.invalidParams, fields: ["tags"]) {
                try await ana.call("tasks.addTags", ["id": .id(task.id), "tags": ["F1", "one more"]])
            }
            #expect(try await ana.getTask(task.id) == full)
            await expectError(.notFound) { try await ana.call("tasks.addTags", ["id": 999_999, "tags": ["x"]]) }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func removeTagMatchesIgnoringCase(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (_, ana) = try await t.signedInUser("ana")
            let task = try await ana.createTask(["title": "t", "tags": ["Work", "a/b", "Straße", "home"]])
            t.clock.advance(milliseconds: 1000)
            var current = try await ana.call("tasks.removeTag", ["id": .id(task.id), "tag": " WORK "])
            #expect(current.tagList == ["a/b", "Straße", "home"])
            #expect(current["updatedAt"] == "2026-11-25T12:00:01.000Z")
            current = try await ana.call("tasks.removeTag", ["id": .id(task.id), "tag": "A/B"])
            current = try await ana.call("tasks.removeTag", ["id": .id(task.id), "tag": "STRASSE"])
            #expect(current.tagList == ["home"])
            await expectError(.notFound) { try await ana.call("tasks.removeTag", ["id": .id(task.id), "tag": "work"]) }
            await expectError(.notFound) { try await ana.call("tasks.removeTag", ["id": 999_999, "tag": "home"]) }
            #expect(try await ana.getTask(task.id) == current)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func concurrentTagAdditionsAreNeverLost(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store)
            let (user, owner) = try await t.signedInUser("ana")
            let id = try await owner.createTask(title: "contended")
            let clients = (0..<6).map { _ in t.signIn(userID: user.id, username: "ana") }
            // 26 additions race for 20 places: exactly 20 land, the others are told why.
            let outcomes = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
                for i in 0..<26 {
                    let client = clients[i % clients.count]
                    group.addTask {
                        let tag = "tag-\(i)"
                        do {
                            try await client.call("tasks.addTags", ["id": .id(id), "tags": [.string(tag)]])
                            return (tag, true)
                        } catch let error as RPCError where error.code == .invalidParams && error.fieldErrors.map(\.field) == ["tags"] {
                            return (tag, false)
                        }
                    }
                }
                var outcomes: [(String, Bool)] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            let added = Set(outcomes.filter(\.1).map(\.0))
            #expect(added.count == 20)
            let tags = try await owner.getTask(id).tagList
            #expect(Set(tags) == added)
            #expect(tags.count == 20)

            // Concurrent removals and additions on another task: every one applied.
            let other = try await owner.createTask(["title": "mixed", "tags": .strings((0..<10).map { "old-\($0)" })])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<10 {
                    let client = clients[i % clients.count]
                    group.addTask {
                        try await client.call("tasks.removeTag", ["id": .id(other.id), "tag": .string("OLD-\(i)")])
                    }
                    group.addTask {
                        try await client.call("tasks.addTags", ["id": .id(other.id), "tags": [.string("new-\(i)")]])
                    }
                }
                try await group.waitForAll()
            }
            #expect(Set(try await owner.getTask(other.id).tagList) == Set((0..<10).map { "new-\($0)" }))
        }
    }
}
