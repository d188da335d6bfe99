@testable import BlobStore
import Foundation
import NIOCore
import NIOPosix
import Testing

/// The same contract on local disk and on a real S3-compatible server (moto, started by
/// `scripts/test` at `FAROS_TEST_S3_ENDPOINT`, bucket `faros-test`): nothing is visible before
/// commit, an abort leaves nothing, reads honour offset and length, deletes are idempotent.
@Suite struct BlobStoreContractTests {
    enum Backend: String, CaseIterable { case disk, s3 }

    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()

    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "faros-blobs-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The store, or nil when S3 is not configured (a failure under FAROS_TEST_REQUIRE_ALL=1).
    static func make(_ backend: Backend, directory: String) throws -> (any BlobStore)? {
        switch backend {
        case .disk:
            return try LocalBlobStore(directory: directory + "/files", threadPool: pool)
        case .s3:
            guard let endpoint = ProcessInfo.processInfo.environment["FAROS_TEST_S3_ENDPOINT"] else {
                if ProcessInfo.processInfo.environment["FAROS_TEST_REQUIRE_ALL"] == "1" {
                    Issue.record("FAROS_TEST_S3_ENDPOINT is not set (required)")
                }
                return nil
            }
            return try S3BlobStore(configuration: S3Configuration(
                endpoint: endpoint, region: "us-east-1", bucket: "faros-test", accessKeyID: "test", secretAccessKey: "test",
                pathStyle: true, spoolDirectory: directory + "/spool"
            ), threadPool: pool)
        }
    }

    static func partials(_ directory: String) -> [String] {
        ["files", "spool"].flatMap { sub in
            ((try? FileManager.default.contentsOfDirectory(atPath: "\(directory)/\(sub)")) ?? []).filter { $0.hasPrefix(".") }
        }
    }

    @Test(arguments: Backend.allCases)
    func writeCommitReadDelete(_ backend: Backend) async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard let store = try Self.make(backend, directory: directory) else { return }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let writer = try await store.makeWriter(eventLoop: loop).get()
        #expect(BlobKey.isValid(writer.key))
        for chunk in stride(from: 0, to: bytes.count, by: 65_536) {
            try await writer.write(ByteBuffer(bytes: bytes[chunk..<min(chunk + 65_536, bytes.count)])).get()
        }
        await #expect(throws: BlobStoreError.notFound) { _ = try await store.read(key: writer.key, offset: 0, length: 10, eventLoop: loop).get() }
        try await writer.commit().get()
        #expect(Self.partials(directory).isEmpty)
        let whole = try await store.read(key: writer.key, offset: 0, length: bytes.count + 10, eventLoop: loop).get()
        #expect(Array(whole.readableBytesView) == bytes)
        let middle = try await store.read(key: writer.key, offset: 1000, length: 4096, eventLoop: loop).get()
        #expect(Array(middle.readableBytesView) == Array(bytes[1000..<5096]))
        let end = try await store.read(key: writer.key, offset: Int64(bytes.count), length: 10, eventLoop: loop).get()
        #expect(end.readableBytes == 0)
        try await store.delete(key: writer.key)
        try await store.delete(key: writer.key)
        await #expect(throws: BlobStoreError.notFound) { _ = try await store.read(key: writer.key, offset: 0, length: 10, eventLoop: loop).get() }
        await #expect(throws: BlobStoreError.notFound) { _ = try await store.read(key: "../../etc/passwd", offset: 0, length: 10, eventLoop: loop).get() }
    }

    @Test(arguments: Backend.allCases)
    func abortLeavesNothing(_ backend: Backend) async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard let store = try Self.make(backend, directory: directory) else { return }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let writer = try await store.makeWriter(eventLoop: loop).get()
        try await writer.write(ByteBuffer(bytes: [1, 2, 3])).get()
        #expect(!Self.partials(directory).isEmpty)
        try await writer.abort().get()
        try await writer.abort().get()
        #expect(Self.partials(directory).isEmpty)
        await #expect(throws: BlobStoreError.self) { try await writer.commit().get() }
        await #expect(throws: BlobStoreError.notFound) { _ = try await store.read(key: writer.key, offset: 0, length: 3, eventLoop: loop).get() }
    }

    @Test func startUpRemovesPartialFilesACrashLeft() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/files", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: directory + "/files/.partial-0123", contents: Data([1]))
        FileManager.default.createFile(atPath: directory + "/files/0123456789abcdef0123456789abcdef", contents: Data([2]))
        _ = try LocalBlobStore(directory: directory + "/files", threadPool: Self.pool)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/files") == ["0123456789abcdef0123456789abcdef"])
    }

    /// The credentials, bucket and date of AWS's published SigV4 example ("GET Object"), with
    /// the unsigned payload this store sends; the expected signature was computed independently
    /// with Python's hmac and hashlib from the canonical request the SigV4 spec defines (moto does
    /// not check signatures, so this is what guards the signing code).
    @Test func signatureMatchesAnIndependentComputation() {
        let signer = SigV4Signer(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
        let headers = signer.headers(method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt",
                                     extra: [("range", "bytes=0-9")], date: UTCDate(secondsSince1970: 1_369_353_600))
        let authorization = headers.first { $0.0 == "authorization" }?.1 ?? ""
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature="))
        #expect(authorization.hasSuffix(Self.expectedSignature))
    }

    static let expectedSignature = "edacce68e5445863e1f916719fac26d3be9c1581fccd7878ade0879597fc0dc1"
}
