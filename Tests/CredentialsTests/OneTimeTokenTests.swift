import ByteCoding
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
