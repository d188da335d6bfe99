import CZlib
import NIOCore

// The only file that touches zlib's C API: `z_stream`, its pointers and return codes stay here.
// Both classes own a heap-allocated `z_stream` (zlib keeps a back-pointer to it, so it must
// never move) and free it in deinit. They are confined to one connection's event loop.

/// Raw DEFLATE compression of whole messages, each ended by a sync flush (RFC 7692 §7.2.1).
final class ZlibDeflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let allocatedByteCount: UnsafeMutablePointer<Int>

    /// Opens a raw deflate stream (no zlib header or checksum, as RFC 7692 requires).
    ///
    /// - Parameters:
    ///   - level: 0...9.
    ///   - windowBits: 9...15 (zlib refuses a raw window of 8 bits).
    ///   - memLevel: 1...9.
    static func make(level: Int, windowBits: Int, memLevel: Int) throws(PerMessageDeflateError) -> ZlibDeflater {
        let (stream, counter) = makeCountingStream()
        let rc = faros_deflateInit2(stream, Int32(level), -Int32(windowBits), Int32(memLevel))
        guard rc == Z_OK else {
            // deflateInit2 frees whatever it allocated before failing.
            freeCountingStream(stream, counter)
            throw .internalError
        }
        return ZlibDeflater(stream: stream, allocatedByteCount: counter)
    }

    private init(stream: UnsafeMutablePointer<z_stream>, allocatedByteCount: UnsafeMutablePointer<Int>) {
        self.stream = stream
        self.allocatedByteCount = allocatedByteCount
    }

    deinit {
        _ = deflateEnd(self.stream)
        freeCountingStream(self.stream, self.allocatedByteCount)
    }

    /// Bytes zlib currently holds for this stream.
    var allocatedBytes: Int { self.allocatedByteCount.pointee }

    /// Deflates all of `input` and sync-flushes, appending to `output`, which then ends with
    /// the empty stored block `00 00 FF FF`.
    ///
    /// `input` must not be empty: zlib refuses a second sync flush with no new input.
    func compress(_ input: ByteBuffer, into output: inout ByteBuffer) throws(PerMessageDeflateError) {
        let stream = self.stream
        let rc: Int32 = input.withUnsafeReadableBytes { inBytes in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: inBytes.bindMemory(to: Bytef.self).baseAddress)
            stream.pointee.avail_in = uInt(inBytes.count)
            defer {
                stream.pointee.next_in = nil
                stream.pointee.avail_in = 0
            }
            while true {
                var rc = Z_OK
                var outputFull = false
                // More than 6 bytes of room on every call, or zlib may repeat the flush marker.
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.minimumOutputGrowth) { out in
                    let space = min(out.count, Int(uInt.max))
                    stream.pointee.next_out = out.bindMemory(to: Bytef.self).baseAddress
                    stream.pointee.avail_out = uInt(space)
                    rc = deflate(stream, Z_SYNC_FLUSH)
                    let written = space - Int(stream.pointee.avail_out)
                    outputFull = stream.pointee.avail_out == 0
                    stream.pointee.next_out = nil
                    stream.pointee.avail_out = 0
                    return written
                }
                // Z_BUF_ERROR: nothing was left to flush after a call that exactly filled the output.
                guard rc == Z_OK || rc == Z_BUF_ERROR else { return rc }
                // The flush is complete once zlib returns with room to spare, all input taken.
                if !outputFull { return stream.pointee.avail_in == 0 ? Z_OK : Z_STREAM_ERROR }
            }
        }
        guard rc == Z_OK else { throw .internalError }
    }

    /// Forgets the LZ77 window and starts a fresh stream, keeping the allocated memory.
    func reset() throws(PerMessageDeflateError) {
        guard deflateReset(self.stream) == Z_OK else { throw .internalError }
    }

    /// Room requested when the output buffer is full: small, because the buffer's own growth
    /// doubles its capacity, and a small message then gets a small buffer.
    private static let minimumOutputGrowth = 64
}

@available(*, unavailable)
extension ZlibDeflater: Sendable {}

/// Raw DEFLATE decompression of a stream of messages, with a bound on each call's output.
final class ZlibInflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let allocatedByteCount: UnsafeMutablePointer<Int>
    private let windowBits: Int

    /// Whether the stream ended with a final (BFINAL) block and no input arrived since.
    ///
    /// A message may end with a final block instead of a sync flush (RFC 7692 §7.2.3.4); such a
    /// message is complete without the `00 00 FF FF` tail.
    private(set) var endedWithFinalBlock = false

    /// Opens a raw inflate stream with a window of `windowBits` (8...15).
    static func make(windowBits: Int) throws(PerMessageDeflateError) -> ZlibInflater {
        let (stream, counter) = makeCountingStream()
        guard faros_inflateInit2(stream, -Int32(windowBits)) == Z_OK else {
            freeCountingStream(stream, counter)
            throw .internalError
        }
        return ZlibInflater(stream: stream, allocatedByteCount: counter, windowBits: windowBits)
    }

    private init(stream: UnsafeMutablePointer<z_stream>, allocatedByteCount: UnsafeMutablePointer<Int>, windowBits: Int) {
        self.stream = stream
        self.allocatedByteCount = allocatedByteCount
        self.windowBits = windowBits
    }

    deinit {
        _ = inflateEnd(self.stream)
        freeCountingStream(self.stream, self.allocatedByteCount)
    }

    /// Bytes zlib currently holds for this stream.
    var allocatedBytes: Int { self.allocatedByteCount.pointee }

    /// Whether the last inflate call stopped between two DEFLATE blocks.
    ///
    /// zlib sets bit 128 of `data_type` when inflate returns right after an end-of-block code or
    /// after a stored block's data, i.e. when the data seen so far ends exactly at a block
    /// boundary. A well-formed message with its `00 00 FF FF` tail always does.
    var isAtBlockBoundary: Bool { self.stream.pointee.data_type & 128 != 0 }

    /// Inflates all of `input`, appending to `output`.
    ///
    /// Fails with `.messageTooBig` as soon as `output.readableBytes` would exceed `limit`: zlib
    /// writes straight into `output` but never past `limit` bytes, and one byte more is probed
    /// in a scratch byte, so `output`'s capacity never has to grow beyond what `limit` needs.
    ///
    /// `restarts` counts the final blocks this message has restarted the stream after (the
    /// caller keeps it per message); every restart but the first is charged against `limit`
    /// as ``restartCharge`` bytes of output, so a message made of empty final blocks fails
    /// with `.messageTooBig` after about `limit / restartCharge` of them.
    func inflate(_ input: ByteBuffer, into output: inout ByteBuffer, limit: Int, restarts: inout Int) throws(PerMessageDeflateError) {
        guard input.readableBytes > 0 else { return }
        let stream = self.stream
        let failure: PerMessageDeflateError? = input.withUnsafeReadableBytes { inBytes in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: inBytes.bindMemory(to: Bytef.self).baseAddress)
            stream.pointee.avail_in = uInt(inBytes.count)
            defer {
                stream.pointee.next_in = nil
                stream.pointee.avail_in = 0
            }
            return self.inflateAvailableInput(into: &output, limit: limit, restarts: &restarts)
        }
        if let failure { throw failure }
    }

    /// What a restart after a final block costs against the message's limit, in bytes of output.
    ///
    /// A restart allocates a window, copies the window out and back in (up to `1 << windowBits`
    /// bytes each way) and resets the stream: about the work of inflating that many bytes, and
    /// never less than 4 KiB for the allocation and calls, whatever the window. Without a charge
    /// a 1 MiB frame of 2-byte empty final blocks made half a million restarts (0.74 s of one
    /// event loop) while producing no output at all.
    var restartCharge: Int { 1 << max(self.windowBits, 12) }

    /// The charge for `restarts` restarts in one message: the first is free, so the common
    /// message that ends with a final block (RFC 7692 §7.2.3.4) costs nothing extra.
    private func charge(forRestarts restarts: Int) -> Int {
        max(restarts - 1, 0) * self.restartCharge
    }

    /// Runs inflate until `next_in` is used up; each call makes progress or ends the loop.
    private func inflateAvailableInput(into output: inout ByteBuffer, limit: Int, restarts: inout Int) -> PerMessageDeflateError? {
        let stream = self.stream
        while true {
            let inputBefore = stream.pointee.avail_in
            let remaining = limit - self.charge(forRestarts: restarts) - output.readableBytes
            var rc = Z_OK
            var outputFull = false
            if remaining > 0 {
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: min(remaining, Self.minimumOutputGrowth)) { out in
                    let space = min(out.count, remaining, Int(uInt.max))
                    stream.pointee.next_out = out.bindMemory(to: Bytef.self).baseAddress
                    stream.pointee.avail_out = uInt(space)
                    rc = CZlib.inflate(stream, Z_SYNC_FLUSH)
                    let written = space - Int(stream.pointee.avail_out)
                    outputFull = stream.pointee.avail_out == 0
                    stream.pointee.next_out = nil
                    stream.pointee.avail_out = 0
                    return written
                }
            } else {
                // At the limit: one more byte of output means the message is too big.
                var probe: Bytef = 0
                let produced = withUnsafeMutablePointer(to: &probe) { probePointer in
                    stream.pointee.next_out = probePointer
                    stream.pointee.avail_out = 1
                    rc = CZlib.inflate(stream, Z_SYNC_FLUSH)
                    let produced = stream.pointee.avail_out == 0
                    stream.pointee.next_out = nil
                    stream.pointee.avail_out = 0
                    return produced
                }
                if produced { return .messageTooBig }
            }
            if stream.pointee.avail_in != inputBefore {
                self.endedWithFinalBlock = false
            }

            switch rc {
            case Z_OK, Z_BUF_ERROR:
                if !outputFull {
                    // inflate only stops with room left when it needs more input.
                    return stream.pointee.avail_in == 0 ? nil : .internalError
                }
            // Otherwise the output was full: more may be pending even with all input consumed.
            case Z_STREAM_END:
                // A final block ended the DEFLATE stream; the message (or the next) may go on
                // with new blocks that still refer to the window (RFC 7692 §7.2.1: "The next
                // DEFLATE block follows the padded data if any"), so restart keeping it, within
                // the message's budget.
                restarts += 1
                if output.readableBytes + self.charge(forRestarts: restarts) > limit { return .messageTooBig }
                guard self.restartKeepingWindow() else { return .internalError }
                self.endedWithFinalBlock = true
                if stream.pointee.avail_in == 0 { return nil }
            case Z_DATA_ERROR, Z_NEED_DICT:
                return .invalidData
            default:
                // Z_MEM_ERROR, Z_STREAM_ERROR: out of memory or a broken invariant.
                return .internalError
            }
        }
    }

    /// Starts a new stream after a final block, with the old window as its dictionary.
    private func restartKeepingWindow() -> Bool {
        let stream = self.stream
        let window = UnsafeMutablePointer<Bytef>.allocate(capacity: 1 << self.windowBits)
        defer { window.deallocate() }
        var length: uInt = 0
        guard inflateGetDictionary(stream, window, &length) == Z_OK, inflateReset(stream) == Z_OK else {
            return false
        }
        return length == 0 || inflateSetDictionary(stream, window, length) == Z_OK
    }

    /// Forgets the LZ77 window and starts a fresh stream, keeping the allocated memory.
    func reset() throws(PerMessageDeflateError) {
        self.endedWithFinalBlock = false
        guard inflateReset(self.stream) == Z_OK else { throw .internalError }
    }

    /// Room requested when the output buffer is full: small, because the buffer's own growth
    /// doubles its capacity, and a small message then gets a small buffer.
    private static let minimumOutputGrowth = 256
}

@available(*, unavailable)
extension ZlibInflater: Sendable {}

// MARK: - Allocation accounting

/// Allocates a zeroed `z_stream` whose zlib allocations are counted in the returned counter.
private func makeCountingStream() -> (UnsafeMutablePointer<z_stream>, UnsafeMutablePointer<Int>) {
    let counter = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    counter.initialize(to: 0)
    let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    stream.initialize(to: z_stream())
    stream.pointee.zalloc = countingAllocate
    stream.pointee.zfree = countingFree
    stream.pointee.opaque = UnsafeMutableRawPointer(counter)
    return (stream, counter)
}

/// Frees a stream from `makeCountingStream` once zlib has released its state.
private func freeCountingStream(_ stream: UnsafeMutablePointer<z_stream>, _ counter: UnsafeMutablePointer<Int>) {
    stream.deinitialize(count: 1)
    stream.deallocate()
    counter.deinitialize(count: 1)
    counter.deallocate()
}

/// Bytes in front of each zlib allocation that hold its size, so `countingFree` can subtract
/// it; 16 keeps the address zlib receives aligned as malloc would.
private let allocationHeaderSize = 16

/// zlib's `zalloc`: malloc-like, adding the size to the counter in `opaque`.
private func countingAllocate(_ opaque: voidpf?, _ items: uInt, _ size: uInt) -> voidpf? {
    let (bytes, overflow) = Int(items).multipliedReportingOverflow(by: Int(size))
    guard !overflow, let opaque else { return nil }
    let base = UnsafeMutableRawPointer.allocate(byteCount: allocationHeaderSize + bytes, alignment: allocationHeaderSize)
    base.storeBytes(of: bytes, as: Int.self)
    opaque.assumingMemoryBound(to: Int.self).pointee += bytes
    return base + allocationHeaderSize
}

/// zlib's `zfree`: releases an allocation from `countingAllocate` and subtracts its size.
private func countingFree(_ opaque: voidpf?, _ address: voidpf?) {
    guard let address else { return }
    let base = address - allocationHeaderSize
    let bytes = base.load(as: Int.self)
    opaque?.assumingMemoryBound(to: Int.self).pointee -= bytes
    base.deallocate()
}
