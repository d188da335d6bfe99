import NIOCore

@testable import WebSocketCore

/// Bytes from a hex string; spaces and `0x` prefixes are ignored.
func hexBytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.split(whereSeparator: \.isWhitespace).map { $0.hasPrefix("0x") ? $0.dropFirst(2) : $0 }.joined())
    precondition(digits.count % 2 == 0, "odd hex string")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

func buffer(_ bytes: [UInt8]) -> ByteBuffer {
    ByteBuffer(bytes: bytes)
}

func buffer(_ string: String) -> ByteBuffer {
    ByteBuffer(string: string)
}

/// The byte-at-a-time masking of RFC 6455 §5.3, as the reference the word-at-a-time code must match.
func referenceMask(_ bytes: [UInt8], key: [UInt8], keyOffset: Int = 0) -> [UInt8] {
    bytes.enumerated().map { $0.element ^ key[($0.offset + keyOffset) % 4] }
}

/// A client frame as a browser would send it: masked with `key`, shortest length encoding
/// unless `lengthEncoding` forces a longer one.
func clientFrame(
    fin: Bool = true,
    rsv1: Bool = false,
    rsv2: Bool = false,
    rsv3: Bool = false,
    opcode: UInt8,
    payload: [UInt8],
    key: [UInt8]? = [0x37, 0xFA, 0x21, 0x3D],
    lengthEncoding: Int? = nil
) -> [UInt8] {
    var bytes: [UInt8] = []
    var first = opcode & 0x0F
    if fin { first |= 0x80 }
    if rsv1 { first |= 0x40 }
    if rsv2 { first |= 0x20 }
    if rsv3 { first |= 0x10 }
    bytes.append(first)
    let maskBit: UInt8 = key == nil ? 0 : 0x80
    let encoding = lengthEncoding ?? (payload.count <= 125 ? 7 : payload.count <= 0xFFFF ? 16 : 64)
    switch encoding {
    case 7:
        bytes.append(maskBit | UInt8(payload.count))
    case 16:
        bytes.append(maskBit | 126)
        bytes.append(UInt8(payload.count >> 8))
        bytes.append(UInt8(payload.count & 0xFF))
    default:
        bytes.append(maskBit | 127)
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: UInt64(payload.count) >> UInt64(shift)))
        }
    }
    if let key {
        bytes += key
        bytes += referenceMask(payload, key: key)
    } else {
        bytes += payload
    }
    return bytes
}

func clientFrame(fin: Bool = true, rsv1: Bool = false, opcode: UInt8, text: String) -> [UInt8] {
    clientFrame(fin: fin, rsv1: rsv1, opcode: opcode, payload: Array(text.utf8))
}

/// How a test hands its input to a decoder: the style of NIO's ByteToMessageDecoderVerifier.
enum ByteFeeding: CaseIterable, CustomStringConvertible {
    /// All bytes in one buffer.
    case whole
    /// One byte per read.
    case byteByByte
    /// Reads of 3 bytes, so that headers, keys and payloads split at odd places.
    case chunksOf3
    /// Reads of 1000 bytes.
    case chunksOf1000

    var description: String {
        switch self {
        case .whole: "whole"
        case .byteByByte: "byte by byte"
        case .chunksOf3: "chunks of 3"
        case .chunksOf1000: "chunks of 1000"
        }
    }

    func chunks(_ bytes: [UInt8]) -> [[UInt8]] {
        let size: Int
        switch self {
        case .whole: return [bytes]
        case .byteByByte: size = 1
        case .chunksOf3: size = 3
        case .chunksOf1000: size = 1000
        }
        return stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
    }
}

/// Feeds `bytes` to a fresh parser in reads shaped by `feeding`, collecting every frame; stops
/// at the first error and returns it with the frames before it.
func parseFrames(
    _ bytes: [UInt8],
    feeding: ByteFeeding,
    maxFrameSize: Int = 1 << 20,
    requiresMasking: Bool = true
) -> (frames: [WebSocketFrame], error: WebSocketProtocolError?) {
    var parser = WebSocketFrameParser(maxFrameSize: maxFrameSize, requiresMasking: requiresMasking)
    var cumulation = ByteBuffer()
    var frames: [WebSocketFrame] = []
    for chunk in feeding.chunks(bytes) {
        cumulation.writeBytes(chunk)
        do {
            while let frame = try parser.parse(&cumulation) {
                frames.append(frame)
            }
        } catch {
            return (frames, error)
        }
        cumulation.discardReadBytes()
    }
    return (frames, nil)
}
