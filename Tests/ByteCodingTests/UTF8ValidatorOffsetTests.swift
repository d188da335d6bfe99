import ByteCoding
import Testing

/// The error position a parser reports: the lead byte of the first ill-formed sequence. The
/// validator itself (whole, split, byte by byte, the Autobahn 6.x cases) is tested in
/// WebSocketCoreTests, where its streaming use is.
@Suite struct UTF8ValidatorOffsetTests {
    @Test(arguments: [
        ([], nil), (Array("plain ascii".utf8), nil), (Array("héllo ✓ 😀".utf8), nil),
        ([0x61, 0xC3, 0x28], 1), ([0x80], 0), ([0xC0, 0xAF], 0), ([0xE0, 0x80, 0xAF], 0),
        ([0xED, 0xA0, 0x80], 0), ([0xF4, 0x90, 0x80, 0x80], 0), ([0xF5], 0), ([0xE2, 0x9C], 0),
        ([0x61, 0x62, 0xFF], 2), (Array("0123456789abcdef".utf8) + [0xCE, 0xBA, 0xE1, 0xBD], 18),
    ] as [([UInt8], Int?)])
    func firstInvalidOffset(bytes: [UInt8], offset: Int?) {
        bytes.withUnsafeBytes { raw in
            #expect(UTF8Validator.firstInvalidOffset(in: raw, range: 0..<raw.count) == offset)
            #expect(UTF8Validator.isValid(raw) == (offset == nil))
        }
    }

    @Test func offsetsCountFromTheBufferNotTheRange() {
        let bytes: [UInt8] = [0xFF, 0x22, 0x61, 0xC3, 0x22]
        bytes.withUnsafeBytes { raw in
            #expect(UTF8Validator.firstInvalidOffset(in: raw, range: 2..<4) == 3)
            #expect(UTF8Validator.firstInvalidOffset(in: raw, range: 1..<3) == nil)
        }
    }
}
