import ByteCoding
import Testing

@Suite struct HexTests {
    /// RFC 4648 §10's base16 vectors (upper case there; ours defaults to lower case).
    @Test(arguments: [
        ("", ""), ("f", "66"), ("fo", "666F"), ("foo", "666F6F"), ("foob", "666F6F62"), ("fooba", "666F6F6261"),
        ("foobar", "666F6F626172"),
    ])
    func rfc4648Vectors(plain: String, encoded: String) {
        #expect(Hex.encode(Array(plain.utf8), uppercase: true) == encoded)
        #expect(Hex.encode(Array(plain.utf8)) == encoded.lowercased())
        #expect(Hex.decode(Array(encoded.utf8)) == Array(plain.utf8))
        #expect(Hex.decode(Array(encoded.lowercased().utf8)) == Array(plain.utf8))
    }

    @Test func everyByteRoundTrips() {
        let all = [UInt8](0...255)
        let text = Hex.encode(all)
        #expect(text.utf8.count == 512)
        #expect(text.hasPrefix("000102") && text.hasSuffix("fdfeff"))
        #expect(Hex.decode(Array(text.utf8)) == all)
    }

    @Test(arguments: ["0", "abc", "0g", "g0", " 00", "00 ", "+1", "-1", "0x"])
    func rejectsMalformedText(text: String) {
        #expect(Hex.decode(Array(text.utf8)) == nil)
    }

    @Test func digitValues() {
        #expect(Hex.value(of: UInt8(ascii: "0")) == 0)
        #expect(Hex.value(of: UInt8(ascii: "9")) == 9)
        #expect(Hex.value(of: UInt8(ascii: "a")) == 10)
        #expect(Hex.value(of: UInt8(ascii: "F")) == 15)
        for byte in [UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "G"), UInt8(ascii: "`"), UInt8(ascii: "g")] {
            #expect(Hex.value(of: byte) == nil)
        }
    }
}
