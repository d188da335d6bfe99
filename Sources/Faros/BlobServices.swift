import BlobStore
import Handlers
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The blob-cleanup janitor as a service: drains at start-up, on wake-ups and periodically.
struct BlobJanitorService: Service {
    let janitor: BlobJanitor

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await janitor.run()
        }
    }
}

enum BlobStoreFactory {
    /// The local store under `DATA_DIR/files`, or S3 when configured (its bucket is checked
    /// once, and a failure is logged: the server still starts, and `/ready` stays honest about
    /// the database and the bus).
    static func open(_ settings: Settings, threadPool: NIOThreadPool, logger: Logger) async throws -> any BlobStore {
        let dataDirectory = settings.storage.store.dataDirectory
        guard let s3 = settings.s3 else {
            return try LocalBlobStore(directory: dataDirectory + "/files", threadPool: threadPool)
        }
        let store = try S3BlobStore(configuration: S3Configuration(
            endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, accessKeyID: s3.accessKeyID,
            secretAccessKey: s3.secretAccessKey, pathStyle: s3.pathStyle, spoolDirectory: dataDirectory + "/spool"
        ), threadPool: threadPool)
        do {
            try await store.checkBucket()
            logger.info("Using S3 for files", metadata: ["s3.bucket": "\(s3.bucket)", "s3.endpoint": "\(s3.endpoint)"])
        } catch {
            logger.warning("S3 bucket check failed", metadata: ["s3.bucket": "\(s3.bucket)", "error": "\(error)"])
        }
        return store
    }
}

/// The janitor, once it exists, for the domain's commit hook (built before it).
final class JanitorBox: Sendable {
    private let value = Mutex<BlobJanitor?>(nil)
    var janitor: BlobJanitor? { value.withLock { $0 } }
    func set(_ janitor: BlobJanitor) { value.withLock { $0 = janitor } }
}
