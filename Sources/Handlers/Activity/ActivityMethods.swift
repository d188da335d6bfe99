public import JSONRPC

/// The `activity.*` methods (protocol/README.md, "Activity"): list, taskTimeline, stats, read from
/// the log every change writes in its own transaction.
///
/// Every read is one indexed, paged query, never the whole log, so its cost does not grow with
/// history: `activity.list` walks `(actor_id, created_at, id)`, `activity.taskTimeline` walks
/// `(task_id, id)`, `activity.stats` groups the caller's rows (a dozen groups at most). Internal
/// `session` rows never appear. `from > to` is an empty page, like `tasks.list`'s ranges.
/// The timeline needs view on the task now and then shows everything logged about it, from
/// before the caller's access too (it is the task's history, not the caller's events).
public enum ActivityMethods {
    public static func register(in registry: inout MethodRegistry<ClientSession>, domain: Domain) {
        registry.registerSignedIn("activity.list", params: ActivityParams.List.self) { params, call in
            try await list(params, call, domain)
        }
        registry.registerSignedIn("activity.taskTimeline", params: ActivityParams.TaskTimeline.self) { params, call in
            try await taskTimeline(params, call, domain)
        }
        registry.registerSignedIn("activity.stats", params: NoParams.self) { _, call in
            try await stats(call, domain)
        }
    }

    /// `activity.list`: the caller's own actions, newest first.
    static func list(_ params: ActivityParams.List, _ call: SignedInCall, _ domain: Domain) async throws -> PageResult<ActivityRecord> {
        var errors = FieldErrors()
        let (limit, offset) = Paging.page(limit: params.limit, offset: params.offset, errors: &errors)
        try errors.throwIfAny()
        var query = ActivityQuery(actorID: call.userID)
        query.action = params.action
        query.resourceType = params.resourceType
        query.from = params.from
        query.to = params.to
        query.limit = limit
        query.offset = offset
        let built = query
        let (items, total) = try await domain.store.read { tx in try tx.activity(matching: built) }
        return PageResult(items: items, total: total, limit: limit, offset: offset)
    }

    /// `activity.taskTimeline`: needs view; oldest first.
    static func taskTimeline(_ params: ActivityParams.TaskTimeline, _ call: SignedInCall, _ domain: Domain) async throws -> PageResult<ActivityRecord> {
        try await Paging.taskPage(taskID: params.taskId, limit: params.limit, offset: params.offset, call: call, domain: domain) {
            tx, id, limit, offset in try tx.taskTimeline(taskID: id, limit: limit, offset: offset)
        }
    }

    /// `activity.stats`: `{total, byAction, byResourceType}` of the caller's own actions,
    /// counted from the log on every call.
    static func stats(_ call: SignedInCall, _ domain: Domain) async throws -> ActivityStats {
        let caller = call.userID
        return try await domain.store.read { tx in try tx.activityStats(actorID: caller) }
    }
}
