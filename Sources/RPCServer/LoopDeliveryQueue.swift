import NIOCore
import WebSocketCore
import Synchronization

/// Batches notifications for the sessions of one event loop: however many sessions of the loop
/// receive something in a burst (one event to 10,000 viewers), the loop is woken once, and each
/// session writes what it has and flushes once.
///
/// A session's outlet queues its messages in order and registers itself here the first time it
/// has something pending; the loop's drain takes every registered outlet and writes for each.
final class LoopDeliveryQueue: @unchecked Sendable {
    let eventLoop: any EventLoop
    /// The frame of the notification written last on this loop, reused while the same bytes go
    /// to the next session (one event to 10,000 viewers is framed once). Used on the loop only.
    let frames = TextFrameCache()
    private let ready = Mutex(Ready())
    /// The outlets being drained; on the loop only, and kept with its capacity so a drain does
    /// not allocate. (The reason this class is `@unchecked Sendable`, with ``frames``.)
    private var draining: [NotificationOutlet] = []

    private struct Ready {
        var outlets: [NotificationOutlet] = []
        var scheduled = false
    }

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// `outlet` has messages pending: drain it on the loop soon.
    func markReady(_ outlet: NotificationOutlet) {
        let schedule = self.ready.withLock { ready in
            ready.outlets.append(outlet)
            guard !ready.scheduled else { return false }
            ready.scheduled = true
            return true
        }
        if schedule {
            self.eventLoop.execute { self.drain() }
        }
    }

    private func drain() {
        self.ready.withLock { ready in
            ready.scheduled = false
            swap(&ready.outlets, &self.draining)
        }
        for outlet in self.draining {
            outlet.writePending()
        }
        self.draining.removeAll(keepingCapacity: self.draining.capacity <= Self.keptCapacity)
    }

    /// Past this many outlets in one drain, the array is given back rather than kept.
    static let keptCapacity = 65_536
}

/// Frames uncompressed text notifications, reusing the last frame while the same message (the
/// same array storage, which the cache keeps alive so it cannot be reused meanwhile) is sent
/// again: a shared `ByteBuffer` is written to every socket without a copy each. Loop-only.
final class TextFrameCache {
    private var source: [UInt8] = []
    private var frame: ByteBuffer?

    func frame(for bytes: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        if let frame, bytes.count == self.source.count, Self.sameStorage(bytes, self.source) {
            return frame
        }
        var frame = allocator.buffer(capacity: bytes.count + 10)
        WebSocketFrameEncoder.writeHeader(fin: true, rsv1: false, opcode: .text, payloadLength: bytes.count, into: &frame)
        frame.writeBytes(bytes)
        self.source = bytes
        self.frame = frame
        return frame
    }

    private static func sameStorage(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
    }
}

