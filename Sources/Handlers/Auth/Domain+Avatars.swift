public import JSONRPC

/// Avatars (`/users/me/avatar`, `/users/{id}/avatar`): the REST bridge stores the image, the
/// domain records which blob is the user's.
extension Domain {
    /// The largest avatar: 2 MiB (README, "What it serves"): plenty for a profile picture, little
    /// to serve.
    public static let maxAvatarBytes = 2 << 20

    /// The types an avatar may have, decided from the content.
    public static let avatarTypes: Set<String> = ["image/png", "image/jpeg", "image/gif", "image/webp"]

    /// Anyone's avatar (public); -32004 when the user has none or does not exist.
    public func avatar(userID: Int64) async throws -> AvatarRecord {
        guard userID > 0, let avatar = try await store.read({ try $0.avatar(userID: userID) }) else {
            throw RPCError(.notFound, message: "No avatar")
        }
        return avatar
    }

    /// Makes `avatar` the user's (the old blob is queued for cleanup); returns the new
    /// `avatarUrl`. -32001 when the account is gone (the caller then deletes the blob).
    public func replaceAvatar(userID: Int64, _ avatar: AvatarRecord) async throws -> String {
        guard try await store.write({ try $0.setAvatar(userID: userID, avatar) }) else {
            throw RPCError(.unauthenticated, message: "Account no longer exists")
        }
        return avatarURL(userID: userID, etag: avatar.etag) ?? ""
    }

    /// Removes the user's avatar (its blob is queued for cleanup); having none is fine.
    public func removeAvatar(userID: Int64) async throws {
        _ = try await store.write { try $0.setAvatar(userID: userID, nil) }
    }
}
