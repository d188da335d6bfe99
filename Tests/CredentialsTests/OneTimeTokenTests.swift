import Testing
@testable import Credentials

@Suite struct OneTimeTokenTests {
    @Test func generatesA256BitTokenAndItsHash() throws {
        let (token, hash) = OneTimeToken.generate()
        #expect(token.utf8.count == 43)
        #expect(try #require(Base64URL.decode(Array(token.utf8))).count == 32)
        #expect(hash == OneTimeToken.hash(token))
        #expect(hash.utf8.count == 64)
        #expect(hash.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) })
    }

    @Test func tokensAreDistinct() {
        let tokens = (0..<100).map { _ in OneTimeToken.generate().token }
        #expect(Set(tokens).count == 100)
    }

    /// FIPS 180-2 appendix B.1 and B.2 vectors, via the token hash.
    @Test func hashIsSHA256Hex() {
        #expect(OneTimeToken.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(OneTimeToken.hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            OneTimeToken.hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        )
    }

    @Test func secureRandomBytes() {
        #expect(SecureRandom.bytes(0).isEmpty)
        #expect(SecureRandom.bytes(1).count == 1)
        #expect(SecureRandom.bytes(64).count == 64)
        #expect(SecureRandom.bytes(32) != SecureRandom.bytes(32))
    }
}

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
