import JSON
public import JSONRPC

/// The `shares.*` methods (protocol/README.md, "Sharing"): create, list, update, revoke,
/// sharedWithMe.
///
/// Decisions where the protocol leaves room:
/// - Who: only the owner shares, changes and revokes others' shares; editors may *list* the
///   shares (they work on the task with those people); a sharee may revoke their own share
///   (leaving). A stranger gets -32004 for every method, whatever the username (so the task's
///   existence is never revealed); that check comes before the username is looked up.
/// - `username` is checked as a username (3–32 of `A–Z a–z 0–9 _ . -`, trimmed) and looked up
///   ignoring case; a malformed or unknown one is -32602 naming `username` on every method, and
///   so is the caller's own name where a share with oneself is meant (the owner has no share
///   and cannot get one). A real user who has no share on the task is -32004 for `update` and
///   `revoke`.
/// - A duplicate `shares.create` is -32009 with `data.field` "username", also under
///   concurrency: the insert is `ON CONFLICT DO NOTHING` behind the task's row lock, so of N
///   racing creates one succeeds and the others get -32009, never -32603.
/// - Every change logs its activity (and so its event) in its transaction: `share.created`,
///   `share.updated` (also permission changes, so watchers see them), `share.revoked` with the
///   revoked user in its audience. `shares.update` to the permission the share already has changes
///   nothing and logs nothing.
public enum ShareMethods {
    /// `shares.create` per user: 30 per minute, counted after validation. Sharing a task with a
    /// team takes one call per member; a script sharing and revoking in a loop (each share a
    /// mail and an event for the sharee) is stopped within a minute.
    static let createRule = RateRule(name: "shares.create.user", limit: 30, windowMilliseconds: 60_000)

    public static func register(in registry: inout MethodRegistry<ClientSession>, domain: Domain) {
        registry.registerSignedIn("shares.create", params: ShareParams.Create.self) { params, call in
            try await create(params, call, domain)
        }
        registry.registerSignedIn("shares.list", params: ShareParams.List.self) { params, call in
            try await list(params, call, domain)
        }
        registry.registerSignedIn("shares.update", params: ShareParams.Update.self) { params, call in
            try await update(params, call, domain)
        }
        registry.registerSignedIn("shares.revoke", params: ShareParams.Revoke.self) { params, call in
            try await revoke(params, call, domain)
        }
        registry.registerSignedIn("shares.sharedWithMe", params: ShareParams.SharedWithMe.self) { params, call in
            try await sharedWithMe(params, call, domain)
        }
    }

    /// `shares.create`: owner only; answers the Share.
    static func create(_ params: ShareParams.Create, _ call: SignedInCall, _ domain: Domain) async throws -> JSONValue {
        let (taskID, username) = try validate(taskId: params.taskId, username: params.username, requestKey: params.requestKey)
        let permission = params.permission ?? .view
        let caller = call.userID
        try await domain.rateLimitRecord([RateLimitKey(rule: createRule, key: "user:\(caller)")])
        let quota = domain.configuration.quotas.sharesPerUser
        return try await domain.recordedWrite(call, method: "shares.create", requestKey: params.requestKey) { tx, activity in
            let task = try TaskGuards.owned(tx.lockTask(id: taskID, viewer: caller))
            try Domain.checkQuota(try tx.shareCount(sharedBy: caller), limit: quota, of: "shares")
            let sharee = try resolve(username, in: tx)
            guard sharee.id != caller else {
                throw RPCError.invalidParams(field: "username", message: "cannot be yourself: you own the task")
            }
            let share = try tx.insertShare(NewShare(
                taskID: task.id, userID: sharee.id, permission: permission, sharedAt: activity.at, sharedBy: caller
            ))
            try activity.shareCreated(share)
            return share
        }
    }

    /// `shares.list`: owner or editor; oldest share first.
    static func list(_ params: ShareParams.List, _ call: SignedInCall, _ domain: Domain) async throws -> ItemsResult<ShareRecord> {
        let taskID = try IDRules.id(params.taskId, field: "taskId")
        let caller = call.userID
        return try await domain.store.read { tx in
            let task = try TaskGuards.visible(tx.task(id: taskID, viewer: caller))
            guard task.permission.allows(.edit) else {
                throw RPCError.taskForbidden(message: "Only the owner and editors may list the shares")
            }
            return ItemsResult(items: try tx.shares(taskID: task.id))
        }
    }

    /// `shares.update`: owner only; answers the Share.
    static func update(_ params: ShareParams.Update, _ call: SignedInCall, _ domain: Domain) async throws -> JSONValue {
        let (taskID, username) = try validate(taskId: params.taskId, username: params.username, requestKey: params.requestKey)
        let permission = params.permission
        let caller = call.userID
        return try await domain.recordedWrite(call, method: "shares.update", requestKey: params.requestKey) { tx, activity in
            let task = try TaskGuards.owned(tx.lockTask(id: taskID, viewer: caller))
            let sharee = try resolve(username, in: tx)
            guard sharee.id != caller else {
                throw RPCError.invalidParams(field: "username", message: "cannot be yourself: you own the task")
            }
            guard let before = try tx.share(taskID: task.id, userID: sharee.id) else { throw RPCError.shareNotFound }
            guard before.permission != permission else { return before }
            guard let after = try tx.updateShare(taskID: task.id, userID: sharee.id, permission: permission) else {
                throw RPCError.shareNotFound
            }
            try activity.shareUpdated(from: before, to: after)
            return after
        }
    }

    /// `shares.revoke`: the owner revokes anyone's share; a sharee may revoke their own (leave
    /// the task) but nobody else's (-32003). Answers `{}`.
    static func revoke(_ params: ShareParams.Revoke, _ call: SignedInCall, _ domain: Domain) async throws -> JSONValue {
        let (taskID, username) = try validate(taskId: params.taskId, username: params.username, requestKey: params.requestKey)
        let caller = call.userID
        return try await domain.recordedWrite(call, method: "shares.revoke", requestKey: params.requestKey) { tx, activity in
            let task = try TaskGuards.visible(tx.lockTask(id: taskID, viewer: caller))
            let sharee = try resolve(username, in: tx)
            if sharee.id == task.ownerID {
                throw RPCError.invalidParams(field: "username", message: "is the owner, who has no share to revoke")
            }
            guard task.permission == .owner || sharee.id == caller else {
                throw RPCError.taskForbidden(message: "Only the owner may revoke others' shares")
            }
            guard let revoked = try tx.deleteShare(taskID: task.id, userID: sharee.id) else { throw RPCError.shareNotFound }
            try activity.shareRevoked(revoked)
            return JSONObject()
        }
    }

    /// `shares.sharedWithMe`: the tasks shared with the caller, as they see them, newest share
    /// first.
    static func sharedWithMe(_ params: ShareParams.SharedWithMe, _ call: SignedInCall, _ domain: Domain) async throws -> PageResult<TaskRecord> {
        var errors = FieldErrors()
        let (limit, offset) = Paging.page(limit: params.limit, offset: params.offset, errors: &errors)
        try errors.throwIfAny()
        let caller = call.userID
        let (items, total) = try await domain.store.read { tx in
            try tx.sharedWithMe(userID: caller, limit: limit, offset: offset)
        }
        return PageResult(items: items, total: total, limit: limit, offset: offset)
    }

    // MARK: Shared

    /// `taskId`, `username` (as a username) and `requestKey`, every fault in one -32602.
    static func validate(taskId: Int64, username: String, requestKey: String?) throws(RPCError) -> (Int64, String) {
        var errors = FieldErrors()
        let taskID = errors.check { () throws(RPCError) in try IDRules.id(taskId, field: "taskId") }
        let name = errors.check { () throws(RPCError) in try AccountRules.username(username, field: "username") }
        Domain.validateRequestKey(requestKey, into: &errors)
        try errors.throwIfAny()
        return (taskID!, name!)
    }

    /// The user named `username` ignoring case; -32602 naming `username` when there is none.
    static func resolve(_ username: String, in tx: any StoreReader) throws -> UserRow {
        // A valid username holds no `@`, so the login lookup can only match a username.
        guard let user = try tx.user(login: username) else {
            throw RPCError.invalidParams(field: "username", message: "is not a user")
        }
        return user
    }
}

extension RPCError {
    /// -32004 for a share that does not exist.
    static var shareNotFound: RPCError { RPCError(.notFound, message: "Share not found") }
}
