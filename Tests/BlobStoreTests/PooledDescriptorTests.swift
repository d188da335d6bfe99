@testable import BlobStore
import Glibc
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// An abort while a write is still running on the pool must not close the descriptor under it:
/// the number would be free for the next open or accept, and the write's bytes would land there.
@Suite struct PooledDescriptorTests {
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()

    @Test func anAbortWaitsForTheWriteInFlightBeforeClosing() async throws {
        // A pipe whose buffer fills: the write blocks on its pool thread until the test reads.
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let descriptor = PooledDescriptor(ends[1], threadPool: Self.pool, eventLoop: eventLoop)
        let order = Mutex<[String]>([])
        let size = 1 << 20
        let written = descriptor.write(ByteBuffer(repeating: 7, count: size)).map { order.withLock { $0.append("written") } }
        let closed = try #require(descriptor.take { fd in
            order.withLock { $0.append("closing") }
            close(fd)
        })
        #expect(descriptor.take { _ in } == nil, "taken once")
        // Drain the pipe: the write can finish only now, and the close must come after it.
        var drained = 0
        var chunk = [UInt8](repeating: 0, count: 65536)
        while drained < size {
            let n = read(ends[0], &chunk, chunk.count)
            if n < 0, errno == EINTR { continue }
            try #require(n > 0)
            drained += n
        }
        try await written.get()
        try await closed.get()
        #expect(order.withLock { $0 } == ["written", "closing"])
        #expect(read(ends[0], &chunk, 1) == 0, "the write end is closed once")
    }

    @Test func writesAfterTheTakeAreRefused() async throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let descriptor = PooledDescriptor(ends[1], threadPool: Self.pool, eventLoop: MultiThreadedEventLoopGroup.singleton.next())
        try await #require(descriptor.take { close($0) }).get()
        await #expect(throws: BlobStoreError.self) { try await descriptor.write(ByteBuffer(string: "late")).get() }
    }
}
