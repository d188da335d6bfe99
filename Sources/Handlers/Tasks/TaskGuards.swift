import JSON
import JSONRPC

/// Who may do what with a task, answered with the API's errors.
///
/// A task the caller cannot see is -32004, exactly like one that does not exist, whatever the
/// caller tried to do with it: answering -32003 there would tell a stranger the id is taken. -32003
/// is kept for a task the caller can see but may not change this way (a viewer editing, an editor
/// deleting).
enum TaskGuards {
    /// The task as the caller sees it; -32004 when it is absent or invisible.
    static func visible(_ task: TaskRecord?, reportingID id: Int64? = nil) throws(RPCError) -> TaskRecord {
        guard let task else { throw .taskNotFound(id: id) }
        return task
    }

    /// The task, when the caller may edit it (owner or edit share).
    static func editable(_ task: TaskRecord?, reportingID id: Int64? = nil) throws(RPCError) -> TaskRecord {
        let task = try visible(task, reportingID: id)
        guard task.permission.allows(.edit) else { throw .taskForbidden(id: id, message: "You may only view this task") }
        return task
    }

    /// The task, when the caller owns it.
    static func owned(_ task: TaskRecord?) throws(RPCError) -> TaskRecord {
        let task = try visible(task)
        guard task.permission == .owner else { throw .taskForbidden(id: nil, message: "Only the owner may do this") }
        return task
    }

    /// Locks the task for the rest of the transaction and returns it when the caller may edit
    /// it: the read-modify-write paths (tags, updates) start here, so two concurrent edits of
    /// one task are applied one after the other and neither is lost.
    static func lockEditable(_ tx: any StoreWriter, id: Int64, viewer: Int64) throws -> TaskRecord {
        try editable(tx.lockTask(id: id, viewer: viewer))
    }
}

extension RPCError {
    /// -32004 for a task; `data.id` names it where several ids were given (bulk updates).
    static func taskNotFound(id: Int64? = nil) -> RPCError {
        RPCError(.notFound, message: "Task not found", data: id.map { ["id": .number(JSONNumber($0))] })
    }

    /// -32003 for a task the caller can see; `data.id` as ``taskNotFound(id:)``.
    static func taskForbidden(id: Int64? = nil, message: String) -> RPCError {
        RPCError(.forbidden, message: message, data: id.map { ["id": .number(JSONNumber($0))] })
    }
}
