import Handlers
import JSON
import Storage
import StoreTestSupport
import Testing

/// The store's side of `faros import` (migration 11), on both backends: a batch and its map rows
/// commit together, a run resumes after the last committed source id, an account whose name or
/// address is taken is skipped with the reason, ids set aside for deleted source rows are never
/// given to a later row, and history is numbered in the event log with no audience.
@Suite struct StoreImportTargetTests {
    static let user = ImportedUser(
        username: "alice", email: "alice@example.org", emailVerified: true,
        passwordHash: "$2b$12$LAazcEPtIBiJrejYog79MOgkzrvyJgSi7BDgK2Cva8UexBWMm6knq", createdAt: StoreTestTime.t0, avatar: nil)

    @Test(arguments: TestBackend.allCases)
    func aBatchAndItsMapCommitTogetherAndARunResumesAfterIt(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let target = ImportTarget(store: sqlStore(store), source: "faros://test/faros")
            #expect(try await target.cursor(kind: "user") == 0)
            var bob = Self.user
            bob.username = "bob"
            bob.email = "bob@example.org"
            let results = try await target.write([
                .user(sourceID: 3, Self.user, note: nil),
                .skip(kind: "user", sourceID: 5, reason: "username 'x y' is not allowed"),
                .user(sourceID: 7, bob, note: "address lower-cased"),
            ], kind: "user", conflictReason: "taken")
            #expect(results == [nil, "username 'x y' is not allowed", nil])
            #expect(try await target.cursor(kind: "user") == 7)
            #expect(try await target.cursor(kind: "task") == 0)
            let map = try await target.lookup(kind: "user", sourceIDs: [3, 5, 7, 9])
            #expect(map[3]?.outcome == .imported && map[5]?.outcome == .skipped && map[7]?.note == "address lower-cased")
            #expect(map[9] == nil)
            let alice = try #require(map[3]?.farosID)
            let row = try await store.read { try $0.user(id: alice) }
            #expect(row?.username == "alice" && row?.passwordHash == Self.user.passwordHash && row?.emailVerified == true)

            // The same name in another case is taken; the map records why, and a failing batch
            // leaves neither rows nor map rows behind.
            var again = Self.user
            again.username = "ALICE"
            again.email = "other@example.org"
            let conflict = try await target.write([.user(sourceID: 8, again, note: nil)], kind: "user", conflictReason: "taken")
            #expect(conflict == ["taken"])
            #expect(try await target.lookup(kind: "user", sourceIDs: [8])[8]?.outcome == .skipped)
            let task = ImportedTask(
                ownerID: 999_999, fields: TaskFields(title: "t", description: nil, completed: false, priority: .low, dueDate: nil, tags: []),
                createdAt: StoreTestTime.t0, updatedAt: StoreTestTime.t0)
            await #expect(throws: (any Error).self) {
                _ = try await target.write([.task(sourceID: 1, task, note: nil)], kind: "task", conflictReason: "x")
            }
            #expect(try await target.cursor(kind: "task") == 0)
            let tallies = try await target.tallies()
            #expect(tallies["user"]?[.imported] == 2 && tallies["user"]?[.skipped] == 2)
            let notes = try await target.notes(limit: 10)
            #expect(notes.map(\.sourceID) == [5, 7, 8])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func setAsideIdsAreNeverReusedAndHistoryIsNumberedWithoutAudience(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let target = ImportTarget(store: sqlStore(store), source: "faros://test/faros")
            let alice = try #require(try await target.lookupAfterWriting(Self.user))
            let fields = TaskFields(title: "Kept", description: "d", completed: false, priority: .high, dueDate: DayDate("2026-12-03"), tags: ["Work", "work", "x"])
            _ = try await target.write([.task(sourceID: 1, ImportedTask(ownerID: alice, fields: fields, createdAt: StoreTestTime.t0, updatedAt: StoreTestTime.at(60)), note: nil)],
                                       kind: "task", conflictReason: "x")
            let kept = try #require(try await target.lookup(kind: "task", sourceIDs: [1])[1]?.farosID)
            let reserved = try await target.reserve(kind: "task", sourceIDs: [16])
            let gone = try #require(reserved[16])
            #expect(gone > kept)
            #expect(try await target.reserve(kind: "task", sourceIDs: [16]) == reserved)
            let later = try await store.makeTask(alice, "made after the import")
            #expect(later.id > gone)
            let task = try #require(try await store.read { try $0.task(id: kept, viewer: alice) })
            #expect(task.fields.tags == ["Work", "x"] && task.updatedAt == StoreTestTime.at(60) && task.createdAt == StoreTestTime.t0)

            let headBefore = try await sqlStore(store).headSeq()
            let history = [
                ImportedActivity(actorID: alice, action: .taskCreated, resourceID: gone, taskID: gone, details: ["title": "Temp"],
                                 data: ["id": .number(JSONNumber(gone))], createdAt: StoreTestTime.at(1)),
                ImportedActivity(actorID: alice, action: .taskDeleted, resourceID: gone, taskID: gone, details: ["title": "Temp"],
                                 data: ["id": .number(JSONNumber(gone))], createdAt: StoreTestTime.at(2)),
                ImportedActivity(actorID: alice, action: .taskUpdated, resourceID: kept, taskID: kept, details: [:],
                                 data: ["id": .number(JSONNumber(kept))], createdAt: StoreTestTime.at(3)),
            ]
            _ = try await target.write(history.enumerated().map { .activity(sourceID: Int64($0.offset + 37), $0.element) },
                                       kind: "activity", conflictReason: "x")
            let head = try await sqlStore(store).headSeq()
            #expect(head == headBefore + 3)
            let events = try await sqlStore(store).events(after: headBefore, through: head, limit: 10)
            #expect(events.map(\.type) == ["task.created", "task.deleted", "task.updated"])
            #expect(events.allSatisfy { $0.audienceSetID == nil && $0.audience.isEmpty && $0.actorUsername == "alice" })
            // Nothing is pending for the sequencer, so nothing goes out live; no replay reaches it.
            #expect(try await sqlStore(store).sequencePending(limit: 10).isEmpty)
            #expect(try await sqlStore(store).replay(userID: alice, taskIDs: nil, after: headBefore, through: head, limit: 10).isEmpty)
            let timeline = try await store.read { try $0.taskTimeline(taskID: kept, limit: 10, offset: 0) }
            #expect(timeline.items.map(\.action) == [.taskUpdated] && timeline.items.first?.createdAt == StoreTestTime.at(3))
        }
    }
}

extension ImportTarget {
    /// Imports `user` as source row 1 and returns its Faros id.
    func lookupAfterWriting(_ user: ImportedUser) async throws -> Int64? {
        _ = try await write([.user(sourceID: 1, user, note: nil)], kind: "user", conflictReason: "taken")
        return try await lookup(kind: "user", sourceIDs: [1])[1]?.farosID
    }
}
