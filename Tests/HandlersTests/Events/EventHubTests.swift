@testable import Handlers
import JSON
import JSONRPC
import Logging
import Synchronization
import Testing
import SystemTime

/// Notifications one client received, parsed back.
final class NotificationSink: Sendable {
    private let received = Mutex<[(method: String, params: JSONValue)]>([])

    func append(_ method: String, _ params: JSONValue) {
        self.received.withLock { $0.append((method, params)) }
    }

    /// The `event` notifications' params, in arrival order.
    var events: [JSONValue] { self.received.withLock { $0.filter { $0.method == "event" }.map(\.params) } }
    var seqs: [Int64] { self.events.compactMap { $0["seq"]?.numberValue?.int64 } }
    var methods: [String] { self.received.withLock { $0.map(\.method) } }
}

/// A connection of `user` as the domain sees it, with its notifications recorded. Events go
/// through the serialized path, as on the server.
func recordingClient(_ connectionID: UInt64, user: Int64? = nil, username: String = "u") -> (ClientSession, NotificationSink) {
    let sink = NotificationSink()
    let session = ClientSession(
        connectionID: connectionID, clientAddress: "127.0.0.1",
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
        send: { method, params in sink.append(method, params) },
        sendSerialized: { bytes in
            guard let message = try? JSONParser().parse(bytes), let method = message["method"]?.stringValue,
                let params = message["params"]
            else { Issue.record("unparseable notification"); return }
            sink.append(method, params)
        }
    )
    if let user {
        SessionDirectory(clock: SystemClock.now).signIn(session, as: Principal(
            userID: user, username: username, sessionID: "s\(connectionID)",
            expiresAt: SystemClock.now().adding(milliseconds: 3_600_000)))
    }
    return (session, sink)
}

/// Subscribes `client` as `events.subscribe` does: adds the topics, then the hub tracks it.
@discardableResult
func subscribe(_ client: ClientSession, to topics: [Topic], as userID: Int64, in hub: EventHub) -> UInt64 {
    guard let added = client.events.add(topics, userID: userID, limit: 1000) else {
        Issue.record("over the topic limit")
        return 0
    }
    hub.track(client, userID: userID, generation: added.generation)
    return added.generation
}

func loggedEvent(
    seq: Int64, type: String = "comment.created", taskID: Int64 = 7, data: JSONValue = ["id": 1, "taskId": 7],
    audience: [(Int64, Permission)] = [(1, .owner), (2, .view)]
) -> LoggedEvent {
    LoggedEvent(
        seq: seq, type: type, taskID: taskID, actorID: 1, actorUsername: "ana",
        at: Timestamp(milliseconds: 1_800_000_000_000), data: data,
        audience: audience.map { LoggedEvent.Recipient(userID: $0.0, permission: $0.1) }
    )
}

@Suite struct TopicTests {
    @Test(arguments: ["tasks", "task:1", "task:42", "task:9223372036854775807"])
    func canonicalTopicsParseAndPrintBack(_ text: String) throws {
        let topic = try #require(Topic(text))
        #expect(topic.description == text)
    }

    @Test(arguments: ["", "Tasks", "task", "task:", "task:0", "task:01", "task:-1", "task:+1", "task:1x", "task: 1",
                      "task:9223372036854775808", "task:99999999999999999999", "tasks ", "task:１", "comments"])
    func anythingElseIsRefused(_ text: String) {
        #expect(Topic(text) == nil)
    }
}

@Suite struct LoggedEventTests {
    @Test func busPayloadRoundTrips() throws {
        let event = loggedEvent(seq: 12, data: ["id": 3, "text": "ünï \"quoted\"\n", "nested": ["a": [1, 2]]])
        #expect(LoggedEvent(busPayload: event.busPayload) == event)
        var noTask = event
        noTask.taskID = nil
        noTask.actorID = nil
        #expect(LoggedEvent(busPayload: noTask.busPayload) == noTask)
    }

    @Test(arguments: [
        "", "{}", "[]", "{\"seq\":0,\"type\":\"x\",\"actor\":{\"username\":\"a\"},\"at\":1,\"data\":{},\"audience\":[]}",
        "{\"seq\":1,\"type\":\"x\",\"actor\":{\"username\":\"a\"},\"at\":1,\"data\":{},\"audience\":[[1,\"admin\"]]}",
        "{\"seq\":1,\"type\":\"x\",\"actor\":{\"username\":\"a\"},\"at\":1,\"data\":{},\"audience\":[[1]]}",
        "{\"seq\":1,\"type\":\"x\",\"taskId\":\"7\",\"actor\":{\"username\":\"a\"},\"at\":1,\"data\":{},\"audience\":[]}",
    ])
    func malformedPayloadsAreRefused(_ text: String) {
        #expect(LoggedEvent(busPayload: Array(text.utf8)) == nil)
    }
}

@Suite struct EventHubTests {
    @Test func anEventReachesTheAudiencesSubscribersOnTheirTopic() async throws {
        let hub = EventHub()
        let (owner, ownerSink) = recordingClient(1, user: 1)
        let (viewer, viewerSink) = recordingClient(2, user: 2)
        let (stranger, strangerSink) = recordingClient(3, user: 3)
        let (idle, idleSink) = recordingClient(4, user: 2)
        for (client, user, topic) in [(owner, Int64(1), Topic.tasks), (viewer, 2, .task(7)), (stranger, 3, .tasks)] {
            subscribe(client, to: [topic], as: user, in: hub)
        }
        _ = idle
        #expect(hub.dispatch(loggedEvent(seq: 5)) == 2)
        #expect(ownerSink.events.map { $0["topic"]?.stringValue } == ["tasks"])
        #expect(viewerSink.events.map { $0["topic"]?.stringValue } == ["task:7"])
        #expect(strangerSink.events.isEmpty)
        #expect(idleSink.events.isEmpty)
        let event = try #require(viewerSink.events.first)
        #expect(event["seq"] == 5)
        #expect(event["type"] == "comment.created")
        #expect(event["taskId"] == 7)
        #expect(event["actor"] == ["id": 1, "username": "ana"])
        #expect(event["at"] == "2027-01-15T08:00:00.000Z")
        #expect(event["data"] == ["id": 1, "taskId": 7])
    }

    @Test func taskEventsCarryEachRecipientsPermission() {
        let hub = EventHub()
        var sinks: [NotificationSink] = []
        var clients: [ClientSession] = []
        for user in [1, 2, 3] as [Int64] {
            let (client, sink) = recordingClient(UInt64(user), user: user)
            subscribe(client, to: [.tasks], as: user, in: hub)
            sinks.append(sink)
            clients.append(client)
        }
        hub.dispatch(loggedEvent(seq: 1, type: "task.updated", data: ["id": 7, "permission": "owner", "title": "t"],
                                 audience: [(1, .owner), (2, .edit), (3, .view)]))
        withExtendedLifetime(clients) {}
        #expect(sinks.map { $0.events.first?["data"]?["permission"]?.stringValue } == ["owner", "edit", "view"])
        #expect(sinks.allSatisfy { $0.events.first?["data"]?["title"] == "t" })
    }

    @Test func eachSessionGetsAnEventOnceAndInIncreasingSeq() {
        let hub = EventHub()
        let (client, sink) = recordingClient(1, user: 2)
        subscribe(client, to: [.tasks, .task(7)], as: 2, in: hub)
        for seq in [3, 3, 1, 4, 2, 6] as [Int64] { hub.dispatch(loggedEvent(seq: seq)) }
        #expect(sink.seqs == [3, 4, 6])
        #expect(sink.events.allSatisfy { $0["topic"] == "task:7" })
    }

    @Test func aTaskTopicEndsWithTheTasksDeletionOrTheRecipientsRevokedShare() {
        let hub = EventHub()
        let (viewer, viewerSink) = recordingClient(1, user: 2)
        let (other, otherSink) = recordingClient(2, user: 3)
        for (client, user) in [(viewer, Int64(2)), (other, 3)] {
            subscribe(client, to: [.task(7), .task(8)], as: user, in: hub)
        }
        hub.dispatch(loggedEvent(seq: 1, type: "share.revoked", taskID: 7, data: ["taskId": 7, "userId": 2, "username": "b"],
                                 audience: [(1, .owner), (2, .view), (3, .view)]))
        #expect(viewer.events.topics == [.task(8)])
        #expect(other.events.topics == [.task(7), .task(8)])
        hub.dispatch(loggedEvent(seq: 2, taskID: 7, audience: [(1, .owner), (3, .view)]))
        hub.dispatch(loggedEvent(seq: 3, type: "task.deleted", taskID: 8, data: ["id": 8], audience: [(1, .owner), (2, .view), (3, .view)]))
        #expect(viewer.events.topics.isEmpty)
        #expect(other.events.topics == [.task(7)])
        #expect(viewerSink.seqs == [1, 3])
        #expect(otherSink.seqs == [1, 2, 3])
        #expect(hub.subscriberCount == 1)
    }

    @Test func signingOutOrInAsSomeoneElseDropsEverySubscription() {
        let hub = EventHub()
        let directory = SessionDirectory(clock: SystemClock.now)
        let (client, sink) = recordingClient(1)
        let principal = Principal(userID: 2, username: "b", sessionID: "s", expiresAt: SystemClock.now().adding(milliseconds: 60_000))
        directory.signIn(client, as: principal)
        subscribe(client, to: [.tasks], as: 2, in: hub)
        var swapped = principal
        swapped.expiresAt = swapped.expiresAt.adding(milliseconds: 1000)
        directory.signIn(client, as: swapped)  // a fresh token for the same user keeps them
        #expect(client.events.topics == [.tasks])
        directory.signIn(client, as: Principal(userID: 3, username: "c", sessionID: "t", expiresAt: swapped.expiresAt))
        #expect(client.events.topics.isEmpty)
        hub.dispatch(loggedEvent(seq: 1))
        #expect(sink.events.isEmpty)
    }

    @Test func theHubKeepsNothingForAClosedSignedOutOrIdleConnection() {
        let hub = EventHub()
        let directory = SessionDirectory(clock: SystemClock.now)
        let principal = { (user: Int64, id: String) in
            Principal(userID: user, username: "u", sessionID: id, expiresAt: SystemClock.now().adding(milliseconds: 60_000))
        }
        let (closing, _) = recordingClient(1)
        directory.signIn(closing, as: principal(2, "a"))
        subscribe(closing, to: [.tasks], as: 2, in: hub)
        let (leaving, _) = recordingClient(2)
        directory.signIn(leaving, as: principal(3, "b"))
        subscribe(leaving, to: [.task(7)], as: 3, in: hub)
        let (idle, _) = recordingClient(3)
        directory.signIn(idle, as: principal(4, "c"))
        subscribe(idle, to: [.task(7)], as: 4, in: hub)
        #expect(hub.trackedCount == 3)

        directory.connectionClosed(closing)
        #expect(hub.trackedCount == 2)
        directory.signOut(leaving)
        #expect(hub.trackedCount == 1)
        _ = idle.events.remove([.task(7)])
        hub.untrackIfIdle(idle)
        #expect(hub.trackedCount == 0)
        #expect(hub.dispatch(loggedEvent(seq: 1, audience: [(2, .owner), (3, .view), (4, .view)])) == 0)
    }

    @Test func subscriptionsResetBeforeTheHubTracksThemAreNotTracked() throws {
        let hub = EventHub()
        let (client, sink) = recordingClient(1, user: 2)
        let generation = try #require(client.events.add([.tasks], userID: 2, limit: 1000)).generation
        client.events.reset()  // the connection closed while events.subscribe was between the two steps
        hub.track(client, userID: 2, generation: generation)
        #expect(hub.trackedCount == 0)
        hub.dispatch(loggedEvent(seq: 1))
        #expect(sink.events.isEmpty)
    }

    @Test func aConnectionSignedInAsSomeoneElseIsFiledUnderItsNewUserOnly() {
        let hub = EventHub()
        let (client, sink) = recordingClient(1, user: 2)
        subscribe(client, to: [.tasks], as: 2, in: hub)
        subscribe(client, to: [.tasks], as: 3, in: hub)
        #expect(hub.trackedCount == 1)
        #expect(hub.dispatch(loggedEvent(seq: 1, audience: [(2, .view)])) == 0)
        #expect(hub.dispatch(loggedEvent(seq: 2, audience: [(3, .view)])) == 1)
        #expect(sink.seqs == [2])
    }

    @Test func liveEventsWaitForAReplayAndNoneIsSentTwice() throws {
        let hub = EventHub()
        let (client, sink) = recordingClient(1, user: 2)
        let generation = subscribe(client, to: [.tasks], as: 2, in: hub)
        #expect(client.events.beginReplay(generation: generation))
        hub.dispatch(loggedEvent(seq: 9))
        hub.dispatch(loggedEvent(seq: 10))
        #expect(sink.events.isEmpty)
        let replayed = [8, 9].map { seq in (seq: Int64(seq), bytes: JSONWriter.serialize(["jsonrpc": "2.0", "method": "event", "params": ["seq": .number(JSONNumber(Int64(seq)))]])) }
        client.events.finishReplay(replayed, generation: generation)
        #expect(sink.seqs == [8, 9, 10])
        hub.dispatch(loggedEvent(seq: 11))
        #expect(sink.seqs == [8, 9, 10, 11])
    }

    @Test func oneSerializationServesEveryRecipientWithTheSameTopicAndPermission() {
        let hub = EventHub()
        var audience: [(Int64, Permission)] = [(1, .owner)]
        var sinks: [NotificationSink] = []
        var clients: [ClientSession] = []
        for user in 2...200 as ClosedRange<Int64> {
            let (client, sink) = recordingClient(UInt64(user), user: user)
            subscribe(client, to: [.task(7)], as: user, in: hub)
            clients.append(client)
            sinks.append(sink)
            audience.append((user, .view))
        }
        #expect(hub.dispatch(loggedEvent(seq: 1, audience: audience)) == 199)
        withExtendedLifetime(clients) {}
        #expect(sinks.allSatisfy { $0.seqs == [1] })
    }
}
