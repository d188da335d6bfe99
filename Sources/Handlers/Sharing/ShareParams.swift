import JSONRPC

/// The params of the `shares.*` methods as they arrive (wrong types, missing and unknown members
/// are -32602 from the decoder, before any of these is seen).
enum ShareParams {
    /// `shares.create`. `permission` defaults to `view`.
    struct Create: Decodable, Sendable {
        var taskId: Int64
        var username: String
        var permission: SharePermission?
        var requestKey: String?
    }

    /// `shares.list`.
    struct List: Decodable, Sendable {
        var taskId: Int64
    }

    /// `shares.update`.
    struct Update: Decodable, Sendable {
        var taskId: Int64
        var username: String
        var permission: SharePermission
        var requestKey: String?
    }

    /// `shares.revoke`.
    struct Revoke: Decodable, Sendable {
        var taskId: Int64
        var username: String
        var requestKey: String?
    }

    /// `shares.sharedWithMe`.
    struct SharedWithMe: Decodable, Sendable {
        var limit: Int?
        var offset: Int?
    }
}
