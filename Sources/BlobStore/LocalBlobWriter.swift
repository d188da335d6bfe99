public import NIOCore
import NIOPosix

/// A blob being written to a partial file of a ``LocalBlobStore``.
public final class LocalBlobWriter: BlobWriter {
    static let partialPrefix = ".partial-"
    public let key: String
    private let partialPath: String
    private let finalPath: String
    private let directory: String
    private let eventLoop: any EventLoop
    /// The open partial file; taken by commit or abort, each after the last write.
    private let descriptor: PooledDescriptor

    init(key: String, fd: Int32, partialPath: String, finalPath: String, directory: String,
         threadPool: NIOThreadPool, eventLoop: any EventLoop) {
        self.key = key
        self.descriptor = PooledDescriptor(fd, threadPool: threadPool, eventLoop: eventLoop)
        self.partialPath = partialPath
        self.finalPath = finalPath
        self.directory = directory
        self.eventLoop = eventLoop
    }

    // A writer dropped without commit or abort (a bug) still leaves nothing under the final
    // name: the descriptor closes with it, and its partial file goes at the next start-up.

    public func write(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        self.descriptor.write(buffer)
    }

    public func commit() -> EventLoopFuture<Void> {
        let (partial, final, directory) = (self.partialPath, self.finalPath, self.directory)
        let committed = self.descriptor.take { fd in
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
        return committed ?? self.eventLoop.makeFailedFuture(BlobStoreError.failed("commit after close"))
    }

    public func abort() -> EventLoopFuture<Void> {
        let partial = self.partialPath
        let aborted = self.descriptor.take { fd in
            POSIXFile.close(fd)
            try POSIXFile.unlinkIfPresent(partial)
        }
        // Taken already (committed or aborted): nothing of ours is open any more.
        return aborted ?? self.eventLoop.makeSucceededVoidFuture()
    }
}
