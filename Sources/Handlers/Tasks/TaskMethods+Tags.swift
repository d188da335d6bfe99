import JSON
import JSONRPC

extension TaskMethods {
    /// `tasks.addTags`: merges tags into a task's list, existing ones first, new ones after in
    /// the order given; a tag the task already has ignoring case is skipped (the stored spelling
    /// stays). More than 20 in all is -32602 naming `tags`.
    ///
    /// The task is locked while the list is read, merged and written, so concurrent additions
    /// all land. An empty `tags` is -32602: adding nothing is a client bug, not a
    /// request. Adding only tags the task already has writes nothing and keeps `updatedAt`.
    static func addTags(_ params: TaskParams.AddTags, _ call: SignedInCall, _ domain: Domain) async throws -> JSONValue {
        var errors = FieldErrors()
        let id = errors.check { () throws(RPCError) in try IDRules.id(params.id, field: "id") }
        let tags = errors.check { () throws(RPCError) in try TaskValidation.tags(params.tags, field: "tags") }
        if params.tags.isEmpty {
            errors.add("tags", "must hold at least one tag")
        }
        try errors.throwIfAny()
        let viewer = call.userID
        return try await domain.recordedWrite(call, method: "tasks.addTags", requestKey: params.requestKey) { [id = id!, tags = tags!] tx, activity in
            let task = try TaskGuards.lockEditable(tx, id: id, viewer: viewer)
            var fields = task.fields
            fields.tags = try TaskValidation.mergedTags(task.fields.tags, adding: tags, field: "tags")
            return try apply(fields, to: task, viewer: viewer, in: tx, activity)
        }
    }

    /// `tasks.removeTag`: removes the tag that matches `tag` ignoring case (trimmed like every
    /// tag); -32004 when the task has no such tag. The tag travels in the params, never in a
    /// path, so tags holding `/` are no problem.
    static func removeTag(_ params: TaskParams.RemoveTag, _ call: SignedInCall, _ domain: Domain) async throws -> JSONValue {
        var errors = FieldErrors()
        let id = errors.check { () throws(RPCError) in try IDRules.id(params.id, field: "id") }
        let tag = errors.check { () throws(RPCError) in try TaskValidation.tag(params.tag, field: "tag") }
        try errors.throwIfAny()
        let folded = TextRules.fold(tag!)
        let viewer = call.userID
        return try await domain.recordedWrite(call, method: "tasks.removeTag", requestKey: params.requestKey) { [id = id!] tx, activity in
            let task = try TaskGuards.lockEditable(tx, id: id, viewer: viewer)
            guard let index = task.fields.tags.firstIndex(where: { TextRules.fold($0) == folded }) else {
                throw RPCError(.notFound, message: "The task has no such tag")
            }
            var fields = task.fields
            fields.tags.remove(at: index)
            return try apply(fields, to: task, viewer: viewer, in: tx, activity)
        }
    }
}
