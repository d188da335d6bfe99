import NIOCore
import NIOPosix
import Synchronization

/// A file descriptor written on a thread pool, closed only after its last write has finished.
///
/// Writes run on pool threads, and an abort (a client gone mid-upload) can come while one is
/// still running. Closing the descriptor then would let the write land on whatever the number
/// names next: another upload's file, or a socket. So the descriptor is handed out for closing
/// only behind the last write's future, and each write keeps this object (and so the
/// descriptor) alive until it is done.
final class PooledDescriptor: Sendable {
    private struct State {
        var fd: Int32
        /// The latest write; later work on the descriptor waits for it.
        var pending: EventLoopFuture<Void>?
    }

    private let state: Mutex<State?>
    private let threadPool: NIOThreadPool
    private let eventLoop: any EventLoop

    init(_ fd: Int32, threadPool: NIOThreadPool, eventLoop: any EventLoop) {
        self.state = Mutex(State(fd: fd))
        self.threadPool = threadPool
        self.eventLoop = eventLoop
    }

    deinit {
        // Never taken (neither committed nor aborted): no write can be running, since each one
        // holds this object until it ends.
        if let fd = self.state.withLock({ $0?.fd }) { POSIXFile.close(fd) }
    }

    /// Writes all of `buffer` on the pool; fails once the descriptor was taken.
    func write(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        self.state.withLock { state in
            guard let fd = state?.fd else {
                return self.eventLoop.makeFailedFuture(BlobStoreError.failed("write after close"))
            }
            let written = self.threadPool.runIfActive(eventLoop: self.eventLoop) { [self] in
                withExtendedLifetime(self) {}
                try buffer.withUnsafeReadableBytes { try POSIXFile.writeAll(fd, $0) }
            }
            state?.pending = written
            return written
        }
    }

    /// Takes the descriptor away from further writes and runs `body` with it on the pool once
    /// the last write has finished (whether it succeeded or not); nil if it was taken already.
    /// `body` owns the descriptor: it must close it.
    func take<T: Sendable>(_ body: @escaping @Sendable (Int32) throws -> T) -> EventLoopFuture<T>? {
        guard let taken = self.state.withLock({ state -> State? in defer { state = nil }; return state }) else {
            return nil
        }
        let settled = taken.pending.map { $0.flatMapErrorThrowing { _ in } } ?? self.eventLoop.makeSucceededVoidFuture()
        return settled.flatMap { [threadPool, eventLoop] in
            threadPool.runIfActive(eventLoop: eventLoop) { try body(taken.fd) }
        }
    }
}
