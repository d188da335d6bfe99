import ByteCoding
import Testing

@Suite struct Base64URLTests {
    /// RFC 4648 §10 vectors (unpadded) plus the two characters that differ from base64.
    @Test(arguments: [
        ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"),
        ("foobar", "Zm9vYmFy"),
    ])
    func rfc4648Vectors(plain: String, encoded: String) {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(Base64URL.decode(Array(encoded.utf8)) == Array(plain.utf8))
    }

    @Test func urlSafeAlphabet() {
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode(Array("-_8".utf8)) == [0xFB, 0xFF])
        let all = [UInt8](0...255)
        #expect(Base64URL.decode(Array(Base64URL.encode(all).utf8)) == all)
    }

    @Test(arguments: ["Z", "Zg=", "Zg==", "Zh", "Zm9", "Zm+v", "Zm/v", "Zm9v\n", " Zm9v", "Zm9vY", "Zm.v"])
    func rejectsNonCanonicalText(text: String) {
        #expect(Base64URL.decode(Array(text.utf8)) == nil)
    }
}
