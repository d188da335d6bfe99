public import NIOCore
import NIOPosix
import Synchronization

/// An upload to S3 being spooled to local disk; ``commit()`` sends it.
public final class S3BlobWriter: BlobWriter {
    static let spoolPrefix = ".spool-"
    public let key: String
    private let spoolPath: String
    private let store: S3BlobStore
    private let eventLoop: any EventLoop
    /// The spool file; taken by commit or abort, each after the last write.
    private let descriptor: PooledDescriptor
    /// Bytes handed to ``write(_:)``: the length of the PUT.
    private let size = Atomic<Int64>(0)

    init(key: String, fd: Int32, spoolPath: String, store: S3BlobStore, threadPool: NIOThreadPool, eventLoop: any EventLoop) {
        self.key = key
        self.descriptor = PooledDescriptor(fd, threadPool: threadPool, eventLoop: eventLoop)
        self.spoolPath = spoolPath
        self.store = store
        self.eventLoop = eventLoop
    }

    deinit {
        // Dropped without commit or abort (a bug): the descriptor closes with it; the spool
        // file goes now rather than at the next start-up.
        try? POSIXFile.unlinkIfPresent(self.spoolPath)
    }

    public func write(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        self.size.add(Int64(buffer.readableBytes), ordering: .relaxed)
        return self.descriptor.write(buffer)
    }

    public func commit() -> EventLoopFuture<Void> {
        // Every write counted here was issued before this call; later ones are refused.
        let (path, key, store, size) = (self.spoolPath, self.key, self.store, self.size.load(ordering: .relaxed))
        let committed = self.descriptor.take { fd in
            defer {
                POSIXFile.close(fd)
                try? POSIXFile.unlinkIfPresent(path)
            }
            try store.put(key: key, fd: fd, size: size)
        }
        return committed ?? self.eventLoop.makeFailedFuture(BlobStoreError.failed("commit after close"))
    }

    public func abort() -> EventLoopFuture<Void> {
        let path = self.spoolPath
        let aborted = self.descriptor.take { fd in
            POSIXFile.close(fd)
            try POSIXFile.unlinkIfPresent(path)
        }
        return aborted ?? self.eventLoop.makeSucceededVoidFuture()
    }
}
