import Testing

@testable import WebSocketCore

@Suite("WebSocketMasking")
struct WebSocketMaskingTests {
    static func unmasked(_ bytes: [UInt8], key: [UInt8], keyOffset: Int, startPadding: Int = 0) -> [UInt8] {
        // `startPadding` shifts the payload inside the allocation so unaligned starts are covered.
        var storage = [UInt8](repeating: 0xEE, count: startPadding) + bytes + [0xEE, 0xEE]
        let maskKey = key.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        storage.withUnsafeMutableBytes { raw in
            let payload = UnsafeMutableRawBufferPointer(rebasing: raw[startPadding..<(startPadding + bytes.count)])
            WebSocketMasking.unmask(payload, maskKey: maskKey, keyOffset: keyOffset)
        }
        #expect(storage.prefix(startPadding).allSatisfy { $0 == 0xEE }, "wrote before the payload")
        #expect(storage.suffix(2) == [0xEE, 0xEE], "wrote past the payload")
        return Array(storage[startPadding..<(startPadding + bytes.count)])
    }

    @Test("RFC 6455 §5.7: key 37 fa 21 3d masks \"Hello\" to 7f 9f 4d 51 58")
    func rfcVector() {
        let key: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        #expect(Self.unmasked(Array("Hello".utf8), key: key, keyOffset: 0) == [0x7F, 0x9F, 0x4D, 0x51, 0x58])
        #expect(Self.unmasked([0x7F, 0x9F, 0x4D, 0x51, 0x58], key: key, keyOffset: 0) == Array("Hello".utf8))
    }

    @Test("word path equals the byte-at-a-time reference for lengths 0…64, offsets 0…3, unaligned starts")
    func smallLengths() {
        let key: [UInt8] = [0x01, 0x82, 0x43, 0xF4]
        for length in 0...64 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            for keyOffset in 0...3 {
                for padding in [0, 1, 3, 7] {
                    #expect(
                        Self.unmasked(bytes, key: key, keyOffset: keyOffset, startPadding: padding)
                            == referenceMask(bytes, key: key, keyOffset: keyOffset),
                        "length \(length) offset \(keyOffset) padding \(padding)"
                    )
                }
            }
        }
    }

    @Test("offsets are taken modulo 4")
    func offsetModulo() {
        let key: [UInt8] = [9, 10, 11, 12]
        let bytes = [UInt8](repeating: 0, count: 19)
        #expect(Self.unmasked(bytes, key: key, keyOffset: 5) == Self.unmasked(bytes, key: key, keyOffset: 1))
        #expect(Self.unmasked(bytes, key: key, keyOffset: 1_000_003) == referenceMask(bytes, key: key, keyOffset: 3))
    }

    @Test("large buffers, and a payload unmasked in pieces equals one pass")
    func largeBuffers() {
        var generator = SystemRandomNumberGenerator()
        for length in [4096, 65_537, 1_048_579] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let key = (0..<4).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = referenceMask(bytes, key: key, keyOffset: 0)
            #expect(Self.unmasked(bytes, key: key, keyOffset: 0, startPadding: 5) == expected)

            var pieces: [UInt8] = []
            var start = 0
            for size in [1, 7, 13, 4096, 3] + [Int](repeating: 65_521, count: 20) where start < length {
                let end = min(start + size, length)
                pieces += Self.unmasked(Array(bytes[start..<end]), key: key, keyOffset: start)
                start = end
            }
            pieces += Self.unmasked(Array(bytes[start...]), key: key, keyOffset: start)
            #expect(pieces == expected)
        }
    }
}
