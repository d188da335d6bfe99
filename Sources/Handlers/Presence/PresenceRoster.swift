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

    public init(userID: Int64, username: String, avatarURL: String?, since: Timestamp, state: JSONValue, changedAt: Timestamp) {
        self.userID = userID
        self.username = username
        self.avatarURL = avatarURL
        self.since = since
        self.state = state
        self.changedAt = changedAt
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
    private var tasks: [Int64: [Int64: [PresenceEntry.ID: PresenceEntry]]] = [:]

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
        self.tasks[taskID, default: [:]][entry.userID, default: [:]][id] = entry
        let after = self.member(taskID: taskID, userID: entry.userID)
        if let change = Self.transition(before: before, after: after, userID: entry.userID) { changes.append(change) }
        return changes
    }

    /// Removes an entry; returns what that did to its person.
    @discardableResult
    public mutating func remove(taskID: Int64, id: PresenceEntry.ID) -> PresenceTransition? {
        guard let users = self.tasks[taskID] else { return nil }
        for (userID, entries) in users where entries[id] != nil {
            let before = self.member(taskID: taskID, userID: userID)
            self.tasks[taskID]?[userID]?[id] = nil
            if self.tasks[taskID]?[userID]?.isEmpty == true { self.tasks[taskID]?[userID] = nil }
            if self.tasks[taskID]?.isEmpty == true { self.tasks[taskID] = nil }
            return Self.transition(before: before, after: self.member(taskID: taskID, userID: userID), userID: userID)
        }
        return nil
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
        for (taskID, users) in self.tasks {
            for entries in users.values {
                for id in entries.keys where predicate(id) { found[taskID, default: []].append(id) }
            }
        }
        return found
    }

    /// The connections of `instance` on `taskID`, with their users.
    public func connections(taskID: Int64, instance: String) -> [(connection: UInt64, userID: Int64)] {
        guard let users = self.tasks[taskID] else { return [] }
        var found: [(connection: UInt64, userID: Int64)] = []
        for (userID, entries) in users {
            for id in entries.keys where id.instance == instance { found.append((id.connection, userID)) }
        }
        return found
    }

    /// Every entry, by task (for a resync's comparison).
    public var allEntries: [Int64: [PresenceEntry.ID: PresenceEntry]] {
        var all: [Int64: [PresenceEntry.ID: PresenceEntry]] = [:]
        for (taskID, users) in self.tasks {
            for entries in users.values { all[taskID, default: [:]].merge(entries) { a, _ in a } }
        }
        return all
    }

    public func entry(taskID: Int64, id: PresenceEntry.ID) -> PresenceEntry? {
        guard let users = self.tasks[taskID] else { return nil }
        for entries in users.values { if let entry = entries[id] { return entry } }
        return nil
    }

    /// The person as others see them, or nil when none of their sessions is on the task.
    public func member(taskID: Int64, userID: Int64) -> PresenceMember? {
        guard let entries = self.tasks[taskID]?[userID], !entries.isEmpty else { return nil }
        var since = Timestamp(milliseconds: .max)
        var first: PresenceEntry?
        // The state shown: the latest-changed non-empty one (typing in any tab shows), else {}.
        var latest: (id: PresenceEntry.ID, entry: PresenceEntry)?
        for (id, entry) in entries {
            since = min(since, entry.since)
            if first == nil || entry.since < first!.since { first = entry }
            guard entry.state.objectValue?.isEmpty == false else { continue }
            if let current = latest {
                let newer = entry.changedAt > current.entry.changedAt
                    || (entry.changedAt == current.entry.changedAt && id.field > current.id.field)
                if newer { latest = (id, entry) }
            } else {
                latest = (id, entry)
            }
        }
        let shown = latest?.entry ?? first!
        return PresenceMember(
            userID: userID, username: shown.username, avatarURL: shown.avatarURL, since: since, state: latest?.entry.state ?? .object(JSONObject()),
            sessions: entries.count
        )
    }

    /// The people on `taskID`, in the order they joined (ties by user id).
    public func members(taskID: Int64) -> [PresenceMember] {
        guard let users = self.tasks[taskID] else { return [] }
        return users.keys.compactMap { self.member(taskID: taskID, userID: $0) }
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
        for users in self.tasks.values { for entries in users.values { for id in entries.keys { found.insert(id.instance) } } }
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
