public import JSONRPC

/// The permission a share grants: `view` or `edit` (never `owner`, which no share can give).
public enum SharePermission: String, Sendable, Hashable, Codable, CaseIterable, RPCParamEnum {
    case view
    case edit

    public var permission: Permission {
        switch self {
        case .view: .view
        case .edit: .edit
        }
    }
}

/// One share of a task with a user (`Share` in protocol/openrpc.json).
public struct ShareRecord: Sendable, Hashable, Encodable {
    public var taskID: Int64
    public var userID: Int64
    /// The sharee's current username.
    public var username: String
    public var permission: SharePermission
    public var sharedAt: Timestamp
    /// Who shared it (the owner); nil once that account is gone.
    public var sharedBy: Int64?

    public init(taskID: Int64, userID: Int64, username: String, permission: SharePermission, sharedAt: Timestamp, sharedBy: Int64?) {
        self.taskID = taskID
        self.userID = userID
        self.username = username
        self.permission = permission
        self.sharedAt = sharedAt
        self.sharedBy = sharedBy
    }

    enum CodingKeys: String, CodingKey { case taskId, userId, username, permission, sharedAt, sharedBy }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(taskID, forKey: .taskId)
        try c.encode(userID, forKey: .userId)
        try c.encode(username, forKey: .username)
        try c.encode(permission, forKey: .permission)
        try c.encode(sharedAt, forKey: .sharedAt)
        try c.encode(sharedBy, forKey: .sharedBy)
    }
}

/// A share about to be inserted.
public struct NewShare: Sendable, Hashable {
    public var taskID: Int64
    public var userID: Int64
    public var permission: SharePermission
    public var sharedAt: Timestamp
    public var sharedBy: Int64

    public init(taskID: Int64, userID: Int64, permission: SharePermission, sharedAt: Timestamp, sharedBy: Int64) {
        self.taskID = taskID
        self.userID = userID
        self.permission = permission
        self.sharedAt = sharedAt
        self.sharedBy = sharedBy
    }
}

/// One user who may view a task, with their permission: the owner and every sharee. An
/// activity row's audience is a list of these (docs/events.md §1).
public struct AudienceMember: Sendable, Hashable {
    public var userID: Int64
    public var permission: Permission

    public init(userID: Int64, permission: Permission) {
        self.userID = userID
        self.permission = permission
    }
}
