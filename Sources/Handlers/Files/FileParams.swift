import JSONRPC

/// The params of the `files.*` methods as they arrive.
enum FileParams {
    struct List: Decodable, Sendable {
        var taskId: Int64
    }

    struct DownloadURL: Decodable, Sendable {
        var id: Int64
    }

    struct Delete: Decodable, Sendable {
        var id: Int64
        var requestKey: String?
    }
}
