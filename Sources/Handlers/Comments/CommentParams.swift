import JSONRPC

/// The params of the `comments.*` methods as they arrive.
enum CommentParams {
    struct Create: Decodable, Sendable {
        var taskId: Int64
        var content: String
        var requestKey: String?
    }

    struct List: Decodable, Sendable {
        var taskId: Int64
        var limit: Int?
        var offset: Int?
    }

    struct Update: Decodable, Sendable {
        var id: Int64
        var content: String
        var requestKey: String?
    }

    struct Delete: Decodable, Sendable {
        var id: Int64
        var requestKey: String?
    }
}
