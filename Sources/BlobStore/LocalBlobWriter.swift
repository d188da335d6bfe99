public import NIOCore
import NIOPosix
import Synchronization

/// A blob being written to a partial file of a ``LocalBlobStore``.
public final class LocalBlobWriter: BlobWriter {
    static let partialPrefix = ".partial-"
    public let key: String
    private let partialPath: String
    private let finalPath: String
    private let directory: String
    private let threadPool: NIOThreadPool
    private let eventLoop: any EventLoop
    /// The open descriptor, nil once committed or aborted. Guarded by the mutex; the system
    /// calls on it run on the thread pool, one at a time (the caller waits for each write).
    private let fd: Mutex<Int32?>

    init(key: String, fd: Int32, partialPath: String, finalPath: String, directory: String,
         threadPool: NIOThreadPool, eventLoop: any EventLoop) {
        self.key = key
        self.fd = Mutex(fd)
        self.partialPath = partialPath
        self.finalPath = finalPath
        self.directory = directory
        self.threadPool = threadPool
        self.eventLoop = eventLoop
    }

    deinit {
        // A writer dropped without commit or abort (a bug) still leaves nothing under the final
        // name; its partial file goes at the next start-up.
        if let fd = self.fd.withLock({ $0 }) { POSIXFile.close(fd) }
    }

    public func write(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        guard let fd = self.fd.withLock({ $0 }) else {
            return self.eventLoop.makeFailedFuture(BlobStoreError.failed("write after close"))
        }
        return self.threadPool.runIfActive(eventLoop: self.eventLoop) {
            try buffer.withUnsafeReadableBytes { try POSIXFile.writeAll(fd, $0) }
        }
    }

    public func commit() -> EventLoopFuture<Void> {
        guard let fd = self.fd.withLock({ value -> Int32? in defer { value = nil }; return value }) else {
            return self.eventLoop.makeFailedFuture(BlobStoreError.failed("commit after close"))
        }
        let (partial, final, directory) = (self.partialPath, self.finalPath, self.directory)
        return self.threadPool.runIfActive(eventLoop: self.eventLoop) {
            let synced = Result { try POSIXFile.sync(fd) }
            POSIXFile.close(fd)
            do {
                try synced.get()
                try POSIXFile.rename(partial, final)
            } catch {
                try? POSIXFile.unlinkIfPresent(partial)
                throw error
            }
            try POSIXFile.syncDirectory(directory)
        }
    }

    public func abort() -> EventLoopFuture<Void> {
        let fd = self.fd.withLock { value -> Int32? in defer { value = nil }; return value }
        let partial = self.partialPath
        return self.threadPool.runIfActive(eventLoop: self.eventLoop) {
            if let fd { POSIXFile.close(fd) }
            try POSIXFile.unlinkIfPresent(partial)
        }
    }
}
