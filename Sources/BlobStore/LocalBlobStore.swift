#if canImport(Glibc)
import Glibc
#endif
public import NIOCore
public import NIOPosix

/// Blobs as files in one directory (`DATA_DIR/files` by default).
///
/// A blob is written to `.partial-<key>` (created exclusively, mode 0600), fsynced, renamed to
/// `<key>` and the directory fsynced: a crash leaves either the whole file under its final
/// name or only a partial file, which no row names and start-up removes. Every system call
/// runs on `threadPool`, never on an event loop.
public final class LocalBlobStore: BlobStore {
    public let backendName = "disk"
    let directory: String
    private let threadPool: NIOThreadPool

    /// Creates the directory if needed and removes partial files a crash left behind. Called
    /// once at start-up, before the server accepts connections (so it may block).
    public init(directory: String, threadPool: NIOThreadPool) throws {
        self.directory = directory
        self.threadPool = threadPool
        try POSIXFile.makeDirectories(directory)
        try POSIXFile.removePartials(in: directory, prefix: LocalBlobWriter.partialPrefix)
    }

    func path(_ key: String) -> String { "\(self.directory)/\(key)" }

    public func makeWriter(eventLoop: any EventLoop) -> EventLoopFuture<any BlobWriter> {
        let directory = self.directory
        let threadPool = self.threadPool
        return threadPool.runIfActive(eventLoop: eventLoop) { () throws -> any BlobWriter in
            let key = BlobKey.generate()
            let partial = "\(directory)/\(LocalBlobWriter.partialPrefix)\(key)"
            let fd = try POSIXFile.createExclusive(partial)
            return LocalBlobWriter(key: key, fd: fd, partialPath: partial, finalPath: "\(directory)/\(key)",
                                   directory: directory, threadPool: threadPool, eventLoop: eventLoop)
        }
    }

    public func read(key: String, offset: Int64, length: Int, eventLoop: any EventLoop) -> EventLoopFuture<ByteBuffer> {
        guard BlobKey.isValid(key) else { return eventLoop.makeFailedFuture(BlobStoreError.notFound) }
        let path = self.path(key)
        return self.threadPool.runIfActive(eventLoop: eventLoop) {
            try POSIXFile.read(path: path, offset: offset, length: length)
        }
    }

    public func delete(key: String) async throws {
        guard BlobKey.isValid(key) else { return }
        let path = self.path(key)
        try await self.threadPool.runIfActive { try POSIXFile.unlinkIfPresent(path) }
    }

    public func shutdown() async {}
}
