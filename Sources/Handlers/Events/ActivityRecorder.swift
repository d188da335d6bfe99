import JSON
import JSONRPC

/// Logs changes to the activity log, which is the event log (docs/events.md): one place that
/// decides, for every kind of change, its `details`, its event `data` (protocol/README.md, "Live
/// events") and its audience, so every handler records alike.
///
/// It works inside the change's own transaction (`tx`): the row and its audience commit or roll
/// back with the change. The audience is read from the task's current shares at the moment of
/// the call, so callers record after the change for everything that grants or keeps access, and
/// before it for what takes access away (a deleted task) — or pass who lost it
/// (``shareRevoked(_:)``). Callers lock the task row first (``TaskGuards/lockEditable(_:id:viewer:)``
/// or ``StoreWriter/lockTask(id:viewer:)``), so changes to one task are logged in commit order.
struct ActivityRecorder {
    let tx: any StoreWriter
    let actor: Int64
    let at: Timestamp
    /// Where the notification mail of a change goes (docs/mail.md), written in the same
    /// transaction; nil where a change sends none.
    var mail: NotificationOutbox? = nil

    // MARK: Tasks

    /// `task.created`: details and data are the new Task. Its only viewer is its owner.
    func taskCreated(_ task: TaskRecord) throws {
        let value = try Self.ownerView(task)
        try insert(.taskCreated, resourceID: task.id, taskID: task.id, details: value.objectValue ?? [:], data: value,
                   audience: .currentMembers(taskID: task.id))
    }

    /// `task.updated` with `changes: {field: {old, new}}` for every field that differs (tags and
    /// completion included); nothing at all when no field does.
    func taskUpdated(from before: TaskRecord, to after: TaskRecord) throws {
        let changes = try Self.changes(before.fields, after.fields)
        guard !changes.isEmpty else { return }
        guard case .object(var data) = try Self.ownerView(after) else { throw RPCError.internalError() }
        data.append(key: "changes", value: .object(changes))
        try insert(.taskUpdated, resourceID: after.id, taskID: after.id, details: changes, data: .object(data),
                   audience: .currentMembers(taskID: after.id))
        if !before.fields.completed, after.fields.completed, actor != after.ownerID {
            try mail?.taskCompleted(after, by: actor, tx: tx)
        }
    }

    /// `task.deleted`, before the task goes: details are its last state, data `{id}`, the
    /// audience everyone who could view it.
    func taskDeleted(_ task: TaskRecord) throws {
        let snapshot = try Self.ownerView(task)
        try insert(.taskDeleted, resourceID: task.id, taskID: task.id, details: snapshot.objectValue ?? [:],
                   data: ["id": .number(JSONNumber(task.id))], audience: .currentMembers(taskID: task.id))
    }

    // MARK: Shares

    /// `share.created`, after the insert (the new sharee is in the audience).
    func shareCreated(_ share: ShareRecord) throws {
        try insert(.shareCreated, resourceID: share.userID, taskID: share.taskID, details: Self.shareSnapshot(share),
                   data: try Self.encode(share), audience: .currentMembers(taskID: share.taskID))
        try mail?.taskShared(share, by: actor, tx: tx)
    }

    /// `share.updated`, after the update; details `{permission: {old, new}}`.
    func shareUpdated(from before: ShareRecord, to after: ShareRecord) throws {
        let details: JSONObject = ["permission": ["old": .string(before.permission.rawValue), "new": .string(after.permission.rawValue)]]
        try insert(.shareUpdated, resourceID: after.userID, taskID: after.taskID, details: details,
                   data: try Self.encode(after), audience: .currentMembers(taskID: after.taskID))
    }

    /// `share.revoked`, after the delete: the audience is everyone left plus the revoked user
    /// with the permission they had, so they learn of it too.
    func shareRevoked(_ share: ShareRecord) throws {
        var audience = try tx.taskAudience(taskID: share.taskID)
        audience.append(AudienceMember(userID: share.userID, permission: share.permission.permission))
        try insert(.shareRevoked, resourceID: share.userID, taskID: share.taskID, details: Self.shareSnapshot(share),
                   data: try Self.encode(share), audience: .members(audience))
    }

    // MARK: Comments

    func commentCreated(_ comment: CommentRecord) throws {
        try insert(.commentCreated, resourceID: comment.id, taskID: comment.taskID, details: ["content": .string(comment.content)],
                   data: try Self.encode(comment), audience: .currentMembers(taskID: comment.taskID))
        try mail?.commentAdded(comment, by: actor, tx: tx)
    }

    /// Details `{content: {new}}`. The log keeps a comment's text only while it is the current
    /// text (what `comments.list` shows anyway): the comment's earlier entries are redacted,
    /// their event data becoming the comment as it now is, so text edited out of a comment is
    /// not left readable in the timeline or a replay.
    func commentUpdated(from before: CommentRecord, to after: CommentRecord) throws {
        let data = try Self.encode(after)
        try tx.redactCommentActivity(commentID: after.id, data: data)
        let details: JSONObject = ["content": ["new": .string(after.content)]]
        try insert(.commentUpdated, resourceID: after.id, taskID: after.taskID, details: details,
                   data: data, audience: .currentMembers(taskID: after.taskID))
    }

    /// Details `{}`, data `{id, taskId}`: a deleted comment's text does not outlive it, so it
    /// is not stored here and the comment's earlier entries are redacted (their event data
    /// becoming `{id, taskId}` as well), for every viewer of the timeline or a replay,
    /// including people the task is shared with later.
    func commentDeleted(_ comment: CommentRecord) throws {
        let reference = Self.childReference(id: comment.id, taskID: comment.taskID)
        try tx.redactCommentActivity(commentID: comment.id, data: reference)
        try insert(.commentDeleted, resourceID: comment.id, taskID: comment.taskID, details: [:],
                   data: reference, audience: .currentMembers(taskID: comment.taskID))
    }

    // MARK: Files

    /// `file.uploaded` (the REST bridge's upload path): data is the File.
    func fileUploaded(_ file: FileRecord) throws {
        try insert(.fileUploaded, resourceID: file.id, taskID: file.taskID, details: Self.fileSnapshot(file),
                   data: try Self.encode(file), audience: .currentMembers(taskID: file.taskID))
    }

    /// Details are what the file was; data `{id, taskId}`.
    func fileDeleted(_ file: FileRecord) throws {
        try insert(.fileDeleted, resourceID: file.id, taskID: file.taskID, details: Self.fileSnapshot(file),
                   data: Self.childReference(id: file.id, taskID: file.taskID), audience: .currentMembers(taskID: file.taskID))
    }

    // MARK: Building

    private func insert(
        _ action: ActivityAction, resourceID: Int64, taskID: Int64, details: JSONObject, data: JSONValue,
        audience: ActivityAudience
    ) throws {
        try tx.insertActivity(NewActivity(
            actorID: actor, action: action, resourceID: resourceID, taskID: taskID,
            details: details, data: data, createdAt: at, audience: audience
        ))
    }

    /// The Task as its owner sees it: the form stored in the log, whoever acted.
    static func ownerView(_ task: TaskRecord) throws -> JSONValue {
        var task = task
        task.permission = .owner
        return try encode(task)
    }

    /// `{field: {old, new}}` for each field that differs, in the Task's field order.
    static func changes(_ before: TaskFields, _ after: TaskFields) throws -> JSONObject {
        var changes = JSONObject()
        func add<T: Encodable & Equatable>(_ name: String, _ old: T, _ new: T) throws {
            guard old != new else { return }
            changes.append(key: name, value: ["old": try encode(old), "new": try encode(new)])
        }
        try add("title", before.title, after.title)
        try add("description", before.description, after.description)
        try add("completed", before.completed, after.completed)
        try add("priority", before.priority, after.priority)
        try add("dueDate", before.dueDate, after.dueDate)
        try add("tags", before.tags, after.tags)
        return changes
    }

    static func shareSnapshot(_ share: ShareRecord) -> JSONObject {
        ["username": .string(share.username), "permission": .string(share.permission.rawValue)]
    }

    static func fileSnapshot(_ file: FileRecord) -> JSONObject {
        ["filename": .string(file.filename), "size": .number(JSONNumber(file.size)), "contentType": .string(file.contentType)]
    }

    /// `{id, taskId}`: the data of `comment.deleted` and `file.deleted`.
    static func childReference(id: Int64, taskID: Int64) -> JSONValue {
        ["id": .number(JSONNumber(id)), "taskId": .number(JSONNumber(taskID))]
    }

    static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        try JSONValueEncoder().encode(value)
    }
}
