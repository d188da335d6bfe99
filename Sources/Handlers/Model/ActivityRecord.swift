public import JSON
public import JSONRPC

/// What happened: the event type of a change (protocol/README.md, "Live events"), which is also its
/// activity `action`.
public enum ActivityAction: String, Sendable, Hashable, Codable, CaseIterable, RPCParamEnum {
    case taskCreated = "task.created"
    case taskUpdated = "task.updated"
    case taskDeleted = "task.deleted"
    case shareCreated = "share.created"
    case shareUpdated = "share.updated"
    case shareRevoked = "share.revoked"
    case commentCreated = "comment.created"
    case commentUpdated = "comment.updated"
    case commentDeleted = "comment.deleted"
    case fileUploaded = "file.uploaded"
    case fileDeleted = "file.deleted"

    public var resourceType: ResourceType {
        switch self {
        case .taskCreated, .taskUpdated, .taskDeleted: .task
        case .shareCreated, .shareUpdated, .shareRevoked: .share
        case .commentCreated, .commentUpdated, .commentDeleted: .comment
        case .fileUploaded, .fileDeleted: .file
        }
    }
}

/// What an activity row is about. `session` rows (`session.revoked`, written by the sign-out
/// fan-out) live in the same log but are never listed by `activity.*`, so this type, which
/// `activity.*` filters and answers with, leaves them out.
public enum ResourceType: String, Sendable, Hashable, Codable, CaseIterable, RPCParamEnum {
    case task
    case share
    case comment
    case file
}

/// One change about to be logged: its `activity` row (with `seq` NULL) and its audience, written
/// in the transaction of the change (docs/events.md §1). Built by ``ActivityRecorder``.
public struct NewActivity: Sendable, Hashable {
    /// The acting user; their current username is stored with the row.
    public var actorID: Int64
    public var action: ActivityAction
    /// The task, comment or file id; for a share, the sharee's user id.
    public var resourceID: Int64
    public var taskID: Int64
    /// What changed: `{field: {old, new}}`, a snapshot of what was created or deleted.
    public var details: JSONObject
    /// The event's `data`, exactly as the "Live events" table of protocol/README.md says (task
    /// events carry the Task with `permission` "owner"; delivery rewrites it per recipient).
    public var data: JSONValue
    public var createdAt: Timestamp
    /// Everyone who could view the task just before or just after the change, each with their
    /// access after it (or before it, for those who lost it).
    public var audience: ActivityAudience

    public init(
        actorID: Int64, action: ActivityAction, resourceID: Int64, taskID: Int64, details: JSONObject,
        data: JSONValue, createdAt: Timestamp, audience: [AudienceMember]
    ) {
        self.init(
            actorID: actorID, action: action, resourceID: resourceID, taskID: taskID, details: details,
            data: data, createdAt: createdAt, audience: .members(audience)
        )
    }

    public init(
        actorID: Int64, action: ActivityAction, resourceID: Int64, taskID: Int64, details: JSONObject,
        data: JSONValue, createdAt: Timestamp, audience: ActivityAudience
    ) {
        self.actorID = actorID
        self.action = action
        self.resourceID = resourceID
        self.taskID = taskID
        self.details = details
        self.data = data
        self.createdAt = createdAt
        self.audience = audience
    }

    public var resourceType: ResourceType { action.resourceType }
}

/// Who an activity row's event is for, as the store records it: a set of members shared by
/// every event that has the same one (docs/events.md, "Audience sets").
public enum ActivityAudience: Sendable, Hashable {
    /// Everyone who may view the task now (its owner and sharees), read inside the change's
    /// transaction: the store reuses the task's current set, and writes a new one only after
    /// its membership changed.
    case currentMembers(taskID: Int64)
    /// Exactly these members (an audience that is not a task's membership at one moment, e.g.
    /// the remaining members plus the one who just lost access).
    case members([AudienceMember])
}

/// One logged change as `activity.*` shows it (`Activity` in protocol/openrpc.json).
public struct ActivityRecord: Sendable, Hashable, Encodable {
    public var id: Int64
    /// Nil between commit and sequencing.
    public var seq: Int64?
    /// Nil once the actor's account is gone; `actorUsername` keeps the name they had.
    public var actorID: Int64?
    public var actorUsername: String
    public var action: ActivityAction
    public var resourceType: ResourceType
    public var resourceID: Int64
    public var taskID: Int64
    public var details: JSONObject
    public var createdAt: Timestamp

    public init(
        id: Int64, seq: Int64?, actorID: Int64?, actorUsername: String, action: ActivityAction,
        resourceType: ResourceType, resourceID: Int64, taskID: Int64, details: JSONObject, createdAt: Timestamp
    ) {
        self.id = id
        self.seq = seq
        self.actorID = actorID
        self.actorUsername = actorUsername
        self.action = action
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.taskID = taskID
        self.details = details
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, actorId, actorUsername, action, resourceType, resourceId, taskId, details, createdAt, seq
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(actorID, forKey: .actorId)
        try c.encode(actorUsername, forKey: .actorUsername)
        try c.encode(action, forKey: .action)
        try c.encode(resourceType, forKey: .resourceType)
        try c.encode(resourceID, forKey: .resourceId)
        try c.encode(taskID, forKey: .taskId)
        try c.encode(JSONValue.object(details), forKey: .details)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(seq, forKey: .seq)
    }
}

/// `activity.list` after validation: the actor's own rows, filtered, newest first.
public struct ActivityQuery: Sendable, Hashable {
    public var actorID: Int64
    public var action: ActivityAction?
    public var resourceType: ResourceType?
    /// Inclusive bounds on `createdAt`.
    public var from: Timestamp?
    public var to: Timestamp?
    public var limit: Int = 50
    public var offset: Int = 0

    public init(actorID: Int64) {
        self.actorID = actorID
    }
}

/// `activity.stats`: counts over the caller's own actions.
public struct ActivityStats: Sendable, Hashable, Encodable {
    public var total = 0
    public var byAction: [String: Int] = [:]
    public var byResourceType: [String: Int] = [:]

    public init() {}
}
