public import JSON
public import JSONRPC

/// The fields of a task that its editors write (the create and update params after validation).
///
/// Already normalized: title and description trimmed and checked, tags trimmed, de-duplicated
/// ignoring case (first spelling kept, order kept) and within the limits.
public struct TaskFields: Sendable, Hashable {
    public var title: String
    public var description: String?
    public var completed: Bool
    public var priority: Priority
    public var dueDate: DayDate?
    public var tags: [String]

    public init(title: String, description: String?, completed: Bool, priority: Priority, dueDate: DayDate?, tags: [String]) {
        self.title = title
        self.description = description
        self.completed = completed
        self.priority = priority
        self.dueDate = dueDate
        self.tags = tags
    }
}

/// A task as the API shows it to one user (`Task` in protocol/openrpc.json), with that user's
/// `permission`.
public struct TaskRecord: Sendable, Hashable, JSONValueRepresentable {
    public var id: Int64
    public var ownerID: Int64
    public var ownerUsername: String
    public var fields: TaskFields
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// The permission of the user this record was read for.
    public var permission: Permission
    /// How many users the task is shared with.
    public var shareCount: Int

    public init(
        id: Int64, ownerID: Int64, ownerUsername: String, fields: TaskFields,
        createdAt: Timestamp, updatedAt: Timestamp, permission: Permission, shareCount: Int
    ) {
        self.id = id
        self.ownerID = ownerID
        self.ownerUsername = ownerUsername
        self.fields = fields
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.permission = permission
        self.shareCount = shareCount
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, ownerId, ownerUsername, title, description, completed, priority, dueDate, tags
        case createdAt, updatedAt, permission, shareCount
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(ownerID, forKey: .ownerId)
        try c.encode(ownerUsername, forKey: .ownerUsername)
        try c.encode(fields.title, forKey: .title)
        try c.encode(fields.description, forKey: .description)
        try c.encode(fields.completed, forKey: .completed)
        try c.encode(fields.priority, forKey: .priority)
        try c.encode(fields.dueDate, forKey: .dueDate)
        try c.encode(fields.tags, forKey: .tags)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encode(permission, forKey: .permission)
        try c.encode(shareCount, forKey: .shareCount)
    }

    /// The same object as `encode(to:)` writes, built directly (it is encoded for every call
    /// that answers with a task and for every task event). `JSONValueEncoder` writes absent
    /// optionals as `null`, and so does this.
    public var jsonValue: JSONValue {
        var object = JSONObject()
        object.reserveCapacity(CodingKeys.allCases.count)
        object.append(key: CodingKeys.id.stringValue, value: .number(JSONNumber(id)))
        object.append(key: CodingKeys.ownerId.stringValue, value: .number(JSONNumber(ownerID)))
        object.append(key: CodingKeys.ownerUsername.stringValue, value: .string(ownerUsername))
        object.append(key: CodingKeys.title.stringValue, value: .string(fields.title))
        object.append(key: CodingKeys.description.stringValue, value: fields.description.map { .string($0) } ?? .null)
        object.append(key: CodingKeys.completed.stringValue, value: .bool(fields.completed))
        object.append(key: CodingKeys.priority.stringValue, value: .string(fields.priority.rawValue))
        object.append(key: CodingKeys.dueDate.stringValue, value: fields.dueDate.map { .string($0.description) } ?? .null)
        object.append(key: CodingKeys.tags.stringValue, value: .array(fields.tags.map { .string($0) }))
        object.append(key: CodingKeys.createdAt.stringValue, value: .string(createdAt.description))
        object.append(key: CodingKeys.updatedAt.stringValue, value: .string(updatedAt.description))
        object.append(key: CodingKeys.permission.stringValue, value: .string(permission.rawValue))
        object.append(key: CodingKeys.shareCount.stringValue, value: .number(JSONNumber(shareCount)))
        return .object(object)
    }
}

/// `tasks.list` after validation: which tasks, in which order, which page.
public struct TaskQuery: Sendable, Hashable {
    public enum Scope: String, Sendable, CaseIterable, RPCParamEnum {
        /// Tasks the caller owns.
        case owned
        /// Tasks shared with the caller.
        case shared
        /// Both.
        case all
    }

    public enum SortField: String, Sendable, CaseIterable, RPCParamEnum {
        case createdAt, updatedAt, dueDate, priority, title
    }

    public enum SortOrder: String, Sendable, CaseIterable, RPCParamEnum {
        case asc, desc
    }

    public var scope: Scope = .owned
    public var completed: Bool?
    public var priority: Priority?
    /// Tags the task must all have, folded (``TextRules/fold(_:)``) and distinct.
    public var tagsFolded: [String] = []
    /// `true`: due before `today` and not completed; `false`: every other task.
    public var overdue: Bool?
    /// The UTC date `overdue` is measured against.
    public var today: DayDate
    /// Matched literally against the folded title and description; already folded.
    public var searchFolded: String?
    public var createdAfter: Timestamp?
    public var createdBefore: Timestamp?
    public var dueAfter: DayDate?
    public var dueBefore: DayDate?
    public var sortBy: SortField = .createdAt
    public var sortOrder: SortOrder = .desc
    public var limit: Int = 50
    public var offset: Int = 0

    public init(today: DayDate) {
        self.today = today
    }
}

/// `tasks.stats`: counts over the caller's own tasks, always computed from the current rows.
public struct TaskStats: Sendable, Hashable, Encodable {
    public struct ByPriority: Sendable, Hashable, Encodable {
        public var low = 0
        public var medium = 0
        public var high = 0
        public init() {}
    }

    public var total = 0
    public var completed = 0
    public var incomplete = 0
    public var overdue = 0
    public var byPriority = ByPriority()
    /// Tag to number of owned tasks carrying it; tags that differ only in case count as one,
    /// shown with the spelling that sorts first by code point.
    public var byTag: [String: Int] = [:]
    public var tasksShared = 0
    public var commentsPosted = 0

    public init() {}
}
