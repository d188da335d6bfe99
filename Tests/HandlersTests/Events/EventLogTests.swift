@testable import Handlers
import JSONRPC
import Storage
import StoreTestSupport
import Testing

/// Writes one event-log row and its audience as a change would (raw SQL: the tests of the log
/// do not depend on the handlers that write it); returns its insertion id.
@discardableResult
func insertActivityRow(
    _ store: any Store, action: String = "comment.created", resourceType: String = "comment", taskID: Int64? = 7,
    actorID: Int64? = nil, data: String = "{\"id\":1}", audience: [(Int64, Permission)] = [],
    at: Timestamp = Timestamp(milliseconds: 1_800_000_000_000)
) async throws -> Int64 {
    try await sqlStore(store).write(connection: { connection in
        let id = try connection.query(
            SQLStatement(
                """
                INSERT INTO activity (actor_id, actor_username, action, resource_type, resource_id, task_id, details, data, created_at)
                VALUES ($1, 'ana', $2, $3, 1, $4, '{}', $5, $6) RETURNING id
                """),
            [actorID.map { .int64($0) } ?? .null, .text(action), .text(resourceType), taskID.map { .int64($0) } ?? .null,
             .text(data), .int64(at.milliseconds)]
        )[0].int64("id")
        guard !audience.isEmpty else { return id }
        let setID = try connection.query(
            SQLStatement("INSERT INTO audience_sets (task_id) VALUES ($1) RETURNING id"), [taskID.map { .int64($0) } ?? .null]
        )[0].int64("id")
        for (user, permission) in audience {
            try connection.execute(
                SQLStatement("INSERT INTO audience_members (set_id, user_id, permission) VALUES ($1, $2, $3)"),
                [.int64(setID), .int64(user), .text(permission.rawValue)])
        }
        try connection.execute(SQLStatement("UPDATE activity SET audience_set_id = $1 WHERE id = $2"), [.int64(setID), .int64(id)])
        return id
    })
}

/// Users 1…n straight into the store, for audience foreign keys.
func insertUsers(_ store: any Store, count: Int) async throws -> [Int64] {
    try await store.write { tx in
        try (1...count).map { index in
            try tx.insertUser(NewUser(username: "user\(index)", email: "user\(index)@example.test", passwordHash: "$y$x",
                                      createdAt: Timestamp(milliseconds: 1_800_000_000_000))).id
        }
    }
}

@Suite struct EventLogTests {
    @Test(arguments: TestBackend.allCases)
    func entriesAreNumberedAfterCommitGapFreeInInsertionOrder(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let users = try await insertUsers(store, count: 2)
            #expect(try await store.headSeq() == 0)
            #expect(try await store.sequencePending(limit: 10).isEmpty)
            for index in 1...5 {
                try await insertActivityRow(store, data: "{\"n\":\(index)}", audience: [(users[0], .owner), (users[1], .view)])
            }
            let first = try await store.sequencePending(limit: 3)
            #expect(first.map(\.seq) == [1, 2, 3])
            #expect(first.map { $0.data["n"] } == [1, 2, 3])
            // Entries name their audience set; numbering reads the batch's members along (one
            // statement), so the bus message carries them; read back from the log, only the id.
            let members: [LoggedEvent.Recipient] = [.init(userID: users[0], permission: .owner), .init(userID: users[1], permission: .view)]
            #expect(first.allSatisfy { $0.audience == members })
            #expect(try await store.events(after: 0, through: 3, limit: 10).allSatisfy { $0.audience.isEmpty && $0.audienceSetID != nil })
            let setID = try #require(first[0].audienceSetID)
            #expect(Set(first.compactMap(\.audienceSetID)).count == 3)
            #expect(try await store.audience(setID: setID) == [.init(userID: users[0], permission: .owner), .init(userID: users[1], permission: .view)])
            #expect(try await store.audience(setID: setID + 1000).isEmpty)
            #expect(first[0].type == "comment.created" && first[0].taskID == 7 && first[0].actorUsername == "ana")
            let rest = try await store.sequencePending(limit: 10)
            #expect(rest.map(\.seq) == [4, 5])
            #expect(try await store.headSeq() == 5)
            #expect(try await store.events(after: 1, through: 4, limit: 10).map(\.seq) == [2, 3, 4])
            #expect(try await store.events(after: 0, through: 5, limit: 2).map(\.seq) == [1, 2])
            #expect(try await store.eventTime(seq: 3) == Timestamp(milliseconds: 1_800_000_000_000))
            #expect(try await store.eventTime(seq: 6) == nil)
        }
    }

    /// Members go along with numbered events up to a bound per batch; a set that does not fit
    /// (or comes after one that did not) keeps only its id, for the dispatchers to read.
    @Test(arguments: TestBackend.allCases)
    func numberingAttachesAudiencesUpToItsBound(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let users = try await insertUsers(store, count: 2_001)
            try await insertActivityRow(store, audience: [(users[0], .owner), (users[1], .edit)])
            try await insertActivityRow(store, audience: users.map { ($0, .view) })
            try await insertActivityRow(store, audience: [(users[2], .owner)])
            try await insertActivityRow(store, action: "task.updated", audience: [])
            let events = try await store.sequencePending(limit: 10)
            #expect(events.count == 4)
            #expect(events[0].audience == [.init(userID: users[0], permission: .owner), .init(userID: users[1], permission: .edit)])
            #expect(events[1].audience.isEmpty && events[1].audienceSetID != nil)
            #expect(events[2].audience.isEmpty && events[2].audienceSetID != nil)
            #expect(events[3].audience.isEmpty && events[3].audienceSetID == nil)
            #expect(try await store.audience(setID: try #require(events[1].audienceSetID)).count == 2_001)
            // Round trip through the bus message.
            #expect(LoggedEvent(busPayload: events[0].busPayload)?.audience == events[0].audience)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func concurrentSequencersNeverHandOutANumberTwiceOrSkipOne(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let writers = 8, perWriter = 25
            let numbered = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for _ in 0..<writers {
                    group.addTask {
                        var seen: [Int64] = []
                        for _ in 0..<perWriter {
                            try await insertActivityRow(store)
                            seen += try await store.sequencePending(limit: 7).map(\.seq)
                        }
                        return seen
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let leftovers = try await store.sequencePending(limit: 1000).map(\.seq)
            let all = (numbered + leftovers).sorted()
            #expect(all == Array(1...Int64(writers * perWriter)))
            #expect(try await store.headSeq() == Int64(writers * perWriter))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func replayIsByRecipientAndTopicAndLeavesInternalEntriesOut(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let users = try await insertUsers(store, count: 3)
            let (ana, ben, cy) = (users[0], users[1], users[2])
            try await insertActivityRow(store, taskID: 7, audience: [(ana, .owner), (ben, .view)])          // 1
            try await insertActivityRow(store, taskID: 8, audience: [(ana, .owner)])                        // 2
            try await insertActivityRow(store, action: LoggedEvent.sessionRevoked, resourceType: "session",
                                        taskID: nil, audience: [(ben, .view)])                              // 3
            try await insertActivityRow(store, taskID: 9, audience: [(ben, .edit), (cy, .owner)])           // 4
            try await insertActivityRow(store, taskID: 7, audience: [(ana, .owner), (ben, .view)])          // 5
            _ = try await store.sequencePending(limit: 10)
            let forBen = try await store.replay(userID: ben, taskIDs: nil, after: 0, through: 5, limit: 10)
            #expect(forBen.map(\.seq) == [1, 4, 5])
            #expect(forBen.map(\.audience) == [[.init(userID: ben, permission: .view)], [.init(userID: ben, permission: .edit)],
                                               [.init(userID: ben, permission: .view)]])
            #expect(try await store.replay(userID: ben, taskIDs: [7], after: 0, through: 5, limit: 10).map(\.seq) == [1, 5])
            #expect(try await store.replay(userID: ben, taskIDs: [7, 9], after: 1, through: 4, limit: 10).map(\.seq) == [4])
            #expect(try await store.replay(userID: ana, taskIDs: nil, after: 0, through: 5, limit: 2).map(\.seq) == [1, 2])
            #expect(try await store.replay(userID: cy, taskIDs: [7], after: 0, through: 5, limit: 10).isEmpty)
            // The global range (what instances fill gaps from) has every entry, internal ones too.
            #expect(try await store.events(after: 0, through: 5, limit: 10).map(\.type).contains(LoggedEvent.sessionRevoked))
        }
    }
}
