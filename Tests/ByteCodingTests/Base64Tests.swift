import ByteCoding
import Testing

@Suite struct Base64Tests {
    /// RFC 4648 §10 vectors.
    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ])
    func rfc4648Vectors(plain: String, encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test("round trips every length and rejects malformed input")
    func roundTripsAndRejects() {
        for length in 0...40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        for bad in ["Zm9", "Zm=v", "=Zm8", "Zm8===", "Zm 8", "Z-8=", "Zm8=Zm8="] {
            #expect(Base64.decode(bad) == nil, "\(bad)")
        }
    }

    @Test func standardAlphabetDiffersFromURLSafe() {
        #expect(Base64.encode([0xFB, 0xFF]) == "+/8=")
        #expect(Base64.decode("+/8=") == [0xFB, 0xFF])
        let all = [UInt8](0...255)
        #expect(Base64.decode(Base64.encode(all)) == all)
    }
}
