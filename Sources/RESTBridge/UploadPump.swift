import BlobStore
import Handlers
import JSONRPC
import NIOCore

/// One upload's body on its way to the blob store: multipart parsing and sniffing
/// (``MultipartUpload``), then one store write at a time with backpressure.
///
/// Lives on the connection's event loop. Reading pauses while a whole chunk waits for the store
/// (or for the writer, before the caller's rights are checked); the pump tells its owner through
/// ``Owner`` when to pause or resume reading, when it failed, and when the body is all stored.
final class UploadPump {
    enum Target: Equatable { case taskFile(taskID: Int64), avatar }

    /// What the pump asks of the connection that owns it.
    struct Owner {
        var pauseReading: () -> Void
        var resumeReading: () -> Void
        /// The upload cannot go on; the writer is already aborted.
        var fail: (RPCError) -> Void
        /// `bytes` more are stored (for metrics and the stall watchdog).
        var stored: (_ bytes: Int) -> Void
        /// Every byte is stored and the multipart body was well-formed.
        var complete: (_ file: (filename: String, contentType: String, size: Int64), _ writer: any BlobWriter) -> Void
    }

    let target: Target
    private let parser: MultipartUpload
    private let chunkBytes: Int
    private let owner: Owner
    /// Set once the caller's rights are checked and the store is ready.
    private(set) var writer: (any BlobWriter)?
    /// Body parts that arrived before the writer was ready (reading is paused meanwhile).
    private var early: [ByteBuffer] = []
    private(set) var writeInFlight = false
    private var bodyEnded = false
    private var paused = false
    /// The body is stored and handed to ``Owner/complete``: the blob is no longer the pump's.
    private(set) var finished = false

    init(target: Target, parser: MultipartUpload, chunkBytes: Int, owner: Owner) {
        self.target = target
        self.parser = parser
        self.chunkBytes = chunkBytes
        self.owner = owner
    }

    /// Until the writer is ready nothing more is read.
    func start() {
        self.pause()
    }

    func ready(writer: any BlobWriter) {
        self.writer = writer
        let early = self.early
        self.early = []
        for buffer in early {
            guard self.feed(buffer) else { return }
        }
        self.resume()
        self.pump()
    }

    func receive(_ buffer: ByteBuffer) {
        if self.writer == nil {
            self.early.append(buffer)
        } else if self.feed(buffer) {
            self.pump()
        }
    }

    func bodyEnd() {
        self.bodyEnded = true
        if self.writer != nil { self.pump() }
    }

    /// Removes whatever was written (the client went away, stalled, or the request failed).
    func abort() {
        guard !self.finished, let writer = self.writer else { return }
        self.writer = nil
        _ = writer.abort()
    }

    private func feed(_ buffer: ByteBuffer) -> Bool {
        do {
            try self.parser.feed(buffer)
            return true
        } catch {
            self.failed(error)
            return false
        }
    }

    private func failed(_ error: RPCError) {
        self.abort()
        self.owner.fail(error)
    }

    /// Sends staged bytes to the store one write at a time, and finishes once the body has
    /// ended and everything is written.
    private func pump() {
        guard let writer = self.writer, !self.finished else { return }
        if !self.writeInFlight, let chunk = self.parser.takeChunk(minimum: self.bodyEnded ? 0 : self.chunkBytes) {
            self.writeInFlight = true
            let bytes = chunk.readableBytes
            writer.write(chunk).assumeIsolated().whenComplete { [self] result in
                self.writeInFlight = false
                guard self.writer === writer else { return }  // aborted meanwhile
                switch result {
                case .success:
                    self.owner.stored(bytes)
                    self.pump()
                case .failure(BlobStoreError.full):
                    self.failed(.unavailable(retryAfterMs: 60_000, message: "File storage is full"))
                case .failure:
                    self.failed(.unavailable(message: "File storage unavailable", underlying: result.failure))
                }
            }
        }
        if self.parser.stagedBytes >= self.chunkBytes {
            self.pause()
        } else {
            self.resume()
        }
        if self.bodyEnded, !self.writeInFlight, self.parser.stagedBytes == 0 {
            do {
                let file = try self.parser.finish()
                self.finished = true
                self.owner.complete(file, writer)
            } catch {
                self.failed(error)
            }
        }
    }

    private func pause() {
        guard !self.paused else { return }
        self.paused = true
        self.owner.pauseReading()
    }

    private func resume() {
        guard self.paused else { return }
        self.paused = false
        self.owner.resumeReading()
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
