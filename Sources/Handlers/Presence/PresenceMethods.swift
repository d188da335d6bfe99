import JSON
public import JSONRPC

/// `presence.enter`, `presence.leave`, `presence.list` and `presence.overview`
/// (protocol/README.md, "Presence"; docs/presence.md).
public enum PresenceMethods {
    struct EnterParams: Decodable, Sendable {
        var taskId: Int64
        var state: JSONValue?
    }

    struct TaskParams: Decodable, Sendable {
        var taskId: Int64
    }

    struct OverviewParams: Decodable, Sendable {
        var taskIds: [Int64]
    }

    struct EnterResult: Encodable, Sendable {
        var taskId: Int64
        var since: Timestamp
        var partial: Bool
    }

    struct LeaveResult: Encodable, Sendable {
        var taskId: Int64
        var left: Bool
    }

    struct ListResult: Encodable, Sendable {
        var taskId: Int64
        var members: [JSONValue]
        var partial: Bool
    }

    struct OverviewEntry: Encodable, Sendable {
        var taskId: Int64
        var userIds: [Int64]
    }

    struct OverviewResult: Encodable, Sendable {
        var tasks: [OverviewEntry]
        var partial: Bool
    }

    /// Most ids one `presence.overview` takes.
    static let maxOverviewTasks = 200

    public static func register(in registry: inout MethodRegistry<ClientSession>, domain: Domain) {
        registry.registerSignedIn("presence.enter", params: EnterParams.self) { params, call in
            try await enter(params, call, domain)
        }
        registry.registerSignedIn("presence.leave", params: TaskParams.self) { params, call in
            let taskID = try IDRules.id(params.taskId, field: "taskId")
            let left = try domain.presence.leave(call.client, taskID: taskID, rateLimited: domain.configuration.rateLimitsEnabled)
            return LeaveResult(taskId: taskID, left: left)
        }
        registry.registerSignedIn("presence.list", params: TaskParams.self) { params, call in
            let taskID = try IDRules.id(params.taskId, field: "taskId")
            let userID = call.userID
            guard try await domain.store.read({ tx in try tx.task(id: taskID, viewer: userID) != nil }) else {
                throw RPCError.taskNotFound()
            }
            return ListResult(
                taskId: taskID, members: domain.presence.members(taskID: taskID).map(\.json), partial: domain.presence.isPartial)
        }
        registry.registerSignedIn("presence.overview", params: OverviewParams.self) { params, call in
            try await overview(params, call, domain)
        }
    }

    static func enter(_ params: EnterParams, _ call: SignedInCall, _ domain: Domain) async throws -> EnterResult {
        let taskID = try IDRules.id(params.taskId, field: "taskId")
        let state = params.state ?? .object(JSONObject())
        guard state.objectValue != nil else { throw RPCError.invalidParams(field: "state", message: "must be an object") }
        let limit = domain.presence.settings.maxStateBytes
        guard JSONWriter.serialize(state).count <= limit else {
            throw RPCError.tooLarge(limit: limit, message: "state is larger than \(limit) bytes")
        }
        let userID = call.userID
        let rateLimited = domain.configuration.rateLimitsEnabled
        // Already there (a new state, typing every few seconds): no store read. Losing view
        // takes a session off at once, so being on the task is the access check.
        if domain.presence.isOn(call.client, userID: userID, taskID: taskID),
            let since = try domain.presence.enter(
                call.client, userID: userID, username: "", avatarURL: nil, taskID: taskID, state: state, viewers: nil,
                rateLimited: rateLimited)
        {
            return EnterResult(taskId: taskID, since: since, partial: domain.presence.isPartial)
        }
        let found = try await domain.store.read { tx -> (row: UserRow, viewers: [AudienceMember])? in
            guard try tx.task(id: taskID, viewer: userID) != nil, let row = try tx.user(id: userID) else { return nil }
            return (row, try tx.taskAudience(taskID: taskID))
        }
        guard let found else { throw RPCError.taskNotFound() }
        let entered = try domain.presence.enter(
            call.client, userID: userID, username: found.row.username,
            avatarURL: domain.avatarURL(userID: userID, etag: found.row.avatarETag), taskID: taskID, state: state,
            viewers: Set(found.viewers.map(\.userID)), rateLimited: rateLimited
        )
        // With the task's viewers given, enter always places the session.
        guard let since = entered else { throw RPCError.internalError() }
        return EnterResult(taskId: taskID, since: since, partial: domain.presence.isPartial)
    }

    static func overview(_ params: OverviewParams, _ call: SignedInCall, _ domain: Domain) async throws -> OverviewResult {
        guard !params.taskIds.isEmpty else { throw RPCError.invalidParams(field: "taskIds", message: "must list at least one task") }
        guard params.taskIds.count <= maxOverviewTasks else {
            throw RPCError.invalidParams(field: "taskIds", message: "must list at most \(maxOverviewTasks) tasks")
        }
        var ids: [Int64] = []
        var seen: Set<Int64> = []
        for (index, id) in params.taskIds.enumerated() {
            _ = try IDRules.id(id, field: "taskIds.\(index)")
            if seen.insert(id).inserted { ids.append(id) }
        }
        let occupied = domain.presence.overview(ids)
        guard !occupied.isEmpty else { return OverviewResult(tasks: [], partial: domain.presence.isPartial) }
        let userID = call.userID
        let candidates = occupied.map(\.taskID)
        let visible: Set<Int64> = try await domain.store.read { tx in
            Set(try candidates.filter { try tx.task(id: $0, viewer: userID) != nil })
        }
        return OverviewResult(
            tasks: occupied.filter { visible.contains($0.taskID) }.map { OverviewEntry(taskId: $0.taskID, userIds: $0.userIDs) },
            partial: domain.presence.isPartial
        )
    }
}
