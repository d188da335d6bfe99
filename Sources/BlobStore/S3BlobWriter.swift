public import NIOCore
import NIOPosix
import Synchronization

/// An upload to S3 being spooled to local disk; ``commit()`` sends it.
public final class S3BlobWriter: BlobWriter {
    static let spoolPrefix = ".spool-"
    public let key: String
    private let spoolPath: String
    private let store: S3BlobStore
    private let threadPool: NIOThreadPool
    private let eventLoop: any EventLoop
    /// The spool file's descriptor and bytes written; nil once committed or aborted. Writes run
    /// one at a time (the caller waits for each).
    private let state: Mutex<(fd: Int32, size: Int64)?>

    init(key: String, fd: Int32, spoolPath: String, store: S3BlobStore, threadPool: NIOThreadPool, eventLoop: any EventLoop) {
        self.key = key
        self.state = Mutex((fd, 0))
        self.spoolPath = spoolPath
        self.store = store
        self.threadPool = threadPool
        self.eventLoop = eventLoop
    }

    deinit {
        if let state = self.state.withLock({ $0 }) {
            POSIXFile.close(state.fd)
            try? POSIXFile.unlinkIfPresent(self.spoolPath)
        }
    }

    public func write(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        guard let fd = self.state.withLock({ state -> Int32? in
            state?.size += Int64(buffer.readableBytes)
            return state?.fd
        }) else {
            return self.eventLoop.makeFailedFuture(BlobStoreError.failed("write after close"))
        }
        return self.threadPool.runIfActive(eventLoop: self.eventLoop) {
            try buffer.withUnsafeReadableBytes { try POSIXFile.writeAll(fd, $0) }
        }
    }

    public func commit() -> EventLoopFuture<Void> {
        guard let (fd, size) = self.state.withLock({ value -> (Int32, Int64)? in defer { value = nil }; return value }) else {
            return self.eventLoop.makeFailedFuture(BlobStoreError.failed("commit after close"))
        }
        let (path, key, store) = (self.spoolPath, self.key, self.store)
        return self.threadPool.runIfActive(eventLoop: self.eventLoop) {
            defer {
                POSIXFile.close(fd)
                try? POSIXFile.unlinkIfPresent(path)
            }
            try store.put(key: key, fd: fd, size: size)
        }
    }

    public func abort() -> EventLoopFuture<Void> {
        let state = self.state.withLock { value -> (fd: Int32, size: Int64)? in defer { value = nil }; return value }
        let path = self.spoolPath
        return self.threadPool.runIfActive(eventLoop: self.eventLoop) {
            if let state { POSIXFile.close(state.fd) }
            try POSIXFile.unlinkIfPresent(path)
        }
    }
}
