/// A file attached to a task (`File` in protocol/openrpc.json), with where its bytes are.
public struct FileRecord: Sendable, Hashable, Encodable {
    public var id: Int64
    public var taskID: Int64
    public var filename: String
    public var size: Int64
    /// Decided from the content at upload, from the allow-list (never the client's claim).
    public var contentType: String
    /// The blob's key in the blob store; never sent to clients.
    public var storageKey: String
    /// The blob's ETag (downloads); never part of `File`.
    public var etag: String
    /// Nil once the uploader's account is gone.
    public var uploadedBy: Int64?
    public var uploadedAt: Timestamp

    public init(
        id: Int64, taskID: Int64, filename: String, size: Int64, contentType: String,
        storageKey: String, etag: String, uploadedBy: Int64?, uploadedAt: Timestamp
    ) {
        self.id = id
        self.taskID = taskID
        self.filename = filename
        self.size = size
        self.contentType = contentType
        self.storageKey = storageKey
        self.etag = etag
        self.uploadedBy = uploadedBy
        self.uploadedAt = uploadedAt
    }

    enum CodingKeys: String, CodingKey { case id, taskId, filename, size, contentType, uploadedBy, uploadedAt }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(taskID, forKey: .taskId)
        try c.encode(filename, forKey: .filename)
        try c.encode(size, forKey: .size)
        try c.encode(contentType, forKey: .contentType)
        try c.encode(uploadedBy, forKey: .uploadedBy)
        try c.encode(uploadedAt, forKey: .uploadedAt)
    }
}

/// A file row about to be inserted (the upload path, once its blob is stored).
public struct NewFile: Sendable, Hashable {
    public var taskID: Int64
    public var filename: String
    public var size: Int64
    public var contentType: String
    public var storageKey: String
    public var etag: String
    public var uploadedBy: Int64
    public var uploadedAt: Timestamp

    public init(
        taskID: Int64, filename: String, size: Int64, contentType: String, storageKey: String, etag: String,
        uploadedBy: Int64, uploadedAt: Timestamp
    ) {
        self.taskID = taskID
        self.filename = filename
        self.size = size
        self.contentType = contentType
        self.storageKey = storageKey
        self.etag = etag
        self.uploadedBy = uploadedBy
        self.uploadedAt = uploadedAt
    }
}
