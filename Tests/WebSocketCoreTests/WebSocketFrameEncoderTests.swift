import ByteCoding
import NIOCore
import Testing

@testable import WebSocketCore

@Suite("WebSocketFrameEncoder")
struct WebSocketFrameEncoderTests {
    static func frame(fin: Bool = true, rsv1: Bool = false, opcode: WebSocketOpcode, payload: [UInt8]) -> [UInt8] {
        var output = ByteBuffer()
        WebSocketFrameEncoder.writeHeader(fin: fin, rsv1: rsv1, opcode: opcode, payloadLength: payload.count, into: &output)
        output.writeBytes(payload)
        return Array(output.readableBytesView)
    }

    @Test("RFC 6455 §5.7 server frames, byte for byte")
    func rfcVectors() {
        let hello = Array("Hello".utf8)
        #expect(Self.frame(opcode: .text, payload: hello) == WebSocketFrameParserTests.unmaskedHello)
        #expect(Self.frame(fin: false, opcode: .text, payload: Array("Hel".utf8)) == WebSocketFrameParserTests.unmaskedHel)
        #expect(Self.frame(opcode: .continuation, payload: Array("lo".utf8)) == WebSocketFrameParserTests.unmaskedLo)
        #expect(Self.frame(opcode: .ping, payload: hello) == WebSocketFrameParserTests.unmaskedPing)
        #expect(Self.frame(opcode: .binary, payload: WebSocketFrameParserTests.binary256) == WebSocketFrameParserTests.unmasked256)
        #expect(Self.frame(opcode: .binary, payload: WebSocketFrameParserTests.binary64K) == WebSocketFrameParserTests.unmasked64K)
    }

    @Test(
        "minimal length encoding at the boundaries",
        arguments: [
            (0, "82 00"), (125, "82 7D"), (126, "82 7E 00 7E"), (65535, "82 7E FF FF"),
            (65536, "82 7F 00 00 00 00 00 01 00 00"), (1 << 32, "82 7F 00 00 00 01 00 00 00 00"),
        ] as [(Int, String)]
    )
    func lengths(length: Int, header: String) {
        var output = ByteBuffer()
        WebSocketFrameEncoder.writeHeader(fin: true, rsv1: false, opcode: .binary, payloadLength: length, into: &output)
        #expect(Array(output.readableBytesView) == hexBytes(header))
        #expect(output.readableBytes <= WebSocketFrameEncoder.maxHeaderLength)
    }

    @Test("RSV1 marks a compressed message; FIN clear for a first fragment")
    func bits() {
        #expect(Self.frame(rsv1: true, opcode: .text, payload: []) == [0xC1, 0x00])
        #expect(Self.frame(fin: false, rsv1: true, opcode: .binary, payload: []) == [0x42, 0x00])
        #expect(Self.frame(opcode: .close, payload: []) == [0x88, 0x00])
        #expect(Self.frame(opcode: .pong, payload: []) == [0x8A, 0x00])
    }

    @Test("encoder output reads back through the parser", arguments: [0, 1, 125, 126, 65535, 65536, 100_000])
    func roundTrip(length: Int) {
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
        let bytes = Self.frame(opcode: .binary, payload: payload) + Self.frame(fin: false, opcode: .text, payload: [0x41])
        let result = parseFrames(bytes, feeding: .chunksOf1000, requiresMasking: false)
        #expect(result.error == nil)
        #expect(
            result.frames == [
                WebSocketFrame(opcode: .binary, payload: buffer(payload)),
                WebSocketFrame(fin: false, opcode: .text, payload: buffer("A")),
            ]
        )
    }

    @Test("close payload: code then reason")
    func closePayload() {
        let payload = WebSocketFrameEncoder.closePayload(code: .goingAway, reason: "bye", allocator: ByteBufferAllocator())
        #expect(Array(payload.readableBytesView) == [0x03, 0xE9] + Array("bye".utf8))
        let empty = WebSocketFrameEncoder.closePayload(code: .tryAgainLater, reason: "", allocator: ByteBufferAllocator())
        #expect(Array(empty.readableBytesView) == [0x03, 0xF5])
    }

    @Test(
        "close reason is cut to fit 125 bytes on a scalar boundary",
        arguments: [
            (String(repeating: "a", count: 200), 123), (String(repeating: "a", count: 123), 123),
            (String(repeating: "é", count: 70), 122), (String(repeating: "😀", count: 40), 120),
            ("a" + String(repeating: "€", count: 50), 121),
        ] as [(String, Int)]
    )
    func closeTruncation(reason: String, expectedReasonBytes: Int) {
        let payload = WebSocketFrameEncoder.closePayload(code: .normalClosure, reason: reason, allocator: ByteBufferAllocator())
        #expect(payload.readableBytes == 2 + expectedReasonBytes)
        #expect(payload.readableBytes <= 125)
        let reasonBytes = payload.getSlice(at: payload.readerIndex + 2, length: payload.readableBytes - 2)!
        #expect(UTF8Validator.isValid(reasonBytes))
        #expect(reason.utf8.starts(with: reasonBytes.readableBytesView))
    }
}
