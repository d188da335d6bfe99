import JSON
public import JSONRPC

/// The `files.*` methods of the RPC side (protocol/README.md, "Files"): list, delete and the signed
/// download link. Upload and download themselves are the REST bridge's (``Domain`` +
/// FileTransfers).
///
/// Decisions where the protocol leaves room:
/// - `files.delete` is the owner's for any file, and an editor's for the files they uploaded
///   themselves; an editor may not delete what the owner or another editor uploaded, and a
///   viewer deletes nothing, not even a file they uploaded while they could edit (-32003).
/// - A file on a task the caller cannot see is -32004 "File not found", exactly like one that
///   does not exist.
/// - Deleting the row enqueues its blob in `blob_cleanup` in the same transaction (the REST
///   bridge deletes it after commit), so a failed delete keeps the blob and a successful one
///   never leaves it orphaned.
public enum FileMethods {
    public static func register(in registry: inout MethodRegistry<ClientSession>, domain: Domain) {
        registry.registerSignedIn("files.list", params: FileParams.List.self) { params, call in
            try await list(params, call, domain)
        }
        registry.registerSignedIn("files.delete", params: FileParams.Delete.self) { params, call in
            try await delete(params, call, domain)
        }
        registry.registerSignedIn("files.downloadUrl", params: FileParams.DownloadURL.self) { params, call in
            try await downloadURL(params, call, domain)
        }
    }

    /// `files.downloadUrl`: needs view; a `GET /files/{id}?exp=…&sig=…` link valid 5 minutes.
    static func downloadURL(_ params: FileParams.DownloadURL, _ call: SignedInCall, _ domain: Domain) async throws -> DownloadLink {
        let id = try IDRules.id(params.id, field: "id")
        return try await domain.downloadLink(fileID: id, userID: call.userID)
    }

    /// `files.list`: needs view; oldest first. A task's files are few (each is an upload), so
    /// the list is whole, as protocol/openrpc.json says (`{items}`).
    static func list(_ params: FileParams.List, _ call: SignedInCall, _ domain: Domain) async throws -> ItemsResult<FileRecord> {
        let taskID = try IDRules.id(params.taskId, field: "taskId")
        let caller = call.userID
        return try await domain.store.read { tx in
            let task = try TaskGuards.visible(tx.task(id: taskID, viewer: caller))
            return ItemsResult(items: try tx.files(taskID: task.id))
        }
    }

    /// `files.delete`: the owner, or the editor who uploaded it. Answers `{}`.
    static func delete(_ params: FileParams.Delete, _ call: SignedInCall, _ domain: Domain) async throws -> JSONValue {
        var errors = FieldErrors()
        let id = errors.check { () throws(RPCError) in try IDRules.id(params.id, field: "id") }
        Domain.validateRequestKey(params.requestKey, into: &errors)
        try errors.throwIfAny()
        let caller = call.userID
        return try await domain.recordedWrite(call, method: "files.delete", requestKey: params.requestKey) { [id = id!] tx, activity in
            try deleteGuarded(tx, id: id, caller: caller, activity: activity)
            return JSONObject()
        }
    }

    /// The delete with its guard, shared with `DELETE /files/{id}`; logs `file.deleted`.
    static func deleteGuarded(_ tx: any StoreWriter, id: Int64, caller: Int64, activity: ActivityRecorder) throws {
        guard let found = try tx.file(id: id),
              let task = try tx.lockTask(id: found.taskID, viewer: caller),
              let file = try tx.file(id: id)
        else { throw RPCError.fileNotFound }
        let allowed = task.permission == .owner || (task.permission == .edit && file.uploadedBy == caller)
        guard allowed else {
            throw RPCError(.forbidden, message: "Only the owner, or the editor who uploaded it, may delete a file")
        }
        guard let deleted = try tx.deleteFile(id: file.id) else { throw RPCError.fileNotFound }
        try activity.fileDeleted(deleted)
    }
}

extension RPCError {
    /// -32004 for a file that does not exist or sits on a task the caller cannot see.
    static var fileNotFound: RPCError { RPCError(.notFound, message: "File not found") }
}
