import JSON
public import JSONRPC

/// The `comments.*` methods (protocol/README.md, "Comments"): create, list, update, delete.
///
/// Decisions where the protocol leaves room:
/// - Everything needs view on the task *now*: someone whose share was revoked can no longer
///   read, edit or delete even their own comments (-32004, as for any task they cannot see);
///   their comments stay, and the owner may still delete them.
/// - `comments.update` is the author's alone (with current view); anyone else who can see the
///   task gets -32003. `comments.delete` is the author's (with view) or the task owner's.
/// - A comment on a task the caller cannot see is -32004 "Comment not found", exactly like one
///   that does not exist, so a stranger cannot probe which ids are taken.
/// - `content` is trimmed, 1–2000 Unicode scalars, newline and tab allowed, other control
///   characters refused. An update to the same content writes nothing, logs nothing and keeps
///   `updatedAt`, like `tasks.update`.
/// - Lists are paged (`limit` 1–100, default 50), oldest first, never embedded in tasks,
///   so a busy task costs its readers one page, not its whole history.
public enum CommentMethods {
    /// Room for a few paragraphs; longer text belongs in a file.
    package static let contentLength = 1...2000

    public static func register(in registry: inout MethodRegistry<ClientSession>, domain: Domain) {
        registry.registerSignedIn("comments.create", params: CommentParams.Create.self) { params, call in
            try await create(params, call, domain)
        }
        registry.registerSignedIn("comments.list", params: CommentParams.List.self) { params, call in
            try await list(params, call, domain)
        }
        registry.registerSignedIn("comments.update", params: CommentParams.Update.self) { params, call in
            try await update(params, call, domain)
        }
        registry.registerSignedIn("comments.delete", params: CommentParams.Delete.self) { params, call in
            try await delete(params, call, domain)
        }
    }

    /// `comments.create`: needs view; answers the Comment.
    static func create(_ params: CommentParams.Create, _ call: SignedInCall, _ domain: Domain) async throws -> JSONValue {
        var errors = FieldErrors()
        let taskID = errors.check { () throws(RPCError) in try IDRules.id(params.taskId, field: "taskId") }
        let content = errors.check { () throws(RPCError) in try Self.content(params.content) }
        Domain.validateRequestKey(params.requestKey, into: &errors)
        try errors.throwIfAny()
        let caller = call.userID
        let quota = domain.configuration.quotas.commentsPerUser
        return try await domain.recordedWrite(call, method: "comments.create", requestKey: params.requestKey) { [taskID = taskID!, content = content!] tx, activity in
            let task = try TaskGuards.visible(tx.lockTask(id: taskID, viewer: caller))
            try Domain.checkQuota(try tx.commentCount(authorID: caller), limit: quota, of: "comments")
            let comment = try tx.insertComment(taskID: task.id, authorID: caller, content: content, at: activity.at)
            try activity.commentCreated(comment)
            return comment
        }
    }

    /// `comments.list`: needs view; one page, oldest first.
    static func list(_ params: CommentParams.List, _ call: SignedInCall, _ domain: Domain) async throws -> PageResult<CommentRecord> {
        try await Paging.taskPage(taskID: params.taskId, limit: params.limit, offset: params.offset, call: call, domain: domain) {
            tx, id, limit, offset in try tx.comments(taskID: id, limit: limit, offset: offset)
        }
    }

    /// `comments.update`: the author, with view on the task now.
    static func update(_ params: CommentParams.Update, _ call: SignedInCall, _ domain: Domain) async throws -> JSONValue {
        var errors = FieldErrors()
        let id = errors.check { () throws(RPCError) in try IDRules.id(params.id, field: "id") }
        let content = errors.check { () throws(RPCError) in try Self.content(params.content) }
        Domain.validateRequestKey(params.requestKey, into: &errors)
        try errors.throwIfAny()
        let caller = call.userID
        return try await domain.recordedWrite(call, method: "comments.update", requestKey: params.requestKey) { [id = id!, content = content!] tx, activity in
            let (comment, _) = try lockVisible(commentID: id, caller: caller, in: tx)
            guard comment.authorID == caller else {
                throw RPCError(.forbidden, message: "Only the author may edit a comment")
            }
            guard comment.content != content else { return comment }
            guard let updated = try tx.updateComment(id: comment.id, content: content, at: activity.at) else {
                throw RPCError.commentNotFound
            }
            try activity.commentUpdated(from: comment, to: updated)
            return updated
        }
    }

    /// `comments.delete`: the author with view, or the task's owner. Answers `{}`.
    static func delete(_ params: CommentParams.Delete, _ call: SignedInCall, _ domain: Domain) async throws -> JSONValue {
        var errors = FieldErrors()
        let id = errors.check { () throws(RPCError) in try IDRules.id(params.id, field: "id") }
        Domain.validateRequestKey(params.requestKey, into: &errors)
        try errors.throwIfAny()
        let caller = call.userID
        return try await domain.recordedWrite(call, method: "comments.delete", requestKey: params.requestKey) { [id = id!] tx, activity in
            let (comment, task) = try lockVisible(commentID: id, caller: caller, in: tx)
            guard comment.authorID == caller || task.permission == .owner else {
                throw RPCError(.forbidden, message: "Only the author or the task's owner may delete a comment")
            }
            guard try tx.deleteComment(id: comment.id) else { throw RPCError.commentNotFound }
            try activity.commentDeleted(comment)
            return JSONObject()
        }
    }

    // MARK: Shared

    static func content(_ raw: String) throws(RPCError) -> String {
        try TextRules.required(raw, field: "content", length: contentLength, allowNewlineAndTab: true)
    }

    /// The comment and its task, with the task locked, when the caller may see the task;
    /// -32004 otherwise. The comment is read again under the lock, so a concurrent delete or
    /// edit is seen.
    static func lockVisible(commentID: Int64, caller: Int64, in tx: any StoreWriter) throws -> (CommentRecord, TaskRecord) {
        guard let found = try tx.comment(id: commentID),
              let task = try tx.lockTask(id: found.taskID, viewer: caller),
              let comment = try tx.comment(id: commentID)
        else { throw RPCError.commentNotFound }
        return (comment, task)
    }
}

extension RPCError {
    /// -32004 for a comment that does not exist or sits on a task the caller cannot see.
    static var commentNotFound: RPCError { RPCError(.notFound, message: "Comment not found") }
}
