public import JSON

/// One session on one task, as every instance knows it: which instance holds the connection,
/// whose it is, and what the session last said.
public struct PresenceEntry: Sendable, Hashable {
    /// Which instance holds the connection, and the connection there.
    public struct ID: Sendable, Hashable {
        public var instance: String
        public var connection: UInt64

        public init(instance: String, connection: UInt64) {
            self.instance = instance
            self.connection = connection
        }

        /// The entry's field in the task's Redis hash: `<instance>:<connection>`.
        public var field: String { "\(instance):\(connection)" }
    }

    public var userID: Int64
    public var username: String
    public var avatarURL: String?
    /// When the session entered.
    public var since: Timestamp
    /// The state the session last sent (an object; `{}` when none or expired).
    public var state: JSONValue
    /// When the state last changed: the member shows the state of their latest-changed session.
    public var changedAt: Timestamp
    /// The signed-in session (`sid`) of the connection: the device, so that a push is not sent
    /// to a device showing the task live (docs/push.md). Never shown to clients.
    public var device: String?

    public init(
        userID: Int64, username: String, avatarURL: String?, since: Timestamp, state: JSONValue, changedAt: Timestamp,
        device: String? = nil
    ) {
        self.userID = userID
        self.username = username
        self.avatarURL = avatarURL
        self.since = since
        self.state = state
        self.changedAt = changedAt
        self.device = device
    }
}

/// One person on one task, however many of their sessions are there (protocol `PresenceMember`).
public struct PresenceMember: Sendable, Hashable {
    public var userID: Int64
    public var username: String
    public var avatarURL: String?
    /// When their first present session entered.
    public var since: Timestamp
    public var state: JSONValue
    public var sessions: Int

    var json: JSONValue {
        [
            "userId": .number(JSONNumber(userID)),
            "username": .string(username),
            "avatarUrl": avatarURL.map { .string($0) } ?? .null,
            "since": .string(since.description),
            "state": state,
            "sessions": .number(JSONNumber(sessions)),
        ]
    }
}

/// What one change did to a person's presence on a task.
public enum PresenceTransition: Sendable, Hashable {
    case joined(PresenceMember)
    case updated(PresenceMember)
    case left(userID: Int64)

    var method: String {
        switch self {
        case .joined: "presence.joined"
        case .updated: "presence.updated"
        case .left: "presence.left"
        }
    }

    /// The notification for `taskID`, serialized once for every recipient.
    func notification(taskID: Int64) -> [UInt8] {
        var params: JSONObject = ["taskId": .number(JSONNumber(taskID))]
        switch self {
        case .joined(let member), .updated(let member): params.append(key: "member", value: member.json)
        case .left(let userID): params.append(key: "userId", value: .number(JSONNumber(userID)))
        }
        return JSONWriter.serialize(["jsonrpc": "2.0", "method": .string(method), "params": .object(params)])
    }
}

/// Every session on every task, grouped into people: the replica each instance keeps (its own
/// sessions and, with Redis, every other instance's). Not thread-safe: its owner locks it.
///
/// A person joins with their first entry on a task and leaves with their last; any other change
/// of what ``member(taskID:userID:)`` shows (state, number of sessions, name) is an update. Setting
/// an entry to what it already is, or removing one that is not there, changes nothing, so
/// messages may arrive twice.
public struct PresenceRoster: Sendable {
    /// Per task, its entries in the order they were added: flat arrays, because most tasks have
    /// a handful of entries and a dictionary per task and per person costs more than a scan
    /// (docs/presence.md, "What it costs").
    private var tasks: [Int64: [Slot]] = [:]

    struct Slot: Sendable {
        var id: PresenceEntry.ID
        var entry: PresenceEntry
    }

    public init() {}

    /// Adds or replaces an entry; returns what that did to its person (and, when the connection
    /// was on the task as someone else, to that person first).
    public mutating func set(taskID: Int64, id: PresenceEntry.ID, entry: PresenceEntry) -> [PresenceTransition] {
        var changes: [PresenceTransition] = []
        if let previous = self.entry(taskID: taskID, id: id), previous.userID != entry.userID,
            let change = self.remove(taskID: taskID, id: id)
        {
            changes.append(change)
        }
        let before = self.member(taskID: taskID, userID: entry.userID)
        if let index = self.tasks[taskID]?.firstIndex(where: { $0.id == id }) {
            self.tasks[taskID]![index].entry = entry
        } else {
            self.tasks[taskID, default: []].append(Slot(id: id, entry: entry))
        }
        let after = self.member(taskID: taskID, userID: entry.userID)
        if let change = Self.transition(before: before, after: after, userID: entry.userID) { changes.append(change) }
        return changes
    }

    /// Removes an entry; returns what that did to its person.
    @discardableResult
    public mutating func remove(taskID: Int64, id: PresenceEntry.ID) -> PresenceTransition? {
        guard let index = self.tasks[taskID]?.firstIndex(where: { $0.id == id }) else { return nil }
        let userID = self.tasks[taskID]![index].entry.userID
        let before = self.member(taskID: taskID, userID: userID)
        self.tasks[taskID]!.remove(at: index)
        if self.tasks[taskID]!.isEmpty { self.tasks[taskID] = nil }
        return Self.transition(before: before, after: self.member(taskID: taskID, userID: userID), userID: userID)
    }

    /// Removes every entry of `instance` (it stopped); returns the changes, task by task.
    public mutating func removeInstance(_ instance: String) -> [(taskID: Int64, transition: PresenceTransition)] {
        var changes: [(taskID: Int64, transition: PresenceTransition)] = []
        for (taskID, ids) in self.entryIDs(where: { $0.instance == instance }) {
            for id in ids {
                if let change = self.remove(taskID: taskID, id: id) { changes.append((taskID, change)) }
            }
        }
        return changes
    }

    /// The entry ids matching `predicate`, by task.
    public func entryIDs(where predicate: (PresenceEntry.ID) -> Bool) -> [Int64: [PresenceEntry.ID]] {
        var found: [Int64: [PresenceEntry.ID]] = [:]
        for (taskID, slots) in self.tasks {
            for slot in slots where predicate(slot.id) { found[taskID, default: []].append(slot.id) }
        }
        return found
    }

    /// The connections of `instance` on `taskID`, with their users.
    public func connections(taskID: Int64, instance: String) -> [(connection: UInt64, userID: Int64)] {
        (self.tasks[taskID] ?? []).compactMap { $0.id.instance == instance ? ($0.id.connection, $0.entry.userID) : nil }
    }

    /// Every entry, by task (for a resync's comparison).
    public var allEntries: [Int64: [PresenceEntry.ID: PresenceEntry]] {
        self.tasks.mapValues { slots in Dictionary(slots.map { ($0.id, $0.entry) }, uniquingKeysWith: { a, _ in a }) }
    }

    /// Whether a session of `userID` on `device` is on `taskID`, on any instance.
    public func hasDevice(taskID: Int64, userID: Int64, device: String) -> Bool {
        self.tasks[taskID]?.contains { $0.entry.userID == userID && $0.entry.device == device } ?? false
    }

    public func entry(taskID: Int64, id: PresenceEntry.ID) -> PresenceEntry? {
        self.tasks[taskID]?.first(where: { $0.id == id })?.entry
    }

    /// The person as others see them, or nil when none of their sessions is on the task.
    public func member(taskID: Int64, userID: Int64) -> PresenceMember? {
        guard let slots = self.tasks[taskID] else { return nil }
        return Self.member(of: slots.lazy.filter { $0.entry.userID == userID }, userID: userID)
    }

    /// A member from their slots: `since` the earliest, `state` the latest-changed non-empty one
    /// (typing in any tab shows), name and avatar from the first.
    private static func member(of slots: some Sequence<Slot>, userID: Int64) -> PresenceMember? {
        var count = 0
        var first: PresenceEntry?
        var latest: Slot?
        for slot in slots {
            count += 1
            if first == nil || slot.entry.since < first!.since { first = slot.entry }
            guard slot.entry.state.objectValue?.isEmpty == false else { continue }
            if let current = latest {
                let newer = slot.entry.changedAt > current.entry.changedAt
                    || (slot.entry.changedAt == current.entry.changedAt && slot.id.field > current.id.field)
                if newer { latest = slot }
            } else {
                latest = slot
            }
        }
        guard let first else { return nil }
        return PresenceMember(
            userID: userID, username: first.username, avatarURL: first.avatarURL, since: first.since,
            state: latest?.entry.state ?? .object(JSONObject()), sessions: count
        )
    }

    /// The people on `taskID`, in the order they joined (ties by user id).
    public func members(taskID: Int64) -> [PresenceMember] {
        guard let slots = self.tasks[taskID] else { return [] }
        let byUser = Dictionary(grouping: slots, by: \.entry.userID)
        return byUser.compactMap { userID, slots in Self.member(of: slots, userID: userID) }
            .sorted { ($0.since, $0.userID) < ($1.since, $1.userID) }
    }

    /// The ids of the people on `taskID`, in the order they joined.
    public func userIDs(taskID: Int64) -> [Int64] {
        self.members(taskID: taskID).map(\.userID)
    }

    /// Tasks with anyone on them.
    public var taskCount: Int { self.tasks.count }

    /// Every instance that has an entry here.
    public var instances: Set<String> {
        var found: Set<String> = []
        for slots in self.tasks.values { for slot in slots { found.insert(slot.id.instance) } }
        return found
    }

    static func transition(before: PresenceMember?, after: PresenceMember?, userID: Int64) -> PresenceTransition? {
        switch (before, after) {
        case (nil, let after?): .joined(after)
        case (_?, nil): .left(userID: userID)
        case (let before?, let after?) where before != after: .updated(after)
        default: nil
        }
    }
}
