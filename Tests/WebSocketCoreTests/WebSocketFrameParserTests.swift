import NIOCore
import Testing

@testable import WebSocketCore

@Suite("WebSocketFrameParser")
struct WebSocketFrameParserTests {
    // RFC 6455 §5.7, byte for byte.
    static let maskedHello = hexBytes("0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58")
    static let maskedPong = hexBytes("0x8a 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58")
    static let unmaskedHello = hexBytes("0x81 0x05 0x48 0x65 0x6c 0x6c 0x6f")
    static let unmaskedHel = hexBytes("0x01 0x03 0x48 0x65 0x6c")
    static let unmaskedLo = hexBytes("0x80 0x02 0x6c 0x6f")
    static let unmaskedPing = hexBytes("0x89 0x05 0x48 0x65 0x6c 0x6c 0x6f")
    static let binary256 = (0..<256).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    static let binary64K = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
    static let unmasked256 = hexBytes("0x82 0x7E 0x01 0x00") + binary256
    static let unmasked64K = hexBytes("0x82 0x7F 0x00 0x00 0x00 0x00 0x00 0x01 0x00 0x00") + binary64K

    @Test("RFC 6455 §5.7 masked text \"Hello\"", arguments: ByteFeeding.allCases)
    func maskedHello(feeding: ByteFeeding) {
        let result = parseFrames(Self.maskedHello, feeding: feeding)
        #expect(result.error == nil)
        #expect(result.frames == [WebSocketFrame(opcode: .text, payload: buffer("Hello"))])
    }

    @Test("RFC 6455 §5.7 masked pong \"Hello\"", arguments: ByteFeeding.allCases)
    func maskedPong(feeding: ByteFeeding) {
        let result = parseFrames(Self.maskedPong, feeding: feeding)
        #expect(result.frames == [WebSocketFrame(opcode: .pong, payload: buffer("Hello"))])
    }

    @Test("RFC 6455 §5.7 unmasked vectors, read as server frames", arguments: ByteFeeding.allCases)
    func unmaskedVectors(feeding: ByteFeeding) {
        let input = Self.unmaskedHello + Self.unmaskedHel + Self.unmaskedLo + Self.unmaskedPing + Self.unmasked256
            + Self.unmasked64K
        let result = parseFrames(input, feeding: feeding, requiresMasking: false)
        #expect(result.error == nil)
        #expect(
            result.frames == [
                WebSocketFrame(opcode: .text, payload: buffer("Hello")),
                WebSocketFrame(fin: false, opcode: .text, payload: buffer("Hel")),
                WebSocketFrame(opcode: .continuation, payload: buffer("lo")),
                WebSocketFrame(opcode: .ping, payload: buffer("Hello")),
                WebSocketFrame(opcode: .binary, payload: buffer(Self.binary256)),
                WebSocketFrame(opcode: .binary, payload: buffer(Self.binary64K)),
            ]
        )
    }

    static let unmaskedVectors: [String: [UInt8]] = [
        "Hello": unmaskedHello, "Hel": unmaskedHel, "lo": unmaskedLo, "ping": unmaskedPing, "256 bytes": unmasked256,
        "64 KiB": unmasked64K,
    ]

    @Test("RFC 6455 §5.7 unmasked vectors are refused from a client with 1002", arguments: ["Hello", "Hel", "lo", "ping", "256 bytes", "64 KiB"])
    func unmaskedFromClient(name: String) throws {
        let bytes = try #require(Self.unmaskedVectors[name])
        for feeding in ByteFeeding.allCases {
            // Judged on the first two bytes, before the payload is there.
            let result = parseFrames(Array(bytes.prefix(2)), feeding: feeding)
            #expect(result.error?.closeCode == .protocolError)
            #expect(result.frames.isEmpty)
        }
    }

    @Test("masked 256-byte (16-bit length) and 64 KiB (64-bit length) binary frames", arguments: ByteFeeding.allCases)
    func extendedLengths(feeding: ByteFeeding) {
        let input = clientFrame(opcode: 0x2, payload: Self.binary256) + clientFrame(opcode: 0x2, payload: Self.binary64K)
        #expect(input[1] == 0x80 | 126)
        #expect(Array(input[2...3]) == [0x01, 0x00])
        #expect(Array(input[(4 + 4 + 256)...(4 + 4 + 256 + 9)]) == hexBytes("82 FF 00 00 00 00 00 01 00 00"))
        let result = parseFrames(input, feeding: feeding)
        #expect(result.error == nil)
        #expect(
            result.frames == [
                WebSocketFrame(opcode: .binary, payload: buffer(Self.binary256)),
                WebSocketFrame(opcode: .binary, payload: buffer(Self.binary64K)),
            ]
        )
    }

    @Test("merged with other frames, in every feeding", arguments: ByteFeeding.allCases)
    func merged(feeding: ByteFeeding) {
        let ping = clientFrame(opcode: 0x9, payload: [1, 2, 3], key: [9, 8, 7, 6])
        let empty = clientFrame(opcode: 0x2, payload: [], key: [1, 2, 3, 4])
        let close = clientFrame(opcode: 0x8, payload: [0x03, 0xE8], key: [0xFF, 0, 0xFF, 0])
        let input = ping + Self.maskedHello + empty + clientFrame(opcode: 0x2, payload: Self.binary256) + Self.maskedPong
            + close
        let result = parseFrames(input, feeding: feeding)
        #expect(result.error == nil)
        #expect(
            result.frames == [
                WebSocketFrame(opcode: .ping, payload: buffer([1, 2, 3])),
                WebSocketFrame(opcode: .text, payload: buffer("Hello")),
                WebSocketFrame(opcode: .binary, payload: buffer([])),
                WebSocketFrame(opcode: .binary, payload: buffer(Self.binary256)),
                WebSocketFrame(opcode: .pong, payload: buffer("Hello")),
                WebSocketFrame(opcode: .close, payload: buffer([0x03, 0xE8])),
            ]
        )
    }

    @Test("every split point of a two-frame input")
    func everySplit() {
        let input = clientFrame(opcode: 0x1, payload: Array("héllo wörld, a longer text payload".utf8), key: [1, 2, 3, 4])
            + clientFrame(opcode: 0x2, payload: Self.binary256, key: [0xAA, 0x55, 0x0F, 0xF0])
        let expected = [
            WebSocketFrame(opcode: .text, payload: buffer("héllo wörld, a longer text payload")),
            WebSocketFrame(opcode: .binary, payload: buffer(Self.binary256)),
        ]
        for first in 0...input.count {
            for second in stride(from: first, through: input.count, by: 17) {
                var parser = WebSocketFrameParser(maxFrameSize: 1 << 16)
                var cumulation = ByteBuffer()
                var frames: [WebSocketFrame] = []
                for chunk in [input[..<first], input[first..<second], input[second...]] {
                    cumulation.writeBytes(chunk)
                    while let frame = try! parser.parse(&cumulation) {
                        frames.append(frame)
                    }
                }
                #expect(frames == expected, "split at \(first), \(second)")
            }
        }
    }

    @Test("RSV bits are passed through, not judged")
    func rsvBitsPassThrough() {
        let input = clientFrame(rsv1: true, rsv2: true, rsv3: true, opcode: 0x1, payload: [0x41])
        let result = parseFrames(input, feeding: .whole)
        #expect(result.frames == [WebSocketFrame(rsv1: true, rsv2: true, rsv3: true, opcode: .text, payload: buffer("A"))])
    }

    @Test("reserved opcodes fail with 1002 on the first two bytes", arguments: [3, 4, 5, 6, 7, 11, 12, 13, 14, 15] as [UInt8])
    func reservedOpcodes(opcode: UInt8) {
        let frame = clientFrame(opcode: opcode, payload: [1, 2, 3])
        for feeding in ByteFeeding.allCases {
            let result = parseFrames(Array(frame.prefix(2)), feeding: feeding)
            #expect(result.error?.closeCode == .protocolError)
        }
    }

    @Test("fragmented control frames fail with 1002", arguments: [0x8, 0x9, 0xA] as [UInt8])
    func fragmentedControl(opcode: UInt8) {
        let frame = clientFrame(fin: false, opcode: opcode, payload: [])
        #expect(parseFrames(Array(frame.prefix(2)), feeding: .byteByByte).error?.closeCode == .protocolError)
    }

    @Test("control frames with more than 125 bytes fail with 1002", arguments: [0x8, 0x9, 0xA] as [UInt8])
    func longControl(opcode: UInt8) {
        let at125 = clientFrame(opcode: opcode, payload: [UInt8](repeating: 0x30, count: 125))
        #expect(parseFrames(at125, feeding: .whole).error == nil)
        let frame = clientFrame(opcode: opcode, payload: [UInt8](repeating: 0x30, count: 126))
        #expect(parseFrames(Array(frame.prefix(2)), feeding: .byteByByte).error?.closeCode == .protocolError)
        // Also when the length is encoded in the 64-bit form with a small value.
        let long = clientFrame(opcode: opcode, payload: [1], lengthEncoding: 64)
        #expect(parseFrames(long, feeding: .whole).error?.closeCode == .protocolError)
    }

    @Test("a 64-bit length with the top bit set fails with 1002 before the key arrives")
    func topBitLength() {
        let header = hexBytes("82 FF 80 00 00 00 00 00 00 05")
        for feeding in ByteFeeding.allCases {
            #expect(parseFrames(header, feeding: feeding).error?.closeCode == .protocolError)
        }
    }

    @Test("frames over maxFrameSize fail with 1009 on their header", arguments: [(16, 125), (16, 1000), (64, 1000), (64, 70000)])
    func tooBig(encoding: Int, maxFrameSize: Int) {
        let atLimit = clientFrame(opcode: 0x2, payload: [UInt8](repeating: 1, count: maxFrameSize), lengthEncoding: encoding)
        #expect(parseFrames(atLimit, feeding: .chunksOf1000, maxFrameSize: maxFrameSize).frames.count == 1)
        let over = clientFrame(opcode: 0x2, payload: [UInt8](repeating: 1, count: maxFrameSize + 1), lengthEncoding: encoding)
        let headerLength = encoding == 16 ? 4 : 10
        for feeding in ByteFeeding.allCases {
            let result = parseFrames(Array(over.prefix(headerLength)), feeding: feeding, maxFrameSize: maxFrameSize)
            #expect(result.error?.closeCode == .messageTooBig)
        }
        // A huge declared length is refused without any payload.
        let huge = hexBytes("82 FF 7F FF FF FF FF FF FF FF")
        #expect(parseFrames(huge, feeding: .whole, maxFrameSize: maxFrameSize).error?.closeCode == .messageTooBig)
    }

    @Test("frames before a bad header are returned before the error")
    func errorAfterFrames() {
        let input = Self.maskedHello + Self.maskedPong + hexBytes("83 80 00 00 00 00")
        for feeding in ByteFeeding.allCases {
            let result = parseFrames(input, feeding: feeding)
            #expect(result.frames.count == 2)
            #expect(result.error == WebSocketProtocolError(closeCode: .protocolError, reason: "reserved opcode"))
        }
    }

    @Test("an incomplete frame is not consumed, and nothing is returned")
    func incomplete() throws {
        var parser = WebSocketFrameParser(maxFrameSize: 1000)
        var input = buffer(Array(Self.maskedHello.dropLast()))
        #expect(try parser.parse(&input) == nil)
        #expect(try parser.parse(&input) == nil)
        input.writeInteger(Self.maskedHello.last!)
        #expect(try parser.parse(&input) == WebSocketFrame(opcode: .text, payload: buffer("Hello")))
        #expect(input.readableBytes == 0)
        #expect(try parser.parse(&input) == nil)
    }

    @Test("payloads are unmasked in place and sliced out without a copy")
    func zeroCopy() throws {
        var parser = WebSocketFrameParser(maxFrameSize: 1 << 20)
        var input = buffer(clientFrame(opcode: 0x2, payload: Self.binary64K) + Self.maskedHello)
        let base = input.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let first = try #require(try parser.parse(&input))
        let second = try #require(try parser.parse(&input))
        #expect(first.payload.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } == base + 14)
        #expect(second.payload.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } == base + 14 + 65536 + 6)
        #expect(first.payload == buffer(Self.binary64K))
    }

    @Test("a partial frame reports its header and its unmasked payload prefix")
    func partialStep() throws {
        var parser = WebSocketFrameParser(maxFrameSize: 1000)
        let frame = clientFrame(fin: false, opcode: 0x1, payload: Array("Hello, world".utf8), key: [5, 6, 7, 8])
        var input = buffer(Array(frame.prefix(9)))
        guard case .partial(let header, let available) = try parser.step(&input) else {
            Issue.record("expected a partial frame")
            return
        }
        #expect(header.opcode == .text && !header.fin && header.payloadLength == 12 && header.headerLength == 6)
        #expect(available == 3)
        #expect(input.getBytes(at: input.readerIndex + 6, length: 3) == Array("Hel".utf8))
        input.writeBytes(frame[9...])
        guard case .frame(let parsed) = try parser.step(&input) else {
            Issue.record("expected a frame")
            return
        }
        #expect(parsed.payload == buffer("Hello, world"))
    }
}
