import JSON
public import JSONRPC

/// The `tasks.*` methods (protocol/README.md, "Tasks"): create, get, update, delete, list,
/// bulkUpdate, addTags, removeTag, stats.
///
/// Every one needs a signed-in session (-32001 before params are read). Params are validated in
/// full before anything is looked up, so -32602 wins over -32004. The mutating methods take an
/// optional `requestKey` and run through ``Domain/writeOnce(_:method:requestKey:_:)``: a retry
/// with the same key answers the first result and changes nothing again. Results are
/// ``TaskRecord``s, encoded as the API's Task with the caller's `permission`.
public enum TaskMethods {
    /// The default (README, "Configuration"): 60 task creations per minute per user. Far above what
    /// a person types, low enough that a runaway script cannot fill the database. Keyed
    /// `user:<id>`, following ``RateLimitPolicy``'s key prefixes (the rule could join that table).
    static let createRule = RateRule(name: "tasks.create.user", limit: 60, windowMilliseconds: 60_000)

    /// Adds the `tasks.*` methods to `registry`.
    public static func register(in registry: inout MethodRegistry<ClientSession>, domain: Domain) {
        registry.registerSignedIn("tasks.create", params: TaskParams.Create.self) { params, call in
            try await create(params, call, domain)
        }
        registry.registerSignedIn("tasks.get", params: TaskParams.Get.self) { params, call in
            try await get(params, call, domain)
        }
        registry.registerSignedIn("tasks.update", params: TaskParams.Update.self) { params, call in
            try await update(params, call, domain)
        }
        registry.registerSignedIn("tasks.delete", params: TaskParams.Delete.self) { params, call in
            try await delete(params, call, domain)
        }
        registry.registerSignedIn("tasks.list", params: TaskParams.List.self) { params, call in
            try await list(params, call, domain)
        }
        registry.registerSignedIn("tasks.bulkUpdate", params: TaskParams.BulkUpdate.self) { params, call in
            try await bulkUpdate(params, call, domain)
        }
        registry.registerSignedIn("tasks.addTags", params: TaskParams.AddTags.self) { params, call in
            try await addTags(params, call, domain)
        }
        registry.registerSignedIn("tasks.removeTag", params: TaskParams.RemoveTag.self) { params, call in
            try await removeTag(params, call, domain)
        }
        registry.registerSignedIn("tasks.stats", params: NoParams.self) { _, call in
            try await stats(call, domain)
        }
    }

    /// `tasks.create`: a new task owned by the caller.
    ///
    /// The rate limit is counted after validation (a malformed call creates nothing, so it costs
    /// nothing) and before the write. A retry with a `requestKey` counts as a call too: the
    /// limit is far above any honest retry rate, and checking the stored result first would cost
    /// every create an extra read.
    static func create(_ params: TaskParams.Create, _ call: SignedInCall, _ domain: Domain) async throws -> JSONValue {
        let fields = try TaskValidation.fields(params)
        if domain.configuration.rateLimitsEnabled,
            let wait = await domain.rateLimiter.record(createRule, key: "user:\(call.userID)", now: domain.clock())
        {
            throw RPCError.rateLimited(retryAfterMs: Int(clamping: wait))
        }
        let owner = call.userID
        return try await domain.recordedWrite(call, method: "tasks.create", requestKey: params.requestKey) { tx, activity in
            let task = try tx.insertTask(owner: owner, fields: fields, at: activity.at)
            try activity.taskCreated(task)
            return task
        }
    }

    /// `tasks.get`: needs view.
    static func get(_ params: TaskParams.Get, _ call: SignedInCall, _ domain: Domain) async throws -> TaskRecord {
        let id = try IDRules.id(params.id, field: "id")
        let viewer = call.userID
        return try await domain.store.read { tx in
            try TaskGuards.visible(tx.task(id: id, viewer: viewer))
        }
    }

    /// `tasks.update`: needs edit. `null` clears `description` and `dueDate`; an update that
    /// names no field, or sets every field to what it already is, writes nothing and keeps
    /// `updatedAt` (it still needs edit, so it cannot probe what a viewer may not change).
    static func update(_ params: TaskParams.Update, _ call: SignedInCall, _ domain: Domain) async throws -> JSONValue {
        var errors = FieldErrors()
        let id = errors.check { () throws(RPCError) in try IDRules.id(params.id, field: "id") }
        let changes = errors.check { () throws(RPCError) in try TaskValidation.changes(params.changes) }
        try errors.throwIfAny()
        let viewer = call.userID
        return try await domain.recordedWrite(call, method: "tasks.update", requestKey: params.requestKey) { [id = id!, changes = changes!] tx, activity in
            let task = try TaskGuards.lockEditable(tx, id: id, viewer: viewer)
            return try apply(changes.applied(to: task.fields), to: task, viewer: viewer, in: tx, activity)
        }
    }

    /// `tasks.delete`: owner only (an editor gets -32003); answers `{}`. The store removes what
    /// hangs off the task with it.
    static func delete(_ params: TaskParams.Delete, _ call: SignedInCall, _ domain: Domain) async throws -> JSONValue {
        let id = try IDRules.id(params.id, field: "id")
        let viewer = call.userID
        return try await domain.recordedWrite(call, method: "tasks.delete", requestKey: params.requestKey) { tx, activity in
            let task = try TaskGuards.owned(tx.lockTask(id: id, viewer: viewer))
            // Logged first: the audience is everyone who could view the task before it went.
            try activity.taskDeleted(task)
            guard try tx.deleteTask(id: task.id) else { throw RPCError.taskNotFound() }
            return JSONObject()
        }
    }

    /// `tasks.stats`: counted from the current rows on every call (no cache to go
    /// stale), overdue against today's UTC date.
    static func stats(_ call: SignedInCall, _ domain: Domain) async throws -> TaskStats {
        let owner = call.userID
        let today = domain.clock().day
        return try await domain.store.read { tx in
            try tx.taskStats(owner: owner, today: today)
        }
    }

    /// Writes `fields` over a locked task the caller may edit and logs `task.updated` with the
    /// old and new value of each changed field; when they equal what is stored, writes nothing,
    /// logs nothing and returns the task as it is (same `updatedAt`).
    static func apply(
        _ fields: TaskFields,
        to task: TaskRecord,
        viewer: Int64,
        in tx: any StoreWriter,
        _ activity: ActivityRecorder
    ) throws -> TaskRecord {
        guard fields != task.fields else { return task }
        guard let updated = try tx.updateTask(id: task.id, fields: fields, at: activity.at, viewer: viewer) else {
            throw RPCError.taskNotFound()
        }
        try activity.taskUpdated(from: task, to: updated)
        return updated
    }
}
