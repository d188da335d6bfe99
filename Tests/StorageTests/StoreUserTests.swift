import Handlers
import Storage
import StoreTestSupport
import Testing

/// Users: insert, look-ups, case-insensitive uniqueness, search, update, delete.
@Suite struct StoreUserTests {
    @Test(arguments: TestBackend.allCases)
    func insertedUserReadsBackByIDLoginAndEmail(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let user = try await store.makeUser("Alice")
            #expect(user.id > 0)
            #expect(user.username == "Alice")
            #expect(user.email == "alice@example.com")
            #expect(user.emailVerified == false)
            #expect(user.avatarETag == nil)
            #expect(user.createdAt == StoreTestTime.t0)
            #expect(try await store.read { try $0.user(id: user.id) } == user)
            for login in ["Alice", "alice", "ALICE", "alice@example.com", "ALICE@Example.COM"] {
                #expect(try await store.read { try $0.user(login: login) } == user, "login \(login)")
            }
            #expect(try await store.read { try $0.user(email: "alice@example.com") } == user)
            #expect(try await store.read { try $0.user(login: "alic") } == nil)
            #expect(try await store.read { try $0.user(id: user.id + 1) } == nil)
            #expect(try await store.read { try $0.user(email: "bob@example.com") } == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func usernamesAreUniqueIgnoringCaseWithFullFolding(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            _ = try await store.makeUser("Strasse", email: "a@example.com")
            for taken in ["strasse", "STRASSE", "Straße", "STRAßE"] {
                let error = await storeError { _ = try await store.makeUser(taken, email: "\(taken.utf8.count)-\(taken.hashValue)@example.com") }
                #expect(error?.kind == .conflict(field: "username"), "\(taken)")
            }
            let error = await storeError { _ = try await store.makeUser("Other", email: "a@example.com") }
            #expect(error?.kind == .conflict(field: "email"))
            // The failed inserts left nothing behind and the transaction-level state is clean.
            let count = try await sqlStore(store).query("SELECT COUNT(*) AS n FROM users")[0].int("n")
            #expect(count == 1)
            #expect(try await store.read { try $0.user(login: "STRASSE") }?.username == "Strasse")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func conflictLeavesTheTransactionUsable(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            _ = try await store.makeUser("taken")
            let other: UserRow = try await store.write { tx in
                do {
                    _ = try tx.insertUser(NewUser(username: "TAKEN", email: "x@example.com", passwordHash: "h", createdAt: StoreTestTime.t0))
                    Issue.record("expected a conflict")
                } catch let error as StoreError {
                    #expect(error.kind == .conflict(field: "username"))
                }
                return try tx.insertUser(NewUser(username: "free", email: "x@example.com", passwordHash: "h", createdAt: StoreTestTime.t0))
            }
            #expect(try await store.read { try $0.user(id: other.id) }?.username == "free")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func concurrentDuplicateRegistrationsLetExactlyOneWin(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            for round in 0..<5 {
                let outcomes = try await withThrowingTaskGroup(of: StoreError?.self) { group in
                    for attempt in 0..<8 {
                        group.addTask {
                            await storeError {
                                // Same name in different cases, different emails.
                                let name = attempt.isMultiple(of: 2) ? "racer\(round)" : "RACER\(round)"
                                _ = try await store.makeUser(name, email: "r\(round)-\(attempt)@example.com")
                            }
                        }
                    }
                    var all: [StoreError?] = []
                    for try await outcome in group { all.append(outcome) }
                    return all
                }
                #expect(outcomes.filter { $0 == nil }.count == 1)
                #expect(outcomes.compactMap { $0 }.allSatisfy { $0.kind == .conflict(field: "username") })
            }
            let emailOutcomes = try await withThrowingTaskGroup(of: StoreError?.self) { group in
                for attempt in 0..<8 {
                    group.addTask {
                        await storeError { _ = try await store.makeUser("mail\(attempt)", email: "same@example.com") }
                    }
                }
                var all: [StoreError?] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            #expect(emailOutcomes.filter { $0 == nil }.count == 1)
            #expect(emailOutcomes.compactMap { $0 }.allSatisfy { $0.kind == .conflict(field: "email") })
        }
    }

    @Test(arguments: TestBackend.allCases)
    func updateRewritesNameEmailAndVerificationWithConflicts(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            _ = try await store.makeUser("bob")
            let updated = try await store.write { try $0.updateUser(id: alice.id, username: "Alicia", email: "alicia@example.com", emailVerified: true) }
            #expect(updated?.username == "Alicia")
            #expect(updated?.email == "alicia@example.com")
            #expect(updated?.emailVerified == true)
            #expect(updated?.passwordHash == alice.passwordHash)
            #expect(try await store.read { try $0.user(login: "ALICIA") }?.id == alice.id)
            #expect(try await store.read { try $0.user(login: "alice") } == nil)
            // Own name in another case is not a conflict.
            let recased = try await store.write { try $0.updateUser(id: alice.id, username: "ALICIA", email: "alicia@example.com", emailVerified: true) }
            #expect(recased?.username == "ALICIA")
            let nameTaken = await storeError { _ = try await store.write { try $0.updateUser(id: alice.id, username: "BOB", email: "alicia@example.com", emailVerified: true) } }
            #expect(nameTaken?.kind == .conflict(field: "username"))
            let emailTaken = await storeError { _ = try await store.write { try $0.updateUser(id: alice.id, username: "alicia", email: "bob@example.com", emailVerified: true) } }
            #expect(emailTaken?.kind == .conflict(field: "email"))
            #expect(try await store.write { try $0.updateUser(id: 999_999, username: "ghost", email: "ghost@example.com", emailVerified: false) } == nil)
            try await store.write { try $0.setPasswordHash(userID: alice.id, hash: "$y$new") }
            #expect(try await store.read { try $0.user(id: alice.id) }?.passwordHash == "$y$new")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func searchIsLiteralPrefixFirstThenByFoldedNameAndID(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let me = try await store.makeUser("annie")
            let names = ["Anna", "joanna", "ann_x", "xann", "ANNE", "bob", "a%nn", "Zann", "ann"]
            var ids: [String: Int64] = [:]
            for name in names { ids[name] = try await store.makeUser(name).id }
            let found = try await store.read { try $0.searchUsers(queryFolded: "ann", excluding: me.id, limit: 50) }
            // Prefix group (folded: ann, ann_x, anna, anne), then substrings (joanna, xann, zann).
            #expect(found.map(\.username) == ["ann", "ann_x", "Anna", "ANNE", "joanna", "xann", "Zann"])
            #expect(found.first?.id == ids["ann"])
            let limited = try await store.read { try $0.searchUsers(queryFolded: "ann", excluding: me.id, limit: 2) }
            #expect(limited.map(\.username) == ["ann", "ann_x"])
            // Wildcards are ordinary characters.
            #expect(try await store.read { try $0.searchUsers(queryFolded: "_", excluding: me.id, limit: 50) }.map(\.username) == ["ann_x"])
            #expect(try await store.read { try $0.searchUsers(queryFolded: "%", excluding: me.id, limit: 50) }.map(\.username) == ["a%nn"])
            #expect(try await store.read { try $0.searchUsers(queryFolded: "'", excluding: me.id, limit: 50) }.isEmpty)
            #expect(try await store.read { try $0.searchUsers(queryFolded: "\\", excluding: me.id, limit: 50) }.isEmpty)
            #expect(try await store.read { try $0.searchUsers(queryFolded: "annie", excluding: me.id, limit: 50) }.isEmpty)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func deleteUserCascadesAndKeepsAuthoredRowsElsewhere(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("bob")
            let aliceTask = try await store.makeTask(alice.id, "Alice's", tags: ["x", "y"])
            let bobTask = try await store.makeTask(bob.id, "Bob's", tags: ["x"])
            try await insertShare(store, taskID: aliceTask.id, userID: bob.id, sharedBy: alice.id)
            try await insertShare(store, taskID: bobTask.id, userID: alice.id, permission: .edit, sharedBy: bob.id)
            let bobSharesWith = try await store.makeUser("carol")
            try await insertShare(store, taskID: bobTask.id, userID: bobSharesWith.id, sharedBy: alice.id)
            try await insertComment(store, taskID: aliceTask.id, authorID: bob.id)
            let kept = try await insertComment(store, taskID: bobTask.id, authorID: alice.id)
            try await store.write { tx in
                try tx.insertSession(SessionRow(id: "s-alice", userID: alice.id, createdAt: StoreTestTime.t0, expiresAt: StoreTestTime.at(3600)))
                try tx.putOneTimeToken(OneTimeTokenRow(purpose: .passwordReset, userID: alice.id, tokenHash: "h-alice", email: alice.email, expiresAt: StoreTestTime.at(60)))
                try tx.saveResult(userID: alice.id, requestKey: "k", result: StoredResult(method: "tasks.create", result: "{}", createdAt: StoreTestTime.t0))
            }

            #expect(try await store.write { try $0.deleteUser(id: alice.id) })
            #expect(try await store.write { try $0.deleteUser(id: alice.id) } == false)

            #expect(try await store.read { try $0.user(id: alice.id) } == nil)
            #expect(try await store.read { try $0.session(id: "s-alice") } == nil)
            #expect(try await store.read { try $0.task(id: aliceTask.id, viewer: bob.id) } == nil)
            let sql = sqlStore(store)
            func count(_ text: String, _ id: Int64) async throws -> Int { try await sql.query(text, [.int64(id)])[0].int("n") }
            #expect(try await count("SELECT COUNT(*) AS n FROM one_time_tokens WHERE user_id = $1", alice.id) == 0)
            #expect(try await count("SELECT COUNT(*) AS n FROM request_results WHERE user_id = $1", alice.id) == 0)
            #expect(try await count("SELECT COUNT(*) AS n FROM task_tags WHERE task_id = $1", aliceTask.id) == 0)
            #expect(try await count("SELECT COUNT(*) AS n FROM comments WHERE task_id = $1", aliceTask.id) == 0)
            #expect(try await count("SELECT COUNT(*) AS n FROM task_shares WHERE task_id = $1", aliceTask.id) == 0)
            // Alice's share of Bob's task is gone; Carol's share (granted by Alice) stays unattributed.
            #expect(try await count("SELECT COUNT(*) AS n FROM task_shares WHERE user_id = $1", alice.id) == 0)
            let carolShare = try await sql.query("SELECT shared_by FROM task_shares WHERE user_id = $1", [.int64(bobSharesWith.id)])
            #expect(carolShare.count == 1)
            #expect(try carolShare[0].isNull("shared_by"))
            // Alice's comment on Bob's task stays, with no author.
            let comment = try await sql.query("SELECT author_id FROM comments WHERE id = $1", [.int64(kept)])
            #expect(comment.count == 1)
            #expect(try comment[0].isNull("author_id"))
            // Bob's own task is untouched, and its share count dropped by Alice's share.
            let bobView = try await store.read { try $0.task(id: bobTask.id, viewer: bob.id) }
            #expect(bobView?.shareCount == 1)
            #expect(bobView?.fields.tags == ["x"])
        }
    }
}
