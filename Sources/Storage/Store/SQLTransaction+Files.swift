import Handlers

extension SQLTransaction {
    func file(id: Int64) throws -> FileRecord? {
        try query(FileSQL.byID, [.int64(id)]).first.map(FileSQL.decode)
    }

    func files(taskID: Int64) throws -> [FileRecord] {
        try query(FileSQL.byTask, [.int64(taskID)]).map(FileSQL.decode)
    }

    func pendingBlobCleanups(limit: Int) throws -> [String] {
        try query(FileSQL.pendingCleanups, [.int64(Int64(limit))]).map { try $0.string("storage_key") }
    }

    func insertFile(_ file: NewFile) throws -> FileRecord {
        let rows = try query(FileSQL.insert, [
            .int64(file.taskID), .text(file.filename), .int64(file.size), .text(file.contentType),
            .text(file.storageKey), .text(file.etag), .int64(file.uploadedBy), .int64(file.uploadedAt.milliseconds),
        ])
        // `storage_key` is the only unique key besides the generated id.
        guard let row = rows.first else { throw StoreError(.conflict(field: "storageKey")) }
        return FileRecord(
            id: try row.int64("id"), taskID: file.taskID, filename: file.filename, size: file.size,
            contentType: file.contentType, storageKey: file.storageKey, etag: file.etag,
            uploadedBy: file.uploadedBy, uploadedAt: file.uploadedAt
        )
    }

    func deleteFile(id: Int64) throws -> FileRecord? {
        // The `files_enqueue_blob_cleanup` trigger queues the blob in this transaction.
        try query(FileSQL.delete, [.int64(id)]).first.map(FileSQL.decode)
    }

    func completeBlobCleanups(_ storageKeys: [String]) throws {
        for key in storageKeys {
            try execute(FileSQL.completeCleanup, [.text(key)])
        }
    }
}

/// The files and blob_cleanup tables' statements.
enum FileSQL {
    static let columns = "id, task_id, filename, size, content_type, storage_key, etag, uploaded_by, uploaded_at"

    static let byID = SQLStatement("SELECT \(columns) FROM files WHERE id = $1")

    /// Walks `files_task (task_id, uploaded_at, id)`.
    static let byTask = SQLStatement("SELECT \(columns) FROM files WHERE task_id = $1 ORDER BY uploaded_at, id")

    static let insert = SQLStatement("""
        INSERT INTO files (task_id, filename, size, content_type, storage_key, etag, uploaded_by, uploaded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT DO NOTHING
        RETURNING id
        """)

    static let delete = SQLStatement("DELETE FROM files WHERE id = $1 RETURNING \(columns)")

    static let pendingCleanups = SQLStatement("SELECT storage_key FROM blob_cleanup ORDER BY enqueued_at, storage_key LIMIT $1")

    static let completeCleanup = SQLStatement("DELETE FROM blob_cleanup WHERE storage_key = $1")

    static func decode(_ row: SQLRow) throws -> FileRecord {
        FileRecord(
            id: try row.int64("id"),
            taskID: try row.int64("task_id"),
            filename: try row.string("filename"),
            size: try row.int64("size"),
            contentType: try row.string("content_type"),
            storageKey: try row.string("storage_key"),
            etag: try row.string("etag"),
            uploadedBy: try row.optionalInt64("uploaded_by"),
            uploadedAt: Timestamp(milliseconds: try row.int64("uploaded_at"))
        )
    }
}
