import Handlers
import JSONRPC
import StoreTestSupport
import Testing

/// Contract tests of the domain side of the REST bridge on both backends: the upload guard and
/// row insert, `files.downloadUrl` and its signed links, the REST delete, avatars and the
/// blob-cleanup queue they feed.
@Suite struct FileTransferTests {
    static func queued(_ store: any Store) async throws -> Set<String> {
        Set(try await store.read { try $0.pendingBlobCleanups(limit: 1000) })
    }

    func newFile(_ w: CollaborationWorld, by uploader: Int64, key: String) -> NewFile {
        NewFile(taskID: w.taskID, filename: "a.png", size: 10, contentType: "image/png", storageKey: key,
                etag: "\"\(key)\"", uploadedBy: uploader, uploadedAt: Timestamp(milliseconds: 0))
    }

    @Test(arguments: TestBackend.allCases)
    func uploadNeedsEditAndLogsTheEvent(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            let domain = w.t.domain
            try await domain.authorizeUpload(taskID: w.taskID, userID: w.editorUser.id)
            await expectError(.forbidden) { try await domain.authorizeUpload(taskID: w.taskID, userID: w.viewerUser.id) }
            await expectError(.notFound) { try await domain.authorizeUpload(taskID: w.taskID, userID: w.strangerUser.id) }
            await expectError(.notFound) { try await domain.authorizeUpload(taskID: 999_999, userID: w.ownerUser.id) }
            await expectError(.forbidden) { _ = try await domain.attachFile(newFile(w, by: w.viewerUser.id, key: "k-viewer")) }
            let before = try await lastActivityID(store)
            let file = try await domain.attachFile(newFile(w, by: w.editorUser.id, key: "k-editor"))
            #expect(file.uploadedAt == w.t.clock.now && file.uploadedBy == w.editorUser.id)
            let logged = try await loggedActivity(store, after: before)
            #expect(logged.map(\.action) == ["file.uploaded"])
            #expect(logged.first?.audience == w.everyone)
            #expect(try await domain.files(taskID: w.taskID, userID: w.viewerUser.id).map(\.id) == [file.id])
            await expectError(.notFound) { _ = try await domain.files(taskID: w.taskID, userID: w.strangerUser.id) }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func signedLinksWorkForFiveMinutes(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            let file = try await w.insertFile(by: w.ownerUser.id)
            let link = try await w.viewer.call("files.downloadUrl", ["id": .id(file.id)])
            let url = try #require(link["url"]?.stringValue)
            #expect(url.hasPrefix("\(w.t.domain.configuration.publicURL)/files/\(file.id)?exp="))
            let exp = try #require(Int64(url.split(separator: "exp=")[1].split(separator: "&")[0]))
            let sig = String(try #require(url.split(separator: "sig=").last))
            #expect(exp == w.t.clock.now.seconds + 300)
            #expect(try await w.t.domain.downloadableFile(id: file.id, expires: exp, signature: sig).id == file.id)
            await expectError(.unauthenticated) { _ = try await w.t.domain.downloadableFile(id: file.id, expires: exp + 1, signature: sig) }
            await expectError(.unauthenticated) { _ = try await w.t.domain.downloadableFile(id: file.id, expires: exp, signature: "x" + sig.dropFirst()) }
            w.t.clock.advance(milliseconds: 301_000)
            await expectError(.unauthenticated) { _ = try await w.t.domain.downloadableFile(id: file.id, expires: exp, signature: sig) }
            await expectError(.notFound) { try await w.stranger.call("files.downloadUrl", ["id": .id(file.id)]) }
            await expectError(.invalidParams, fields: ["id"]) { try await w.viewer.call("files.downloadUrl", ["id": 0]) }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func restDeleteGuardsLikeFilesDelete(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            let owners = try await w.insertFile(by: w.ownerUser.id, key: "k-o")
            await expectError(.forbidden) { try await w.t.domain.deleteFile(id: owners.id, userID: w.editorUser.id) }
            await expectError(.notFound) { try await w.t.domain.deleteFile(id: owners.id, userID: w.strangerUser.id) }
            try await w.t.domain.deleteFile(id: owners.id, userID: w.ownerUser.id)
            #expect(try await Self.queued(store).contains("k-o"))
            await expectError(.notFound) { _ = try await w.t.domain.downloadableFile(id: owners.id, userID: w.ownerUser.id) }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func avatarsReplaceAndQueueTheOldBlob(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let w = try await CollaborationWorld.make(store)
            let domain = w.t.domain
            let id = w.ownerUser.id
            await expectError(.notFound) { _ = try await domain.avatar(userID: id) }
            let url = try await domain.replaceAvatar(userID: id, AvatarRecord(storageKey: "av-1", contentType: "image/png", size: 5, etag: "\"av-1\""))
            #expect(url == "\(domain.configuration.publicURL)/users/\(id)/avatar?v=%22av-1%22")
            #expect(try await domain.avatar(userID: id).storageKey == "av-1")
            #expect(try await w.owner.call("users.me")["avatarUrl"]?.stringValue == url)
            _ = try await domain.replaceAvatar(userID: id, AvatarRecord(storageKey: "av-2", contentType: "image/gif", size: 6, etag: "\"av-2\""))
            #expect(try await Self.queued(store).contains("av-1"))
            #expect(try await !Self.queued(store).contains("av-2"))
            try await domain.removeAvatar(userID: id)
            #expect(try await Self.queued(store).isSuperset(of: ["av-1", "av-2"]))
            #expect(try await w.owner.call("users.me")["avatarUrl"] == .null)
            _ = try await domain.replaceAvatar(userID: w.viewerUser.id, AvatarRecord(storageKey: "av-3", contentType: "image/png", size: 5, etag: "\"av-3\""))
            _ = try await store.write { try $0.deleteUser(id: w.viewerUser.id) }
            #expect(try await Self.queued(store).contains("av-3"))
            await expectError(.unauthenticated) {
                _ = try await domain.replaceAvatar(userID: w.viewerUser.id, AvatarRecord(storageKey: "av-4", contentType: "image/png", size: 5, etag: "\"av-4\""))
            }
        }
    }
}
