import NIOCore
import Testing

@testable import WebSocketCore

/// A codec as the handshake would negotiate it by default: 15-bit windows, context takeover.
func makeDeflate(_ parameters: PerMessageDeflateParameters = PerMessageDeflateParameters()) -> PerMessageDeflate {
    PerMessageDeflate(parameters: parameters, configuration: .default)
}

@Suite("WebSocketConnectionMachine with permessage-deflate")
struct WebSocketConnectionMachineDeflateTests {
    // RFC 7692 §7.2.3: "Hello" compressed in various ways.
    static let helloOneBlock = hexBytes("f2 48 cd c9 c9 07 00")
    static let helloAgainSharedWindow = hexBytes("f2 00 11 00 00")
    static let helloStoredBlock = hexBytes("00 05 00 fa ff 48 65 6c 6c 6f 00")
    static let helloBFinal = hexBytes("f3 48 cd c9 c9 07 00 00")
    static let helloTwoBlocks = hexBytes("f2 48 05 00 00 00 ff ff ca c9 c9 07 00")

    @Test("RFC 7692 §7.2.3 messages inflate to \"Hello\"", arguments: ByteFeeding.allCases)
    func rfcVectors(feeding: ByteFeeding) {
        let input = clientFrame(rsv1: true, opcode: 0x1, payload: Self.helloOneBlock)
            + clientFrame(rsv1: true, opcode: 0x1, payload: Self.helloAgainSharedWindow)
            + clientFrame(rsv1: true, opcode: 0x1, payload: Self.helloStoredBlock)
            + clientFrame(rsv1: true, opcode: 0x1, payload: Self.helloTwoBlocks)
        let actions = runMachine(input, feeding: feeding, deflate: makeDeflate())
        #expect(actions == [text("Hello"), text("Hello"), text("Hello"), text("Hello")])
    }

    @Test("RFC 7692 §7.2.3.1 fragmented compressed message, with a ping in between", arguments: ByteFeeding.allCases)
    func fragmented(feeding: ByteFeeding) {
        let input = clientFrame(fin: false, rsv1: true, opcode: 0x1, payload: Array(Self.helloOneBlock.prefix(3)))
            + clientFrame(opcode: 0x9, payload: [])
            + clientFrame(opcode: 0x0, payload: Array(Self.helloOneBlock.dropFirst(3)))
        #expect(runMachine(input, feeding: feeding, deflate: makeDeflate()) == [.ping(buffer([])), text("Hello")])
    }

    @Test("uncompressed messages still pass when deflate is negotiated")
    func uncompressedWithDeflate() {
        let input = WebSocketFrameParserTests.maskedHello + clientFrame(rsv1: true, opcode: 0x2, payload: Self.helloOneBlock)
        #expect(runMachine(input, deflate: makeDeflate()) == [text("Hello"), binary(Array("Hello".utf8))])
    }

    @Test("a deflate bomb fails with 1009 during inflation")
    func bomb() throws {
        let compressor = makeDeflate()
        let zeros = ByteBuffer(repeating: 0x20, count: 4 << 20)
        let compressed = try compressor.deflate(zeros, allocator: ByteBufferAllocator())
        #expect(compressed.readableBytes < 64 << 10)
        let frame = clientFrame(rsv1: true, opcode: 0x1, payload: Array(compressed.readableBytesView))
        #expect(failure(runMachine(frame, maxMessageSize: 1 << 20, deflate: makeDeflate())) == .messageTooBig)
        // The same message fits a larger limit.
        #expect(runMachine(frame, maxMessageSize: 4 << 20, deflate: makeDeflate()) == [text(String(repeating: " ", count: 4 << 20))])
    }

    /// An empty final block with fixed codes: BFINAL 1, BTYPE 01, end-of-block; 10 bits.
    static let emptyFinalBlock: [UInt8] = [0x03, 0x00]

    @Test("a frame of empty final blocks fails with 1009 after a bounded number of restarts")
    func finalBlockFlood() {
        // The attack as reproduced: 523,750 empty final blocks, 1 MiB of input and no output.
        let payload = Array([[UInt8]](repeating: Self.emptyFinalBlock, count: 523_750).joined())
        let frame = clientFrame(rsv1: true, opcode: 0x1, payload: payload)
        let deflate = makeDeflate()
        let limit = 1 << 20
        #expect(failure(runMachine(frame, maxMessageSize: limit, deflate: deflate)) == .messageTooBig)
        // The client may use a 15-bit window: each restart after the first costs 32 KiB.
        #expect(deflate.inflateRestarts <= limit / (1 << 15) + 2, "\(deflate.inflateRestarts) restarts")
    }

    @Test("a message that ends with one final block may fill the limit exactly")
    func finalBlockAtTheLimit() {
        // Stored blocks of 50,000 bytes, the last one final: 200,000 bytes of "a".
        func stored(_ count: Int, final: Bool) -> [UInt8] {
            let length = UInt16(count)
            return [final ? 0x01 : 0x00, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
                + [UInt8](repeating: 0x61, count: count)
        }
        let payload = stored(50_000, final: false) + stored(50_000, final: false) + stored(50_000, final: false)
            + stored(50_000, final: true)
        let frame = clientFrame(rsv1: true, opcode: 0x1, payload: payload)
        let deflate = makeDeflate()
        #expect(runMachine(frame, maxMessageSize: 200_000, deflate: deflate) == [text(String(repeating: "a", count: 200_000))])
        #expect(deflate.inflateRestarts == 1)
        // A second final block in the same message is charged: the same bytes no longer fit.
        let twice = stored(50_000, final: true) + stored(50_000, final: false) + stored(50_000, final: false)
            + stored(50_000, final: true)
        let charged = clientFrame(rsv1: true, opcode: 0x1, payload: twice)
        #expect(failure(runMachine(charged, maxMessageSize: 200_000, deflate: makeDeflate())) == .messageTooBig)
        #expect(runMachine(charged, maxMessageSize: 200_000 + (1 << 15), deflate: makeDeflate()).count == 1)
    }

    @Test("a compressed fragmented message over the limit fails with 1009")
    func fragmentedOverLimit() throws {
        let compressed = try makeDeflate().deflate(ByteBuffer(repeating: 0x61, count: 300), allocator: ByteBufferAllocator())
        let bytes = Array(compressed.readableBytesView)
        let half = bytes.count / 2
        let input = clientFrame(fin: false, rsv1: true, opcode: 0x1, payload: Array(bytes[..<half]))
            + clientFrame(opcode: 0x0, payload: Array(bytes[half...]))
        #expect(failure(runMachine(input, maxMessageSize: 299, deflate: makeDeflate())) == .messageTooBig)
        #expect(runMachine(input, maxMessageSize: 300, deflate: makeDeflate()) == [text(String(repeating: "a", count: 300))])
    }

    @Test("corrupt compressed data fails with 1007")
    func corrupt() {
        let frame = clientFrame(rsv1: true, opcode: 0x2, payload: [0xFF, 0xFF, 0xFF, 0xFF, 0x00])
        #expect(failure(runMachine(frame, deflate: makeDeflate())) == .invalidPayloadData)
    }

    @Test("invalid UTF-8 inside compressed text fails with 1007, even in a first fragment")
    func invalidCompressedText() throws {
        let compressor = makeDeflate()
        let bad = try compressor.deflate(ByteBuffer(bytes: Array("κόσμε".utf8) + [0xED, 0xA0, 0x80]), allocator: ByteBufferAllocator())
        let frame = clientFrame(fin: false, rsv1: true, opcode: 0x1, payload: Array(bad.readableBytesView))
        #expect(failure(runMachine(frame, deflate: makeDeflate())) == .invalidPayloadData)
        let truncated = try makeDeflate().deflate(ByteBuffer(bytes: [0x41, 0xE2, 0x82]), allocator: ByteBufferAllocator())
        let single = clientFrame(rsv1: true, opcode: 0x1, payload: Array(truncated.readableBytesView))
        #expect(failure(runMachine(single, deflate: makeDeflate())) == .invalidPayloadData)
    }
}
