import Handlers
import Storage
import StoreTestSupport
import Testing

/// Sessions, single-use tokens and stored call results.
@Suite struct StoreSessionTests {
    @Test(arguments: TestBackend.allCases)
    func sessionsInsertExtendDeleteAndExpire(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("bob")
            let t0 = StoreTestTime.t0
            let first = SessionRow(id: "s1", userID: alice.id, createdAt: t0, expiresAt: StoreTestTime.at(3600))
            try await store.write { tx in
                try tx.insertSession(first)
                try tx.insertSession(SessionRow(id: "s2", userID: alice.id, createdAt: t0, expiresAt: StoreTestTime.at(10)))
                try tx.insertSession(SessionRow(id: "s3", userID: alice.id, createdAt: t0, expiresAt: StoreTestTime.at(20)))
                try tx.insertSession(SessionRow(id: "b1", userID: bob.id, createdAt: t0, expiresAt: StoreTestTime.at(5)))
            }
            #expect(try await store.read { try $0.session(id: "s1") } == first)
            #expect(try await store.read { try $0.session(id: "nope") } == nil)

            #expect(try await store.write { try $0.extendSession(id: "s1", expiresAt: StoreTestTime.at(7200)) })
            #expect(try await store.read { try $0.session(id: "s1") }?.expiresAt == StoreTestTime.at(7200))
            #expect(try await store.write { try $0.extendSession(id: "nope", expiresAt: StoreTestTime.at(7200)) } == false)

            let duplicate = await storeError { try await store.write { try $0.insertSession(first) } }
            #expect(duplicate?.kind == .conflict(field: nil))

            // Expired strictly before the instant: b1 (5 s) and s2 (10 s) go, s3 (20 s) stays.
            #expect(try await store.write { try $0.deleteExpiredSessions(before: StoreTestTime.at(20)) } == 2)
            #expect(try await store.read { try $0.session(id: "s3") } != nil)

            try await store.write { try $0.insertSession(SessionRow(id: "s4", userID: alice.id, createdAt: t0, expiresAt: StoreTestTime.at(99))) }
            let revoked = try await store.write { try $0.deleteSessions(userID: alice.id, except: "s1") }
            #expect(Set(revoked) == ["s3", "s4"])
            #expect(try await store.read { try $0.session(id: "s1") } != nil)
            #expect(try await store.write { try $0.deleteSessions(userID: alice.id, except: nil) } == ["s1"])
            #expect(try await store.write { try $0.deleteSessions(userID: alice.id, except: nil) } == [])

            try await store.write { try $0.insertSession(first) }
            #expect(try await store.write { try $0.deleteSession(id: "s1") })
            #expect(try await store.write { try $0.deleteSession(id: "s1") } == false)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func oneTimeTokensAreSingleUseExpireAndReplaceEachOther(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("bob")
            @Sendable func token(_ user: UserRow, _ purpose: OneTimePurpose, _ hash: String, expires: Int64 = 1800) -> OneTimeTokenRow {
                OneTimeTokenRow(purpose: purpose, userID: user.id, tokenHash: hash, email: user.email, expiresAt: StoreTestTime.at(expires))
            }
            let reset = token(alice, .passwordReset, "hash-1")
            try await store.write { try $0.putOneTimeToken(reset) }
            // The wrong purpose does not take it.
            #expect(try await store.write { try $0.takeOneTimeToken(purpose: .emailVerification, tokenHash: "hash-1", now: StoreTestTime.t0) } == nil)
            #expect(try await store.write { try $0.takeOneTimeToken(purpose: .passwordReset, tokenHash: "hash-1", now: StoreTestTime.t0) } == reset)
            // Single use.
            #expect(try await store.write { try $0.takeOneTimeToken(purpose: .passwordReset, tokenHash: "hash-1", now: StoreTestTime.t0) } == nil)

            // A newer token of the same purpose replaces the older; other purposes and users are untouched.
            try await store.write { tx in
                try tx.putOneTimeToken(token(alice, .passwordReset, "old"))
                try tx.putOneTimeToken(token(alice, .emailVerification, "verify"))
                try tx.putOneTimeToken(token(bob, .passwordReset, "bob-reset"))
                try tx.putOneTimeToken(token(alice, .passwordReset, "new"))
            }
            #expect(try await store.write { try $0.takeOneTimeToken(purpose: .passwordReset, tokenHash: "old", now: StoreTestTime.t0) } == nil)
            #expect(try await store.write { try $0.takeOneTimeToken(purpose: .passwordReset, tokenHash: "new", now: StoreTestTime.t0) }?.userID == alice.id)
            #expect(try await store.write { try $0.takeOneTimeToken(purpose: .emailVerification, tokenHash: "verify", now: StoreTestTime.t0) }?.email == alice.email)

            // Expiry: valid up to and including its instant; an expired one is deleted as it is refused.
            try await store.write { try $0.putOneTimeToken(token(alice, .passwordReset, "edge", expires: 60)) }
            #expect(try await store.write { try $0.takeOneTimeToken(purpose: .passwordReset, tokenHash: "edge", now: StoreTestTime.at(60)) } != nil)
            try await store.write { try $0.putOneTimeToken(token(alice, .passwordReset, "late", expires: 60)) }
            #expect(try await store.write { try $0.takeOneTimeToken(purpose: .passwordReset, tokenHash: "late", now: StoreTestTime.at(61)) } == nil)
            let left = try await sqlStore(store).query("SELECT COUNT(*) AS n FROM one_time_tokens WHERE token_hash = $1", [.text("late")])
            #expect(try left[0].int("n") == 0)

            try await store.write { try $0.deleteOneTimeTokens(userID: bob.id, purpose: .passwordReset) }
            #expect(try await store.write { try $0.takeOneTimeToken(purpose: .passwordReset, tokenHash: "bob-reset", now: StoreTestTime.t0) } == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func concurrentTakersOfOneTokenGetItOnce(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            for round in 0..<5 {
                let hash = "race-\(round)"
                try await store.write { try $0.putOneTimeToken(OneTimeTokenRow(purpose: .passwordReset, userID: alice.id, tokenHash: hash, email: alice.email, expiresAt: StoreTestTime.at(60))) }
                let taken = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for _ in 0..<6 {
                        group.addTask {
                            try await store.write { try $0.takeOneTimeToken(purpose: .passwordReset, tokenHash: hash, now: StoreTestTime.t0) } != nil
                        }
                    }
                    var wins = 0
                    for try await won in group where won { wins += 1 }
                    return wins
                }
                #expect(taken == 1)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func storedResultsAreFoundSinceTheirInstantAndConflictOnRepeat(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("bob")
            let stored = StoredResult(method: "tasks.create", result: #"{"id":1,"title":"ü \"q\""}"#, createdAt: StoreTestTime.t0)
            try await store.write { try $0.saveResult(userID: alice.id, requestKey: "key-1", result: stored) }
            #expect(try await store.read { try $0.storedResult(userID: alice.id, requestKey: "key-1", since: StoreTestTime.t0) } == stored)
            #expect(try await store.read { try $0.storedResult(userID: alice.id, requestKey: "key-1", since: StoreTestTime.at(1)) } == nil)
            #expect(try await store.read { try $0.storedResult(userID: bob.id, requestKey: "key-1", since: StoreTestTime.at(-1)) } == nil)
            #expect(try await store.read { try $0.storedResult(userID: alice.id, requestKey: "KEY-1", since: StoreTestTime.at(-1)) } == nil)

            let repeated = await storeError {
                try await store.write { try $0.saveResult(userID: alice.id, requestKey: "key-1", result: stored) }
            }
            #expect(repeated?.kind == .conflict(field: "requestKey"))
            // Keys are per user.
            try await store.write { try $0.saveResult(userID: bob.id, requestKey: "key-1", result: stored) }

            try await store.write { try $0.saveResult(userID: alice.id, requestKey: "key-2", result: StoredResult(method: "m", result: "{}", createdAt: StoreTestTime.at(100))) }
            #expect(try await store.write { try $0.deleteStoredResults(before: StoreTestTime.at(100)) } == 2)
            #expect(try await store.read { try $0.storedResult(userID: alice.id, requestKey: "key-2", since: StoreTestTime.t0) } != nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func concurrentSavesOfOneKeyLetOneWinAndTheOthersConflict(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let outcomes = try await withThrowingTaskGroup(of: StoreError?.self) { group in
                for attempt in 0..<8 {
                    group.addTask {
                        await storeError {
                            try await store.write { tx in
                                _ = try tx.insertTask(owner: alice.id, fields: TaskFields(title: "t\(attempt)", description: nil, completed: false, priority: .low, dueDate: nil, tags: []), at: StoreTestTime.t0)
                                try tx.saveResult(userID: alice.id, requestKey: "same", result: StoredResult(method: "tasks.create", result: "\(attempt)", createdAt: StoreTestTime.t0))
                            }
                        }
                    }
                }
                var all: [StoreError?] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            #expect(outcomes.filter { $0 == nil }.count == 1)
            #expect(outcomes.compactMap { $0 }.allSatisfy { $0.kind == .conflict(field: "requestKey") })
            // The losers rolled back: one task only.
            #expect(try await store.list(alice.id).total == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aBodysOwnErrorRollsBackAndComesOutUnchanged(_ backend: TestBackend) async throws {
        struct Marker: Error {}
        try await withStore(backend) { store throws in
            await #expect(throws: Marker.self) {
                try await store.write { tx in
                    _ = try tx.insertUser(NewUser(username: "ghost", email: "ghost@example.com", passwordHash: "h", createdAt: StoreTestTime.t0))
                    throw Marker()
                }
            }
            #expect(try await store.read { try $0.user(login: "ghost") } == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func readsCannotWrite(_ backend: TestBackend) async throws {
        try await withStore(backend) { store throws in
            let error = await storeError {
                _ = try await store.read { reader in
                    try (reader as! any StoreWriter).insertUser(NewUser(username: "x", email: "x@example.com", passwordHash: "h", createdAt: StoreTestTime.t0))
                }
            }
            #expect(error?.kind == .failure)
            #expect(try await store.read { try $0.user(login: "x") } == nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aClosedStoreIsUnavailable(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            _ = try await store.makeUser("alice")
            await store.close()
            let read = await storeError { _ = try await store.read { try $0.user(id: 1) } }
            #expect(read?.kind == .unavailable)
            let write = await storeError { _ = try await store.makeUser("bob") }
            #expect(write?.kind == .unavailable)
        }
    }
}
