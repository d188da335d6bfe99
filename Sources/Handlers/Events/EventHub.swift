import JSON
import JSONRPC
import Synchronization

/// This instance's live subscriptions, and the fan-out of each dispatched event to them
/// (docs/events.md, "Local delivery").
///
/// Indexed by user: an event's audience is a list of users, so delivery walks the audience
/// and looks up each one's sessions here. Each recipient session picks its topic (`task:<id>`
/// when it holds it, else `tasks`); the notification is serialized once per distinct (topic,
/// permission) pair, not once per session, so one event to 10,000 viewers of a task costs one
/// serialization and 10,000 queued writes.
public final class EventHub: Sendable {
    private let index = Mutex(Index())
    private let accessObserver = Mutex<(@Sendable (AccessChange) -> Void)?>(nil)

    /// A change of who may view a task, as the event stream shows it (presence follows it).
    public enum AccessChange: Sendable, Hashable {
        /// Someone may view it now (`share.created`).
        case gained(taskID: Int64)
        /// `userID` may not view it any more (`share.revoked`, or the owner's account went).
        case lost(taskID: Int64, userID: Int64)
        /// It is deleted.
        case taskGone(taskID: Int64)
    }

    /// Strong references: a session leaves the index when its subscriptions are reset (closed,
    /// signed out, signed in as someone else) or it unsubscribes from everything, so dispatch
    /// copies plain references and nothing piles up for closed connections.
    private struct Index {
        var byUser: [Int64: [UInt64: ClientSession]] = [:]
        /// Which user each tracked connection is filed under (one at a time).
        var userOf: [UInt64: Int64] = [:]

        mutating func remove(_ connectionID: UInt64) {
            guard let userID = self.userOf.removeValue(forKey: connectionID) else { return }
            self.byUser[userID]?[connectionID] = nil
            if self.byUser[userID]?.isEmpty == true { self.byUser[userID] = nil }
        }
    }

    public init() {}

    /// Tracks `client` as a subscriber for `userID` (idempotent), for as long as its
    /// subscriptions of `generation` last (``SessionEvents/add(_:userID:limit:)``): when they
    /// were reset meanwhile, it is not tracked.
    func track(_ client: ClientSession, userID: Int64, generation: UInt64) {
        let connectionID = client.connectionID
        self.index.withLock { index in
            if let filed = index.userOf[connectionID], filed != userID { index.remove(connectionID) }
            index.byUser[userID, default: [:]][connectionID] = client
            index.userOf[connectionID] = userID
        }
        // After the insert, so a reset either sees the hub and forgets the entry, or came first
        // and the generation no longer matches.
        if !client.events.attach(to: self, connectionID: connectionID, generation: generation) {
            self.forget(connectionID)
        }
    }

    /// Forgets `client` when it holds no topic any more.
    func untrackIfIdle(_ client: ClientSession) {
        // Checked under the index lock: a subscription added meanwhile is tracked after its add,
        // so it either makes this check fail or files the connection again after this removal.
        self.index.withLock { index in
            if client.events.isEmpty { index.remove(client.connectionID) }
        }
    }

    /// Forgets a connection (its subscriptions were reset).
    func forget(_ connectionID: UInt64) {
        self.index.withLock { $0.remove(connectionID) }
    }

    /// Calls `observer` for every ``AccessChange`` this instance dispatches (one observer).
    func observeAccess(_ observer: @escaping @Sendable (AccessChange) -> Void) {
        self.accessObserver.withLock { $0 = observer }
    }

    /// The local sessions holding a topic, of any of `userIDs`.
    func subscribers(of userIDs: Set<Int64>) -> [ClientSession] {
        self.index.withLock { index in
            if userIDs.count > index.byUser.count {
                return index.byUser.filter { userIDs.contains($0.key) }.flatMap { $0.value.values }
            }
            return userIDs.flatMap { index.byUser[$0].map { Array($0.values) } ?? [] }
        }
    }

    /// How many live sessions hold at least one topic (metrics, tests).
    public var subscriberCount: Int {
        let clients = self.index.withLock { $0.byUser.values.flatMap(\.values) }
        return clients.filter { !$0.events.isEmpty }.count
    }

    /// How many connections the index holds (tests: nothing is kept for closed ones).
    var trackedCount: Int { self.index.withLock { $0.userOf.count } }

    /// Delivers `event` to every local session of its audience that holds a matching topic.
    /// Internal events are not for clients and are ignored here. Returns how many sessions it
    /// was queued to.
    @discardableResult
    public func dispatch(_ event: LoggedEvent) -> Int {
        guard event.type != LoggedEvent.sessionRevoked else { return 0 }
        var serializer = EventSerializer(event: event)
        let endsForEveryone = event.type == LoggedEvent.taskDeleted ? event.taskID : nil
        let revokedUser = event.type == LoggedEvent.shareRevoked ? event.data["userId"]?.numberValue?.int64 : nil
        // One pass under the index lock finds every local session of the audience.
        let targets: [(client: ClientSession, recipient: LoggedEvent.Recipient)] = self.index.withLock { index in
            var targets: [(client: ClientSession, recipient: LoggedEvent.Recipient)] = []
            targets.reserveCapacity(min(event.audience.count, index.userOf.count))
            for recipient in event.audience {
                guard let clients = index.byUser[recipient.userID] else { continue }
                for client in clients.values { targets.append((client, recipient)) }
            }
            return targets
        }
        var delivered = 0
        var idle: [ClientSession] = []
        for (client, recipient) in targets {
            let ends = endsForEveryone ?? (recipient.userID == revokedUser ? event.taskID : nil)
            let outcome = client.events.deliver(
                seq: event.seq, taskID: event.taskID, userID: recipient.userID, endsTaskTopic: ends
            ) { topic in
                serializer.bytes(topic: topic, permission: recipient.permission)
            }
            if outcome.routed { delivered += 1 }
            if ends != nil, outcome.isEmpty { idle.append(client) }
        }
        for client in idle { self.untrackIfIdle(client) }
        if let taskID = event.taskID, let observer = self.accessObserver.withLock({ $0 }) {
            switch event.type {
            case "share.created": observer(.gained(taskID: taskID))
            case LoggedEvent.shareRevoked: if let revokedUser { observer(.lost(taskID: taskID, userID: revokedUser)) }
            case LoggedEvent.taskDeleted: observer(.taskGone(taskID: taskID))
            default: break
            }
        }
        return delivered
    }

    /// Ends `userID`'s `task:<id>` subscriptions on this instance without an event (used when
    /// access is lost in a way no `share.revoked` reports, e.g. the task's owner deleted their
    /// account).
    public func endTaskTopic(_ taskID: Int64, forUser userID: Int64) {
        let clients: [ClientSession] = self.index.withLock { index in
            (index.byUser[userID] ?? [:]).values.map { $0 }
        }
        for client in clients { client.events.endTaskTopic(taskID) }
        self.accessObserver.withLock { $0 }?(.lost(taskID: taskID, userID: userID))
    }
}

/// Serializes one event's notification, once per distinct (topic, permission) it goes out with.
struct EventSerializer {
    let event: LoggedEvent
    /// Task events carry a Task whose `permission` is the recipient's.
    private let perRecipientPermission: Bool
    private var cache: [CacheKey: [UInt8]] = [:]

    private struct CacheKey: Hashable {
        var topic: Topic
        var permission: Permission?
    }

    init(event: LoggedEvent) {
        self.event = event
        self.perRecipientPermission =
            (event.type == "task.created" || event.type == "task.updated") && event.data["permission"] != nil
    }

    mutating func bytes(topic: Topic, permission: Permission) -> [UInt8] {
        let key = CacheKey(topic: topic, permission: self.perRecipientPermission ? permission : nil)
        if let bytes = self.cache[key] { return bytes }
        let bytes = Self.notification(self.event, topic: topic, permission: key.permission)
        self.cache[key] = bytes
        return bytes
    }

    /// `{"jsonrpc":"2.0","method":"event","params":{seq, topic, type, taskId, actor, at, data}}`.
    static func notification(_ event: LoggedEvent, topic: Topic, permission: Permission?) -> [UInt8] {
        var data = event.data
        if let permission, case .object(var object) = data {
            object["permission"] = .string(permission.rawValue)
            data = .object(object)
        }
        var params = JSONObject()
        params.reserveCapacity(7)
        params.append(key: "seq", value: .number(JSONNumber(event.seq)))
        params.append(key: "topic", value: .string(topic.description))
        params.append(key: "type", value: .string(event.type))
        params.append(key: "taskId", value: event.taskID.map { .number(JSONNumber($0)) } ?? .null)
        params.append(key: "actor", value: event.actorValue)
        params.append(key: "at", value: .string(event.at.description))
        params.append(key: "data", value: data)
        return JSONWriter.serialize(["jsonrpc": "2.0", "method": "event", "params": .object(params)])
    }
}
