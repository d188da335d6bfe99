import BlobStore
import NIOCore
import NIOHTTP1

/// One download's bytes on their way from the blob store to the socket.
///
/// One read ahead of the writes, at most two writes outstanding: the socket's pace sets the
/// store's, and memory stays at a few chunks per download. Lives on the connection's event loop.
final class DownloadPump {
    private let key: String
    private var offset: Int64
    private var remaining: Int64
    private let chunkBytes: Int
    private let blobs: any BlobStore
    private var readInFlight = false
    private var writesInFlight = 0
    private var stopped = false

    /// What the pump asks of the connection that owns it.
    struct Owner {
        /// Writes one chunk of the body; the future completes when it is on the wire.
        var write: (ByteBuffer) -> EventLoopFuture<Void>
        /// Every byte is written.
        var complete: () -> Void
        /// The store failed or the blob is shorter than its row says: the head is out, so the
        /// only honest signal left is to cut the connection.
        var fail: (_ error: (any Error)?) -> Void
    }

    private let owner: Owner

    init(key: String, offset: Int64, length: Int64, chunkBytes: Int, blobs: any BlobStore, owner: Owner) {
        self.key = key
        self.offset = offset
        self.remaining = length
        self.chunkBytes = chunkBytes
        self.blobs = blobs
        self.owner = owner
    }

    /// The connection went away: nothing more is read or written.
    func stop() {
        self.stopped = true
    }

    func pump(eventLoop: any EventLoop) {
        guard !self.stopped else { return }
        if self.remaining == 0 {
            if self.writesInFlight == 0, !self.readInFlight {
                self.stopped = true
                self.owner.complete()
            }
            return
        }
        guard !self.readInFlight, self.writesInFlight < 2 else { return }
        self.readInFlight = true
        let length = Int(min(Int64(self.chunkBytes), self.remaining))
        self.blobs.read(key: self.key, offset: self.offset, length: length, eventLoop: eventLoop)
            .assumeIsolated().whenComplete { [self] result in
                self.readInFlight = false
                guard !self.stopped else { return }
                switch result {
                case .success(let chunk) where chunk.readableBytes > 0:
                    self.offset += Int64(chunk.readableBytes)
                    self.remaining -= Int64(chunk.readableBytes)
                    self.writesInFlight += 1
                    self.owner.write(chunk).assumeIsolated().whenComplete { _ in
                        self.writesInFlight -= 1
                        self.pump(eventLoop: eventLoop)
                    }
                    self.pump(eventLoop: eventLoop)
                case .success:
                    self.stopped = true
                    self.owner.fail(nil)
                case .failure(let error):
                    self.stopped = true
                    self.owner.fail(error)
                }
            }
    }
}
