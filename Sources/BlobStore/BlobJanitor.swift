public import Handlers
public import Logging

/// Drains the durable blob-cleanup queue (`blob_cleanup`, filled in the transactions that drop
/// file rows and replace avatars): deletes each blob, then its queue entry. A key leaves the
/// queue only once its blob is gone, so a crash or a failing backend just means a later retry.
///
/// Runs once at start-up (what an earlier process left), after commits (``wake()``, at most
/// once a second), and every `interval` as a backstop for failed deletes.
public final class BlobJanitor: Sendable {
    private let store: any Store
    private let blobs: any BlobStore
    private let logger: Logger
    private let interval: Duration
    private let wakeups: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    /// Keys handled per round trip to the database.
    static let batch = 100

    public init(store: any Store, blobs: any BlobStore, logger: Logger, interval: Duration = .seconds(60)) {
        self.store = store
        self.blobs = blobs
        self.logger = logger
        self.interval = interval
        // One pending wake-up is enough: a drain empties the whole queue.
        (self.wakeups, self.continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a drain soon; cheap and non-blocking, callable from any thread.
    public func wake() {
        self.continuation.yield()
    }

    /// Drains until cancelled.
    public func run() async {
        let ticker = Task { [interval, continuation] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                continuation.yield()
            }
        }
        defer { ticker.cancel() }
        await self.drain()
        for await _ in self.wakeups {
            if Task.isCancelled { break }
            await self.drain()
            // Wake-ups come with every commit: at most one drain (one small query when the
            // queue is empty) per second, however busy the server is.
            try? await Task.sleep(for: .seconds(1))
        }
    }

    public func stop() {
        self.continuation.finish()
    }

    /// Deletes every queued blob it can; returns how many it removed.
    @discardableResult
    public func drain() async -> Int {
        var removed = 0
        while true {
            let keys: [String]
            do {
                keys = try await self.store.read { try $0.pendingBlobCleanups(limit: Self.batch) }
            } catch {
                self.logger.warning("Blob cleanup cannot read its queue", metadata: ["error": "\(error)"])
                return removed
            }
            var done: [String] = []
            for key in keys {
                do {
                    try await self.blobs.delete(key: key)
                    done.append(key)
                } catch {
                    self.logger.warning("Blob delete failed; will retry", metadata: ["blob.key": "\(key)", "error": "\(error)"])
                }
            }
            if !done.isEmpty {
                do {
                    try await self.store.write { [done] in try $0.completeBlobCleanups(done) }
                    removed += done.count
                } catch {
                    self.logger.warning("Blob cleanup cannot update its queue", metadata: ["error": "\(error)"])
                    return removed
                }
            }
            // A short batch, or one where some deletes failed, ends this round.
            if keys.count < Self.batch || done.count < keys.count { return removed }
        }
    }
}
