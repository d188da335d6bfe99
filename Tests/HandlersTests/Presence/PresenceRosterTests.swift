@testable import Handlers
import JSON
import Testing

/// The roster alone: people, not sockets.
@Suite struct PresenceRosterTests {
    static func entry(_ userID: Int64, at ms: Int64, state: JSONValue = [:], changed: Int64? = nil) -> PresenceEntry {
        PresenceEntry(
            userID: userID, username: "user\(userID)", avatarURL: nil, since: Timestamp(milliseconds: ms), state: state,
            changedAt: Timestamp(milliseconds: changed ?? ms))
    }

    static func id(_ instance: String, _ connection: UInt64) -> PresenceEntry.ID {
        PresenceEntry.ID(instance: instance, connection: connection)
    }

    @Test func threeTabsAreOnePersonJoinedWithTheFirstAndLeftWithTheLast() {
        var roster = PresenceRoster()
        let first = roster.set(taskID: 7, id: Self.id("a", 1), entry: Self.entry(5, at: 100))
        guard case .joined(let joined)? = first.first, first.count == 1 else {
            Issue.record("expected one join, got \(first)")
            return
        }
        #expect(joined.sessions == 1 && joined.since.milliseconds == 100)
        // The second and third tabs (one on another instance) update the count; nobody joins again.
        #expect(roster.set(taskID: 7, id: Self.id("a", 2), entry: Self.entry(5, at: 200)).map(\.kind) == ["updated"])
        #expect(roster.set(taskID: 7, id: Self.id("b", 1), entry: Self.entry(5, at: 300)).map(\.kind) == ["updated"])
        #expect(roster.members(taskID: 7).count == 1)
        #expect(roster.member(taskID: 7, userID: 5)?.sessions == 3)
        #expect(roster.member(taskID: 7, userID: 5)?.since.milliseconds == 100)
        // The same message twice changes nothing; a removal of what is not there neither.
        #expect(roster.set(taskID: 7, id: Self.id("a", 2), entry: Self.entry(5, at: 200)).isEmpty)
        #expect(roster.remove(taskID: 7, id: Self.id("a", 9)) == nil)
        #expect(roster.remove(taskID: 8, id: Self.id("a", 1)) == nil)
        #expect(roster.remove(taskID: 7, id: Self.id("a", 1))?.kind == "updated")
        #expect(roster.remove(taskID: 7, id: Self.id("b", 1))?.kind == "updated")
        #expect(roster.remove(taskID: 7, id: Self.id("a", 2)) == .left(userID: 5))
        #expect(roster.members(taskID: 7).isEmpty && roster.taskCount == 0)
    }

    @Test func theStateShownIsTheLatestChangedSessionsAndMembersAreInJoinOrder() {
        var roster = PresenceRoster()
        _ = roster.set(taskID: 1, id: Self.id("a", 1), entry: Self.entry(9, at: 50))
        _ = roster.set(taskID: 1, id: Self.id("a", 2), entry: Self.entry(5, at: 100, state: ["typing": true], changed: 100))
        _ = roster.set(taskID: 1, id: Self.id("a", 3), entry: Self.entry(5, at: 150, state: [:], changed: 90))
        #expect(roster.member(taskID: 1, userID: 5)?.state == ["typing": true])
        let changes = roster.set(taskID: 1, id: Self.id("a", 3), entry: Self.entry(5, at: 150, state: ["draft": 1], changed: 200))
        #expect(changes.map(\.kind) == ["updated"])
        #expect(roster.member(taskID: 1, userID: 5)?.state == ["draft": 1])
        #expect(roster.members(taskID: 1).map(\.userID) == [9, 5])
        #expect(roster.userIDs(taskID: 1) == [9, 5])
    }

    @Test func aConnectionSignedInAsSomeoneElseLeavesTheFirstPerson() {
        var roster = PresenceRoster()
        _ = roster.set(taskID: 1, id: Self.id("a", 1), entry: Self.entry(5, at: 10))
        let changes = roster.set(taskID: 1, id: Self.id("a", 1), entry: Self.entry(6, at: 20))
        #expect(changes.map(\.kind) == ["left", "joined"])
        #expect(roster.members(taskID: 1).map(\.userID) == [6])
    }

    @Test func aStoppedInstanceTakesOnlyItsOwnEntries() {
        var roster = PresenceRoster()
        _ = roster.set(taskID: 1, id: Self.id("a", 1), entry: Self.entry(5, at: 10))
        _ = roster.set(taskID: 1, id: Self.id("b", 1), entry: Self.entry(5, at: 20))
        _ = roster.set(taskID: 1, id: Self.id("b", 2), entry: Self.entry(6, at: 30))
        _ = roster.set(taskID: 2, id: Self.id("b", 3), entry: Self.entry(7, at: 40))
        #expect(roster.instances == ["a", "b"])
        let changes = roster.removeInstance("b")
        #expect(changes.count == 3)
        #expect(Set(changes.map { "\($0.taskID):\($0.transition.kind)" }) == ["1:updated", "1:left", "2:left"])
        #expect(roster.members(taskID: 1).map { ($0.userID, $0.sessions) }.elementsEqual([(5, 1)], by: ==))
        #expect(roster.instances == ["a"])
    }

    @Test func wireFormatRoundTripsAndRefusesGarbage() {
        let entry = Self.entry(5, at: 1_700_000_000_123, state: ["typing": true])
        let id = Self.id("k3x9", 42)
        let message = PresenceWire.message(taskID: 12, id: id, entry: entry)
        let decoded = PresenceWire.decodeMessage(message)
        #expect(decoded?.taskID == 12 && decoded?.id == id && decoded?.entry == entry)
        let delete = PresenceWire.decodeMessage(PresenceWire.message(taskID: 12, id: id, entry: nil))
        #expect(delete?.entry == nil && delete?.id == id)
        #expect(PresenceWire.decodeEntry(PresenceWire.entryBytes(entry)) == entry)
        for garbage in ["", "{", "[]", "{\"t\":1}", "{\"t\":1,\"f\":\"nocolon\"}", "{\"t\":1,\"f\":\":5\"}",
                        "{\"t\":1,\"f\":\"a:x\"}", "{\"t\":\"1\",\"f\":\"a:1\"}", "{\"t\":1,\"f\":\"a:1\",\"e\":{\"u\":1}}",
                        "{\"t\":1,\"f\":\"a:1\",\"e\":{\"u\":1,\"n\":\"x\",\"s\":1,\"st\":[],\"c\":1}}"] {
            #expect(PresenceWire.decodeMessage(Array(garbage.utf8)) == nil, "\(garbage)")
        }
    }

    /// Web Push asks whether a device (signed-in session) is on a task: the device travels with
    /// the entry between instances, and an entry from an instance that did not send it has none.
    @Test func theDeviceTravelsWithTheEntryAndAnswersWhetherItIsOnTheTask() {
        var entry = Self.entry(5, at: 1_000)
        entry.device = "sid-laptop"
        #expect(PresenceWire.decodeEntry(PresenceWire.entryBytes(entry))?.device == "sid-laptop")
        let old = Array(#"{"u":5,"n":"user5","a":null,"s":1,"st":{},"c":1}"#.utf8)
        #expect(PresenceWire.decodeEntry(old)?.device == nil)
        var roster = PresenceRoster()
        _ = roster.set(taskID: 7, id: Self.id("b", 1), entry: entry)
        #expect(roster.hasDevice(taskID: 7, userID: 5, device: "sid-laptop"))
        #expect(!roster.hasDevice(taskID: 7, userID: 5, device: "sid-phone"))
        #expect(!roster.hasDevice(taskID: 8, userID: 5, device: "sid-laptop"))
        #expect(!roster.hasDevice(taskID: 7, userID: 6, device: "sid-laptop"))
    }
}

extension PresenceTransition {
    var kind: String {
        switch self {
        case .joined: "joined"
        case .updated: "updated"
        case .left: "left"
        }
    }
}
