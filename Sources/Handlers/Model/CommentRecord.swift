/// A comment on a task (`Comment` in protocol/openrpc.json).
public struct CommentRecord: Sendable, Hashable, Encodable {
    public var id: Int64
    public var taskID: Int64
    /// Nil once the author's account is gone (the comment stays, attributed to a deleted user:
    /// `authorId` and `authorUsername` are then null).
    public var authorID: Int64?
    public var authorUsername: String?
    public var content: String
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(
        id: Int64, taskID: Int64, authorID: Int64?, authorUsername: String?, content: String,
        createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.taskID = taskID
        self.authorID = authorID
        self.authorUsername = authorUsername
        self.content = content
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey { case id, taskId, authorId, authorUsername, content, createdAt, updatedAt }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(taskID, forKey: .taskId)
        try c.encode(authorID, forKey: .authorId)
        try c.encode(authorUsername, forKey: .authorUsername)
        try c.encode(content, forKey: .content)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
    }
}
