import Handlers
import Storage
import StoreTestSupport
import Testing

/// Tasks one at a time: insert, get, permissions through shares, update, lock, delete.
@Suite struct StoreTaskTests {
    @Test(arguments: TestBackend.allCases)
    func insertedTaskReadsBackAsTheOwnerSeesIt(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("Alice")
            let fields = TaskFields(
                title: "Écrire « l'été » 日本 😀 % _ ' \\",
                description: "Line one\nline\ttwo",
                completed: true,
                priority: .high,
                dueDate: DayDate("2026-12-31"),
                tags: ["Zeta", "alpha", "Ünïcode", "with space"]
            )
            let created = try await store.write { try $0.insertTask(owner: alice.id, fields: fields, at: StoreTestTime.t0) }
            #expect(created.id > 0)
            #expect(created.ownerID == alice.id)
            #expect(created.ownerUsername == "Alice")
            #expect(created.fields == fields)
            #expect(created.createdAt == StoreTestTime.t0)
            #expect(created.updatedAt == StoreTestTime.t0)
            #expect(created.permission == .owner)
            #expect(created.shareCount == 0)
            #expect(try await store.read { try $0.task(id: created.id, viewer: alice.id) } == created)

            let minimal = try await store.makeTask(alice.id, "Bare", priority: .low)
            let read = try await store.read { try $0.task(id: minimal.id, viewer: alice.id) }
            #expect(read?.fields == TaskFields(title: "Bare", description: nil, completed: false, priority: .low, dueDate: nil, tags: []))
            #expect(minimal.id > created.id)

            let tagRows = try await sqlStore(store).query(
                "SELECT position, tag, tag_folded FROM task_tags WHERE task_id = $1 ORDER BY position", [.int64(created.id)]
            )
            #expect(try tagRows.map { try $0.string("tag") } == fields.tags)
            #expect(try tagRows.map { try $0.string("tag_folded") } == fields.tags.map(TextRules.fold))
            #expect(try tagRows.map { try $0.int("position") } == [0, 1, 2, 3])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func tagsBeyondOneStatementAndCaseDuplicatesAreHandled(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let many = (0..<45).map { "tag-\($0)" }
            let task = try await store.makeTask(alice.id, "Many", tags: many)
            #expect(try await store.read { try $0.task(id: task.id, viewer: alice.id) }?.fields.tags == many)
            let count = try await sqlStore(store).query("SELECT COUNT(*) AS n FROM task_tags WHERE task_id = $1", [.int64(task.id)])
            #expect(try count[0].int("n") == 45)

            // TaskFields promises distinct tags; a caller that breaks it keeps the first spelling.
            let dup = try await store.makeTask(alice.id, "Dup", tags: ["Work", "work", "WORK", "home"])
            #expect(dup.fields.tags == ["Work", "home"])
            #expect(try await store.read { try $0.task(id: dup.id, viewer: alice.id) }?.fields.tags == ["Work", "home"])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func othersSeeATaskOnlyThroughAShareWithItsPermission(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("bob")
            let carol = try await store.makeUser("carol")
            let task = try await store.makeTask(alice.id, "Shared")
            #expect(try await store.read { try $0.task(id: task.id, viewer: bob.id) } == nil)
            #expect(try await store.write { try $0.lockTask(id: task.id, viewer: bob.id) } == nil)
            #expect(try await store.read { try $0.task(id: task.id + 1000, viewer: alice.id) } == nil)

            try await insertShare(store, taskID: task.id, userID: bob.id, permission: .view, sharedBy: alice.id)
            try await insertShare(store, taskID: task.id, userID: carol.id, permission: .edit, sharedBy: alice.id)
            let asBob = try await store.read { try $0.task(id: task.id, viewer: bob.id) }
            #expect(asBob?.permission == .view)
            #expect(asBob?.shareCount == 2)
            #expect(asBob?.ownerUsername == "alice")
            #expect(try await store.write { try $0.lockTask(id: task.id, viewer: carol.id) }?.permission == .edit)
            let asAlice = try await store.read { try $0.task(id: task.id, viewer: alice.id) }
            #expect(asAlice?.permission == .owner)
            #expect(asAlice?.shareCount == 2)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func updateRewritesFieldsAndTagsForViewersWhoSeeIt(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("bob")
            let eve = try await store.makeUser("eve")
            let task = try await store.makeTask(alice.id, "Before", description: "old", due: "2026-01-01", tags: ["a", "b", "c"])
            try await insertShare(store, taskID: task.id, userID: bob.id, permission: .edit)

            let changed = TaskFields(title: "After", description: nil, completed: true, priority: .low, dueDate: nil, tags: ["C", "d"])
            let updated = try await store.write { try $0.updateTask(id: task.id, fields: changed, at: StoreTestTime.at(60), viewer: bob.id) }
            #expect(updated?.fields == changed)
            #expect(updated?.permission == .edit)
            #expect(updated?.shareCount == 1)
            #expect(updated?.ownerID == alice.id)
            #expect(updated?.ownerUsername == "alice")
            #expect(updated?.createdAt == StoreTestTime.t0)
            #expect(updated?.updatedAt == StoreTestTime.at(60))
            let reread = try await store.read { try $0.task(id: task.id, viewer: alice.id) }
            #expect(reread?.fields == changed)
            #expect(reread?.updatedAt == StoreTestTime.at(60))
            let tags = try await sqlStore(store).query("SELECT tag, tag_folded FROM task_tags WHERE task_id = $1 ORDER BY position", [.int64(task.id)])
            #expect(try tags.map { try $0.string("tag") } == ["C", "d"])
            #expect(try tags.map { try $0.string("tag_folded") } == ["c", "d"])

            // Someone who cannot see it changes nothing and learns nothing.
            let blocked = TaskFields(title: "Hijacked", description: nil, completed: false, priority: .high, dueDate: nil, tags: [])
            #expect(try await store.write { try $0.updateTask(id: task.id, fields: blocked, at: StoreTestTime.at(120), viewer: eve.id) } == nil)
            #expect(try await store.write { try $0.updateTask(id: 999_999, fields: blocked, at: StoreTestTime.at(120), viewer: alice.id) } == nil)
            #expect(try await store.read { try $0.task(id: task.id, viewer: alice.id) }?.fields.title == "After")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func deleteTaskTakesItsTagsSharesAndCommentsAlong(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("bob")
            let task = try await store.makeTask(alice.id, "Doomed", tags: ["x"])
            let other = try await store.makeTask(alice.id, "Kept", tags: ["x"])
            try await insertShare(store, taskID: task.id, userID: bob.id)
            try await insertComment(store, taskID: task.id, authorID: bob.id)
            try await insertComment(store, taskID: other.id, authorID: bob.id)
            #expect(try await store.write { try $0.deleteTask(id: task.id) })
            #expect(try await store.write { try $0.deleteTask(id: task.id) } == false)
            #expect(try await store.read { try $0.task(id: task.id, viewer: alice.id) } == nil)
            let sql = sqlStore(store)
            for table in ["task_tags", "task_shares", "comments"] {
                let rows = try await sql.query("SELECT COUNT(*) AS n FROM \(table) WHERE task_id = $1", [.int64(task.id)])
                #expect(try rows[0].int("n") == 0, "\(table)")
            }
            #expect(try await store.read { try $0.task(id: other.id, viewer: alice.id) }?.fields.tags == ["x"])
            #expect(try await store.read { try $0.taskStats(owner: bob.id, today: StoreTestTime.today) }.commentsPosted == 1)
        }
    }

    /// Read-modify-write under `lockTask` loses no concurrent change: every increment lands.
    @Test(arguments: TestBackend.allCases)
    func lockedReadModifyWriteLosesNoUpdate(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let task = try await store.makeTask(alice.id, "counter")
            let writers = 12
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<writers {
                    group.addTask {
                        _ = try await store.write { tx in
                            guard var current = try tx.lockTask(id: task.id, viewer: alice.id) else { throw StoreError(.failure) }
                            current.fields.tags.append("w\(index)")
                            current.fields.title += "+"
                            return try tx.updateTask(id: task.id, fields: current.fields, at: StoreTestTime.at(Int64(index)), viewer: alice.id)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let final = try await store.read { try $0.task(id: task.id, viewer: alice.id) }
            #expect(final?.fields.title == "counter" + String(repeating: "+", count: writers))
            #expect(Set(final?.fields.tags ?? []) == Set((0..<writers).map { "w\($0)" }))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func rawUniqueViolationsNameTheirAPIField(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let sql = sqlStore(store)
            let insertUser = "INSERT INTO users (username, username_folded, email, email_verified, password_hash, created_at) VALUES ($1, $2, $3, $4, 'h', 0)"
            let name = await storeError { try await sql.execute(insertUser, [.text("ALICE"), .text("alice"), .text("new@example.com"), .bool(false)]) }
            #expect(name?.kind == .conflict(field: "username"))
            let email = await storeError { try await sql.execute(insertUser, [.text("new"), .text("new"), .text("alice@example.com"), .bool(false)]) }
            #expect(email?.kind == .conflict(field: "email"))
            let insertResult = "INSERT INTO request_results (user_id, request_key, method, result, created_at) VALUES ($1, 'k', 'm', '{}', 0)"
            try await sql.execute(insertResult, [.int64(alice.id)])
            let key = await storeError { try await sql.execute(insertResult, [.int64(alice.id)]) }
            #expect(key?.kind == .conflict(field: "requestKey"))
            // Not a uniqueness problem: a failure, never a conflict.
            let foreignKey = await storeError { try await sql.execute(insertResult.replacing("'k'", with: "'k2'"), [.int64(alice.id + 99)]) }
            #expect(foreignKey?.kind == .failure)
        }
    }
}
