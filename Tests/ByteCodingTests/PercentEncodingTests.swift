import ByteCoding
import Testing

@Suite struct PercentEncodingTests {
    /// RFC 3986 §2.3: unreserved characters stay, everything else becomes `%XX` with upper-case
    /// digits (§2.1), byte by byte of the UTF-8 (§2.5).
    @Test(arguments: [
        ("", ""),
        ("AZaz09-._~", "AZaz09-._~"),
        ("a b", "a%20b"),
        ("\"etag\"", "%22etag%22"),
        ("p@ss:w/rd?#[]", "p%40ss%3Aw%2Frd%3F%23%5B%5D"),
        ("100%", "100%25"),
        ("+&=", "%2B%26%3D"),
        ("é", "%C3%A9"),
        ("€", "%E2%82%AC"),
    ])
    func encodesAllButUnreserved(plain: String, encoded: String) {
        #expect(PercentEncoding.encode(plain) == encoded)
        #expect(PercentEncoding.decodeUTF8(encoded) == plain)
    }

    @Test func encodesWithACallerSet() {
        let encoded = PercentEncoding.encode("a b!c") { $0 == UInt8(ascii: "!") || (0x61...0x7A).contains($0) }
        #expect(encoded == "a%20b!c")
    }

    @Test func decodesEitherCaseOfHexDigits() {
        #expect(PercentEncoding.decode(Array("%3a%3A".utf8)) == Array("::".utf8))
        #expect(PercentEncoding.decodeUTF8("%c3%a9") == "é")
    }

    @Test func plusIsASpaceOnlyInFormEncoding() {
        #expect(PercentEncoding.decodeUTF8("a+b%2B") == "a+b+")
        #expect(PercentEncoding.decodeUTF8("a+b%2B", plusAsSpace: true) == "a b+")
    }

    @Test(arguments: ["%", "%4", "%zz", "%4g", "a%", "%%41", "%-1"])
    func rejectsBadEscapes(text: String) {
        #expect(PercentEncoding.decode(Array(text.utf8)) == nil)
        #expect(PercentEncoding.decodeUTF8(text) == nil)
    }

    @Test func bytesThatAreNotUTF8DecodeOnlyAsBytes() {
        #expect(PercentEncoding.decode(Array("%FF%C3".utf8)) == [0xFF, 0xC3])
        #expect(PercentEncoding.decodeUTF8("%FF%C3") == nil)
    }
}
