/// A user's avatar: which blob holds it, its type (decided from its content), size and ETag.
public struct AvatarRecord: Sendable, Hashable {
    public var storageKey: String
    public var contentType: String
    public var size: Int64
    public var etag: String

    public init(storageKey: String, contentType: String, size: Int64, etag: String) {
        self.storageKey = storageKey
        self.contentType = contentType
        self.size = size
        self.etag = etag
    }
}
