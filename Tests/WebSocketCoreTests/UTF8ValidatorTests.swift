import ByteCoding
import NIOCore
import Testing

@testable import WebSocketCore

/// A byte-at-a-time reference: the index of the first byte at which `bytes` stops being a prefix
/// of valid UTF-8 (RFC 3629 §4), `nil` if there is none; and whether it ends on a boundary.
func referenceUTF8(_ bytes: [UInt8]) -> (failsAt: Int?, complete: Bool) {
    var index = 0
    while index < bytes.count {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0x00...0x7F: length = 1
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return (index, false)
        }
        for offset in 1..<length {
            guard index + offset < bytes.count else { return (nil, false) }
            let byte = bytes[index + offset]
            let (lower, upper) = offset == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
            guard byte >= lower, byte <= upper else { return (index + offset, false) }
        }
        index += length
    }
    return (nil, true)
}

/// Validates `bytes` split into the given pieces; the index of the piece whose call failed.
func validate(_ bytes: [UInt8], splits: [Int]) -> (failedPiece: Int?, complete: Bool) {
    var validator = UTF8Validator()
    var start = 0
    for (piece, end) in (splits + [bytes.count]).enumerated() {
        let ok = bytes[start..<end].withUnsafeBytes { validator.validate($0) }
        if !ok { return (piece, false) }
        start = end
    }
    return (nil, validator.isComplete)
}

@Suite("UTF8Validator")
struct UTF8ValidatorTests {
    @Test("Autobahn 6.x / Kuhn stress cases, whole and split at every position")
    func autobahnCases() {
        for testCase in autobahnUTF8Cases {
            let bytes = hexBytes(testCase.hex)
            let whole = validate(bytes, splits: [])
            #expect((whole.failedPiece == nil && whole.complete) == testCase.valid, "\(testCase.group): \(testCase.hex)")
            let reference = referenceUTF8(bytes)
            #expect((reference.failsAt == nil && reference.complete) == testCase.valid, "reference disagrees: \(testCase.hex)")
            for split in 0...bytes.count {
                let result = validate(bytes, splits: [split])
                #expect((result.failedPiece == nil && result.complete) == testCase.valid, "\(testCase.hex) split at \(split)")
                // Fail fast: the call that gets the first impossible byte is the one that fails.
                if let failsAt = reference.failsAt {
                    #expect(result.failedPiece == (failsAt < split ? 0 : 1), "\(testCase.hex) split at \(split)")
                }
            }
        }
    }

    @Test("Autobahn cases fed byte by byte fail exactly on the first impossible byte")
    func byteByByte() {
        for testCase in autobahnUTF8Cases {
            let bytes = hexBytes(testCase.hex)
            let result = validate(bytes, splits: Array(1..<max(bytes.count, 1)))
            #expect(result.failedPiece == referenceUTF8(bytes).failsAt, "\(testCase.hex)")
        }
    }

    @Test(
        "impossible prefixes fail on the byte that makes them impossible",
        arguments: [
            ("F4 90", 1), ("F4 8F BF BF", nil), ("ED A0", 1), ("ED 9F BF", nil), ("E0 80", 1), ("E0 9F", 1),
            ("E0 A0 80", nil), ("F0 80", 1), ("F0 8F", 1), ("F0 90 80 80", nil), ("C0", 0), ("C1", 0), ("C2 80", nil),
            ("F5", 0), ("FF", 0), ("80", 0), ("BF", 0), ("C2 41", 1), ("E1 80 41", 2), ("F1 80 80 41", 3),
            ("CE BA E1 BD B9 CF 83 CE BC CE B5 F4 90 80 80 65 64 69 74 65 64", 12),
        ] as [(String, Int?)]
    )
    func failFast(hex: String, failsAt: Int?) {
        let bytes = hexBytes(hex)
        #expect(validate(bytes, splits: Array(1..<bytes.count)).failedPiece == failsAt)
    }

    @Test("a truncated sequence is valid so far but not complete", arguments: ["C2", "E0 A0", "F0 90 80", "F4 8F BF", "41 E2 82"])
    func truncated(hex: String) {
        var validator = UTF8Validator()
        let ok = validator.validate(buffer(hexBytes(hex)))
        #expect(ok)
        #expect(!validator.isComplete)
    }

    @Test("code points around the edges")
    func edges() {
        let valid: [UInt32] = [0, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF]
        for scalar in valid {
            let bytes = Array(String(Unicode.Scalar(scalar)!).utf8)
            #expect(UTF8Validator.isValid(buffer(bytes)), "U+\(String(scalar, radix: 16))")
        }
        // U+D800, U+DFFF encoded as if they were scalars, and U+110000.
        for hex in ["ED A0 80", "ED BF BF", "F4 90 80 80", "F7 BF BF BF"] {
            #expect(!UTF8Validator.isValid(buffer(hexBytes(hex))), "\(hex)")
        }
    }

    @Test("a failed validator stays failed")
    func staysFailed() {
        var validator = UTF8Validator()
        let first = validator.validate(buffer([0xFF]))
        let second = validator.validate(buffer("fine"))
        #expect(!first && !second)
        #expect(!validator.isComplete)
    }

    @Test("random inputs agree with the reference and with the standard library, at random splits")
    func fuzz() {
        var generator = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = [
            Array("a".utf8), Array("hello world ".utf8), Array("é".utf8), Array("€".utf8), Array("😀".utf8),
            Array("κόσμε".utf8), [0x80], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90], [0xE2, 0x82], [0xF0],
            [0xFF], Array("0123456789abcdef".utf8),
        ]
        for _ in 0..<3000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...12, using: &generator) {
                // Mostly valid pieces, so that some inputs are entirely valid.
                let index = Int.random(in: 0..<(pieces.count * 3), using: &generator)
                bytes += pieces[index < pieces.count ? index : index % 6]
            }
            let reference = referenceUTF8(bytes)
            let expectedValid = reference.failsAt == nil && reference.complete
            #expect(expectedValid == (String(validating: bytes, as: UTF8.self) != nil))
            let split = Int.random(in: 0...bytes.count, using: &generator)
            let result = validate(bytes, splits: [split])
            #expect((result.failedPiece == nil && result.complete) == expectedValid, "\(bytes) split \(split)")
        }
    }

    @Test("long random inputs, split into several calls, fail in the same call as the reference")
    func longFuzz() {
        var generator = SystemRandomNumberGenerator()
        let valid: [[UInt8]] = [
            Array("a".utf8), Array("json {\"k\": 1} ".utf8), Array("é".utf8), Array("€".utf8), Array("😀".utf8),
            Array("κόσμε".utf8), Array("世界".utf8), [0xED, 0x9F, 0xBF], [0xF4, 0x8F, 0xBF, 0xBF], [0xE0, 0xA0, 0x80],
            [0xF0, 0x90, 0x80, 0x80], [0xC2, 0x80], [0xEF, 0xBF, 0xBF],
        ]
        let invalid: [[UInt8]] = [
            [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xE0, 0x9F, 0xBF],
            [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0xE2, 0x82],
            [0xF0, 0x90, 0x80], [0xC2], [0xF8, 0x88, 0x80, 0x80, 0x80],
        ]
        for round in 0..<4000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...60, using: &generator) {
                bytes += valid.randomElement(using: &generator)!
            }
            // Half the inputs get one defect at a random place.
            if round % 2 == 1 {
                let position = Int.random(in: 0...bytes.count, using: &generator)
                bytes.insert(contentsOf: invalid.randomElement(using: &generator)!, at: position)
            }
            let splits = (0..<Int.random(in: 0...3, using: &generator))
                .map { _ in Int.random(in: 0...bytes.count, using: &generator) }.sorted()
            let reference = referenceUTF8(bytes)
            let result = validate(bytes, splits: splits)
            if let failsAt = reference.failsAt {
                // The call that receives the first impossible byte fails.
                let expectedPiece = splits.filter { $0 <= failsAt }.count
                #expect(result.failedPiece == expectedPiece, "\(bytes) splits \(splits)")
            } else {
                #expect(result.failedPiece == nil, "\(bytes) splits \(splits)")
                #expect(result.complete == reference.complete, "\(bytes) splits \(splits)")
            }
            #expect((String(validating: bytes, as: UTF8.self) != nil) == (reference.failsAt == nil && reference.complete))
        }
    }
}
