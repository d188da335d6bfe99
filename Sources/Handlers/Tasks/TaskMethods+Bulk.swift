import JSON
import JSONRPC

extension TaskMethods {
    /// `tasks.bulkUpdate`: the same changes to up to 100 tasks, all or nothing, in one
    /// transaction.
    ///
    /// The tasks are locked in ascending id order whatever the request order, so two bulk
    /// updates over overlapping ids wait for each other instead of deadlocking. Every task is
    /// checked before anything is written; the first id in request order that fails decides the
    /// error (-32004 when the caller cannot see it, -32003 when they may only view it), with
    /// `data.id` naming it, and nothing changes. Changes are applied in request order and the
    /// tasks come back in request order; a task the changes leave as it was is not written and
    /// keeps its `updatedAt`, as with `tasks.update`. Each changed task logs its own `task.updated`
    /// (a bulk change is as visible to watchers as a single one).
    static func bulkUpdate(_ params: TaskParams.BulkUpdate, _ call: SignedInCall, _ domain: Domain) async throws -> JSONValue {
        var errors = FieldErrors()
        let ids = errors.check { () throws(RPCError) in try TaskValidation.bulkIDs(params.ids) }
        let changes = errors.check { () throws(RPCError) in try TaskValidation.changes(params.changes, prefix: "changes.") }
        if let changes, changes.isEmpty {
            errors.add("changes", "must change at least one field")
        }
        try errors.throwIfAny()
        let viewer = call.userID
        return try await domain.recordedWrite(call, method: "tasks.bulkUpdate", requestKey: params.requestKey) { [ids = ids!, changes = changes!] tx, activity in
            var locked: [Int64: TaskRecord] = [:]
            for id in ids.sorted() {
                locked[id] = try tx.lockTask(id: id, viewer: viewer)
            }
            var tasks: [TaskRecord] = []
            tasks.reserveCapacity(ids.count)
            for id in ids {
                tasks.append(try TaskGuards.editable(locked[id], reportingID: id))
            }
            let items = try tasks.map { task in
                try apply(changes.applied(to: task.fields), to: task, viewer: viewer, in: tx, activity)
            }
            return Items(items: items)
        }
    }

    /// `{items}`: tasks in request order.
    struct Items: Encodable, Sendable {
        var items: [TaskRecord]
    }
}
