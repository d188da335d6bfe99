import Handlers
import JSONRPC
import Storage
import StoreTestSupport
import Testing

/// Audience sets (docs/events.md §1a) on both backends: events of a task share one set until
/// its membership changes, however it changes, and each set is exactly the audience the event
/// must have.
@Suite struct AudienceSetTests {
    /// `audience_set_id` of every activity row after `after`, oldest first.
    static func setIDs(_ store: any Store, after: Int64) async throws -> [Int64?] {
        try await sqlStore(store).query("SELECT audience_set_id FROM activity WHERE id > $1 ORDER BY id", [.int64(after)])
            .map { try $0.optionalInt64("audience_set_id") }
    }

    static func setCount(_ store: any Store) async throws -> Int64 {
        try await sqlStore(store).query("SELECT COUNT(*) AS n FROM audience_sets")[0].int64("n")
    }

    @Test(arguments: TestBackend.allCases)
    func eventsShareOneSetUntilTheMembershipChanges(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            var mark = try await lastActivityID(store)
            let setsBefore = try await Self.setCount(store)
            try await w.viewer.call("comments.create", ["taskId": w.task, "content": "one"])
            try await w.owner.call("tasks.update", ["id": w.task, "title": "renamed"])
            try await w.editor.call("comments.create", ["taskId": w.task, "content": "two"])
            let shared = try await Self.setIDs(store, after: mark)
            #expect(shared.count == 3 && Set(shared).count == 1 && shared[0] != nil)
            // At most one new set for the three events (none when the last share's set was reused).
            #expect(try await Self.setCount(store) <= setsBefore + 1)
            #expect(try await loggedActivity(store, after: mark).allSatisfy { $0.audience == w.everyone })

            // A grant: its event and the next ones see the new member, in a new set.
            mark = try await lastActivityID(store)
            try await w.owner.call("shares.create", ["taskId": w.task, "username": "dave"])
            try await w.viewer.call("comments.create", ["taskId": w.task, "content": "three"])
            let afterGrant = try await Self.setIDs(store, after: mark)
            #expect(afterGrant[0] == afterGrant[1] && afterGrant[0] != shared[0])
            var withDave = w.everyone
            withDave[w.strangerUser.id] = "view"
            #expect(try await loggedActivity(store, after: mark).allSatisfy { $0.audience == withDave })

            // A revoke: its own set (the remaining members and the one who lost access), then a
            // set without them.
            mark = try await lastActivityID(store)
            try await w.owner.call("shares.revoke", ["taskId": w.task, "username": "dave"])
            try await w.viewer.call("comments.create", ["taskId": w.task, "content": "four"])
            let afterRevoke = try await loggedActivity(store, after: mark)
            #expect(afterRevoke.map(\.action) == ["share.revoked", "comment.created"])
            #expect(afterRevoke[0].audience == withDave && afterRevoke[1].audience == w.everyone)
            let revokeSets = try await Self.setIDs(store, after: mark)
            #expect(Set(revokeSets + afterGrant + [shared[0]]).count == 4)
        }
    }

    /// The cached set is cleared by the database itself, so a share changed by any path (here
    /// raw SQL, as an operator or a cascade would) is never missed.
    @Test(arguments: TestBackend.allCases)
    func aShareChangedOutsideTheMethodsStillGetsANewSet(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            try await w.viewer.call("comments.create", ["taskId": w.task, "content": "one"])
            try await sqlStore(store).execute(
                "DELETE FROM task_shares WHERE task_id = $1 AND user_id = $2", [.int64(w.taskID), .int64(w.editorUser.id)])
            let mark = try await lastActivityID(store)
            try await w.viewer.call("comments.create", ["taskId": w.task, "content": "two"])
            var remaining = w.everyone
            remaining[w.editorUser.id] = nil
            #expect(try await loggedActivity(store, after: mark).map(\.audience) == [remaining])
            try await sqlStore(store).execute(
                "UPDATE task_shares SET permission = 'edit' WHERE task_id = $1 AND user_id = $2", [.int64(w.taskID), .int64(w.viewerUser.id)])
            let mark2 = try await lastActivityID(store)
            try await w.owner.call("comments.create", ["taskId": w.task, "content": "three"])
            remaining[w.viewerUser.id] = "edit"
            #expect(try await loggedActivity(store, after: mark2).map(\.audience) == [remaining])
        }
    }

    /// The bus carries the set's id, not its members; a message without it still reads.
    @Test func busPayloadCarriesTheSetNotItsMembers() throws {
        let event = LoggedEvent(
            seq: 9, type: "comment.created", taskID: 4, actorID: 2, actorUsername: "ana",
            at: Timestamp(milliseconds: 1_800_000_000_000), data: ["id": 1], audience: [], audienceSetID: 77
        )
        let payload = event.busPayload
        #expect(payload.count < 200)
        #expect(LoggedEvent(busPayload: payload) == event)
        var withoutSet = event
        withoutSet.audienceSetID = nil
        withoutSet.audience = [.init(userID: 2, permission: .owner)]
        #expect(LoggedEvent(busPayload: withoutSet.busPayload) == withoutSet)
        // A set id that is not an integer is a malformed message.
        let message = #"{"seq":9,"type":"x","taskId":4,"actor":{"id":2,"username":"ana"},"at":1,"data":{},"audience":[],"audienceSet":SET}"#
        #expect(LoggedEvent(busPayload: Array(message.replacing("SET", with: "77").utf8))?.audienceSetID == 77)
        #expect(LoggedEvent(busPayload: Array(message.replacing("SET", with: "\"77\"").utf8)) == nil)
        #expect(LoggedEvent(busPayload: Array(message.replacing("SET", with: "7.5").utf8)) == nil)
    }
}
