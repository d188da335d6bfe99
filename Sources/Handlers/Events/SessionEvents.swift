import Synchronization

/// One session's subscriptions and its place in the event sequence.
///
/// Invariants, kept under one lock: events go out in strictly increasing `seq` (``lastSeq`` is
/// the last one sent, anything not above it is dropped), each once; while a replay is running
/// live events are held and released after it, above what it sent. Signing out, signing in as
/// someone else and closing the connection clear everything (protocol/README.md, "Live events": the
/// session "loses every subscription").
public final class SessionEvents: Sendable {
    private let state = Mutex(State())
    private let send: @Sendable ([UInt8]) -> Void

    struct State {
        /// Whose subscriptions these are; nil while there are none.
        var userID: Int64?
        /// In the order they were added (the answer lists them so).
        var topics: [Topic] = []
        var topicSet: Set<Topic> = []
        var lastSeq: Int64 = 0
        /// Replays in progress; live events are held while it is above zero.
        var replays = 0
        var held: [(seq: Int64, bytes: [UInt8])] = []
        /// Bumped by ``reset()``, so a replay that started before it delivers nothing after it.
        var generation: UInt64 = 0
        /// The hub that tracks this session for live events, told when a reset ends them.
        var hub: (hub: EventHub, connectionID: UInt64)?
    }

    /// Told after a replay was sent: what it sent must reach the client before the answer to the
    /// events.subscribe that asked for it, which the transport otherwise writes first.
    private let precedeAnswer: @Sendable () -> Void

    init(send: @escaping @Sendable ([UInt8]) -> Void, precedeAnswer: @escaping @Sendable () -> Void = {}) {
        self.send = send
        self.precedeAnswer = precedeAnswer
    }

    /// The topics held now, in the order they were added.
    public var topics: [Topic] { self.state.withLock { $0.topics } }

    var isEmpty: Bool { self.state.withLock { $0.topics.isEmpty } }

    /// Adds `topics` for `userID` (clearing another user's first), unless the session would then
    /// hold more than `limit`: nil then, and nothing added. Checked and applied under one lock,
    /// so concurrent calls cannot pass the limit together. Returns the whole list after the
    /// call, the topics this call added, and the generation a replay must still match.
    func add(_ topics: [Topic], userID: Int64, limit: Int) -> (topics: [Topic], added: [Topic], generation: UInt64)? {
        self.state.withLock { state in
            let existing = state.userID == userID ? state.topicSet : []
            guard existing.union(topics).count <= limit else { return nil }
            if state.userID != userID { Self.clear(&state) }
            state.userID = userID
            var added: [Topic] = []
            for topic in topics where state.topicSet.insert(topic).inserted {
                state.topics.append(topic)
                added.append(topic)
            }
            return (state.topics, added, state.generation)
        }
    }

    /// Removes `topics`; returns the list after the call.
    func remove(_ topics: [Topic]) -> [Topic] {
        self.state.withLock { state in
            let gone = Set(topics)
            state.topicSet.subtract(gone)
            state.topics.removeAll { gone.contains($0) }
            return state.topics
        }
    }

    /// Drops every subscription (sign-out, another user, connection closed, or cut off as a slow
    /// consumer: nothing more is queued for a connection that is being closed).
    public func reset() {
        let tracked = self.state.withLock { state in
            Self.clear(&state)
            defer { state.hub = nil }
            return state.hub
        }
        if let tracked { tracked.hub.forget(tracked.connectionID) }
    }

    /// Records that `hub` tracks this session for the subscriptions of `generation`; false when
    /// they were reset since (the hub must not keep it then).
    func attach(to hub: EventHub, connectionID: UInt64, generation: UInt64) -> Bool {
        self.state.withLock { state in
            guard state.generation == generation else { return false }
            state.hub = (hub, connectionID)
            return true
        }
    }

    private static func clear(_ state: inout State) {
        state.userID = nil
        state.topics = []
        state.topicSet = []
        state.held = []
        state.replays = 0
        state.generation &+= 1
        // lastSeq is kept: whatever this connection subscribes to next, it never sees an event
        // twice or out of order.
    }

    /// Starts holding live events for a replay.
    func beginReplay(generation: UInt64) -> Bool {
        self.state.withLock { state in
            guard state.generation == generation else { return false }
            state.replays += 1
            return true
        }
    }

    /// Sends the replayed events (already serialized, in `seq` order) and then the live ones held
    /// meanwhile, each only if above what was sent before.
    func finishReplay(_ replayed: [(seq: Int64, bytes: [UInt8])], generation: UInt64) {
        self.state.withLock { state in
            guard state.generation == generation else { return }
            for event in replayed where event.seq > state.lastSeq {
                self.send(event.bytes)
                state.lastSeq = event.seq
            }
            if !replayed.isEmpty { self.precedeAnswer() }
            state.replays -= 1
            guard state.replays == 0 else { return }
            let held = state.held
            state.held = []
            for event in held where event.seq > state.lastSeq {
                self.send(event.bytes)
                state.lastSeq = event.seq
            }
        }
    }

    /// Routes one live event and sends it (or holds it, during a replay), in one step under the
    /// lock: the topic is `task:<id>` when the session holds it, else `tasks`; nothing when it
    /// holds neither or belongs to someone else now. `bytes` serializes the notification for
    /// the chosen topic. Then applies the event's effect on the subscriptions: a `task:<id>`
    /// topic ends after `task.deleted`, or after the session's own `share.revoked`.
    ///
    /// Returns whether it was routed, and whether the session holds no topic any more.
    func deliver(
        seq: Int64, taskID: Int64?, userID: Int64, endsTaskTopic: Int64?, bytes: (Topic) -> [UInt8]
    ) -> (routed: Bool, isEmpty: Bool) {
        self.state.withLock { state in
            guard state.userID == userID else { return (false, state.topics.isEmpty) }
            let topic: Topic
            if let taskID, state.topicSet.contains(.task(taskID)) {
                topic = .task(taskID)
            } else if state.topicSet.contains(.tasks) {
                topic = .tasks
            } else {
                return (false, state.topics.isEmpty)
            }
            let message = bytes(topic)
            if state.replays > 0 {
                state.held.append((seq, message))
            } else if seq > state.lastSeq {
                self.send(message)
                state.lastSeq = seq
            }
            if let taskID = endsTaskTopic, state.topicSet.remove(.task(taskID)) != nil {
                state.topics.removeAll { $0 == .task(taskID) }
            }
            return (true, state.topics.isEmpty)
        }
    }

    /// Whether the session, subscribed as `userID`, holds `task:<taskID>` or `tasks`.
    func sees(taskID: Int64, userID: Int64) -> Bool {
        self.state.withLock { state in
            state.userID == userID && (state.topicSet.contains(.task(taskID)) || state.topicSet.contains(.tasks))
        }
    }

    /// Ends the `task:<id>` topic without sending anything (access lost some other way).
    func endTaskTopic(_ taskID: Int64) {
        self.state.withLock { state in
            if state.topicSet.remove(.task(taskID)) != nil {
                state.topics.removeAll { $0 == .task(taskID) }
            }
        }
    }
}
