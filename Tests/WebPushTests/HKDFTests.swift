import ByteCoding
import Testing
@testable import WebPush

/// RFC 5869 Appendix A, test cases 1 to 3 (HKDF-SHA256).
@Suite struct HKDFTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var ikm: String
        var salt: String
        var info: String
        var length: Int
        var prk: String
        var okm: String
        var testDescription: String { self.name }
    }

    static let vectors: [Vector] = [
        Vector(
            name: "A.1 basic",
            ikm: "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
            salt: "000102030405060708090a0b0c",
            info: "f0f1f2f3f4f5f6f7f8f9",
            length: 42,
            prk: "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
            okm: "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        ),
        Vector(
            name: "A.2 longer inputs and outputs",
            ikm: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                + "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f",
            salt: "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
                + "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
            info: "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
                + "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
            length: 82,
            prk: "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
            okm: "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
                + "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
                + "cc30c58179ec3e87c14c01d5c1f3434f1d87"
        ),
        Vector(
            name: "A.3 zero-length salt and info",
            ikm: "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
            salt: "",
            info: "",
            length: 42,
            prk: "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
            okm: "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
        ),
    ]

    @Test(arguments: vectors) func rfc5869(_ vector: Vector) throws {
        let ikm = try #require(Hex.decode(vector.ikm.utf8))
        let salt = try #require(Hex.decode(vector.salt.utf8))
        let info = try #require(Hex.decode(vector.info.utf8))
        let prk = HKDF.extract(salt: salt, inputKeyMaterial: ikm)
        #expect(Hex.encode(prk) == vector.prk)
        #expect(Hex.encode(HKDF.expand(pseudorandomKey: prk, info: info, length: vector.length)) == vector.okm)
        #expect(Hex.encode(HKDF.deriveKey(inputKeyMaterial: ikm, salt: salt, info: info, length: vector.length)) == vector.okm)
    }

    @Test func shorterOutputIsAPrefix() throws {
        let prk = [UInt8](repeating: 7, count: 32)
        let long = HKDF.expand(pseudorandomKey: prk, info: [1, 2], length: 100)
        #expect(HKDF.expand(pseudorandomKey: prk, info: [1, 2], length: 16) == Array(long.prefix(16)))
        #expect(HKDF.expand(pseudorandomKey: prk, info: [1, 2], length: 0).isEmpty)
    }
}
