public import JSONRPC

/// The file operations of the REST bridge, with the same guards as the `files.*` methods: the
/// bridge streams bytes, the domain decides who may and records what happened.
extension Domain {
    /// Uploads per user: 60 per hour (README, "What it serves"), every upload (task file or
    /// avatar) that passes the guard.
    static let uploadRule = RateRule(name: "files.upload.user", limit: 60, windowMilliseconds: 3_600_000)

    /// How long a `files.downloadUrl` link works: 5 minutes (protocol/README.md, "Files"), long
    /// enough to click, short enough that a leaked link soon stops working.
    public static let downloadLinkLifetimeSeconds: Int64 = 300

    /// Before an upload streams: the task must exist, be visible (-32004) and editable by
    /// `userID` (-32003), and the user within the upload rate limit (-32029, counted here).
    public func authorizeUpload(taskID: Int64, userID: Int64) async throws {
        guard taskID > 0 else { throw RPCError.taskNotFound() }
        _ = try await store.read { tx in try TaskGuards.editable(tx.task(id: taskID, viewer: userID)) }
        try await rateLimitRecord([RateLimitKey(rule: Self.uploadRule, key: "user:\(userID)")])
    }

    /// Before an avatar streams: the user within the upload rate limit (-32029, counted here).
    /// Avatars share the task files' budget, so replacing one's avatar over and over is no way
    /// around it.
    public func authorizeAvatarUpload(userID: Int64) async throws {
        try await rateLimitRecord([RateLimitKey(rule: Self.uploadRule, key: "user:\(userID)")])
    }

    /// Once the blob is stored: inserts the row and logs `file.uploaded` in one transaction,
    /// checking edit access again under the task's lock (it may have changed while the bytes
    /// streamed). When this throws, no row exists and the caller deletes the blob.
    public func attachFile(_ file: NewFile) async throws -> FileRecord {
        let now = clock()
        let record: FileRecord = try await store.write { tx in
            _ = try TaskGuards.lockEditable(tx, id: file.taskID, viewer: file.uploadedBy)
            var new = file
            new.uploadedAt = now
            let record = try tx.insertFile(new)
            try ActivityRecorder(tx: tx, actor: file.uploadedBy, at: now).fileUploaded(record)
            return record
        }
        activityCommitted()
        return record
    }

    /// `GET /tasks/{id}/files`: as `files.list`.
    public func files(taskID: Int64, userID: Int64) async throws -> [FileRecord] {
        guard taskID > 0 else { throw RPCError.taskNotFound() }
        return try await store.read { tx in
            let task = try TaskGuards.visible(tx.task(id: taskID, viewer: userID))
            return try tx.files(taskID: task.id)
        }
    }

    /// `GET /files/{id}` with a bearer token: the file when `userID` may view its task, else
    /// -32004 (also when the task was just deleted: its rows went with it).
    public func downloadableFile(id: Int64, userID: Int64) async throws -> FileRecord {
        guard id > 0 else { throw RPCError.fileNotFound }
        return try await store.read { tx in
            guard let file = try tx.file(id: id), try tx.task(id: file.taskID, viewer: userID) != nil else {
                throw RPCError.fileNotFound
            }
            return file
        }
    }

    /// `GET /files/{id}?exp=…&sig=…`: the file when the link is authentic and unexpired; the
    /// link stands for the view access its signer had when it was made. -32001 for a bad or
    /// expired link, -32004 for a file that is gone.
    public func downloadableFile(id: Int64, expires: Int64, signature: String) async throws -> FileRecord {
        guard id > 0 else { throw RPCError.fileNotFound }
        guard expires >= clock().seconds,
              signer.verifyLink(purpose: "files.download", message: "\(id):\(expires)", signature: signature)
        else { throw RPCError(.unauthenticated, message: "Invalid or expired download link") }
        guard let file = try await store.read({ try $0.file(id: id) }) else { throw RPCError.fileNotFound }
        return file
    }

    /// `files.downloadUrl`'s link for a file the caller may view.
    func downloadLink(fileID: Int64, userID: Int64) async throws -> DownloadLink {
        let file = try await downloadableFile(id: fileID, userID: userID)
        let expires = clock().seconds + Self.downloadLinkLifetimeSeconds
        let signature = signer.linkSignature(purpose: "files.download", message: "\(file.id):\(expires)")
        return DownloadLink(
            url: "\(configuration.publicURL)/files/\(file.id)?exp=\(expires)&sig=\(signature)",
            expiresAt: Timestamp(milliseconds: expires * 1000)
        )
    }

    /// `DELETE /files/{id}`: exactly `files.delete` (owner, or the editor who uploaded it).
    public func deleteFile(id: Int64, userID: Int64) async throws {
        guard id > 0 else { throw RPCError.fileNotFound }
        let now = clock()
        try await store.write { tx in
            try FileMethods.deleteGuarded(tx, id: id, caller: userID, activity: ActivityRecorder(tx: tx, actor: userID, at: now))
        }
        activityCommitted()
    }
}

/// `{url, expiresAt}` of `files.downloadUrl`.
struct DownloadLink: Encodable, Sendable {
    var url: String
    var expiresAt: Timestamp
}
