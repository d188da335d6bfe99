import ByteCoding
import Foundation
import TestSupport
import Testing
@testable import WebPush

func hex(_ text: String) -> [UInt8] {
    guard let bytes = Hex.decode(text.utf8) else { fatalError("bad hex in a test: \(text)") }
    return bytes
}

func b64(_ text: String) -> [UInt8] {
    guard let bytes = Base64URL.decode(text.utf8) else { fatalError("bad base64url in a test: \(text)") }
    return bytes
}

/// RFC 6979 A.2.5: the P-256 key and its deterministic ECDSA signature (SHA-256) of "sample".
enum RFC6979 {
    static let scalar = hex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")
    static let publicKey = [0x04] + hex("60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6")
        + hex("7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299")
    static let r = hex("efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716")
    static let s = hex("f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8")
    /// Both numbers have their high bit set, so DER pads each with a zero byte.
    static let der = hex("3046022100efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
        + "022100f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8")
    static let message = Array("sample".utf8)
}

@Suite struct P256Tests {
    @Test func publicKeyOfAKnownScalar() throws {
        let key = try P256PrivateKey(rawScalar: RFC6979.scalar)
        #expect(key.publicKey == RFC6979.publicKey)
        #expect(key.rawScalar == RFC6979.scalar)
    }

    @Test func verifiesTheRFC6979Signature() {
        let raw = RFC6979.r + RFC6979.s
        #expect(P256.verifyES256(publicKey: RFC6979.publicKey, message: RFC6979.message, signature: raw))
        #expect(!P256.verifyES256(publicKey: RFC6979.publicKey, message: Array("samplf".utf8), signature: raw))
        var flipped = raw
        flipped[63] ^= 1
        #expect(!P256.verifyES256(publicKey: RFC6979.publicKey, message: RFC6979.message, signature: flipped))
        #expect(!P256.verifyES256(publicKey: RFC6979.publicKey, message: RFC6979.message, signature: Array(raw.prefix(63))))
        #expect(!P256.verifyES256(publicKey: RFC6979.publicKey, message: RFC6979.message, signature: [UInt8](repeating: 0, count: 64)))
    }

    @Test func derToRawKnownAnswers() throws {
        #expect(ECDSASignature.raw(fromDER: RFC6979.der) == RFC6979.r + RFC6979.s)
        #expect(ECDSASignature.der(fromRaw: RFC6979.r + RFC6979.s) == RFC6979.der)
        // Short numbers (leading zero bytes dropped in DER) are left-padded back to 32 bytes.
        let shortR = [UInt8](repeating: 0, count: 31) + [0x05]
        let lowS = [UInt8](repeating: 0, count: 1) + [UInt8](repeating: 0x7F, count: 31)
        let der = try #require(ECDSASignature.der(fromRaw: shortR + lowS))
        #expect(der == [0x30, 0x24, 0x02, 0x01, 0x05, 0x02, 0x1F] + [UInt8](repeating: 0x7F, count: 31))
        #expect(ECDSASignature.raw(fromDER: der) == shortR + lowS)
    }

    @Test func derParserRefusesWhatIsNotStrictDER() {
        let valid = RFC6979.der
        // Trailing bytes, a wrong outer length, a negative number, a non-minimal leading zero,
        // a 33-byte number without its pad, a zero length, the wrong tag.
        #expect(ECDSASignature.raw(fromDER: valid + [0]) == nil)
        var badLength = valid
        badLength[1] = 0x45
        #expect(ECDSASignature.raw(fromDER: badLength) == nil)
        #expect(ECDSASignature.raw(fromDER: [0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x01]) == nil)
        #expect(ECDSASignature.raw(fromDER: [0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01]) == nil)
        #expect(ECDSASignature.raw(fromDER: [0x30, 0x06, 0x02, 0x00, 0x02, 0x02, 0x01, 0x01]) == nil)
        #expect(ECDSASignature.raw(fromDER: [0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]) == nil)
        #expect(ECDSASignature.raw(fromDER: [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]) == [UInt8](repeating: 0, count: 31) + [1] + [UInt8](repeating: 0, count: 31) + [1])
        let tooLong = [0x30, 0x25, 0x02, 0x21] + [UInt8](repeating: 0x01, count: 33) + [0x02, 0x01, 0x01]
        #expect(ECDSASignature.raw(fromDER: tooLong) == nil)
    }

    @Test func signAndVerifyRoundTrip() throws {
        let key = try P256PrivateKey.generate()
        for length in [0, 1, 55, 64, 1000] {
            let message = [UInt8](repeating: UInt8(length & 0xFF), count: length)
            let signature = try key.signES256(message)
            #expect(signature.count == 64)
            #expect(P256.verifyES256(publicKey: key.publicKey, message: message, signature: signature))
            #expect(!P256.verifyES256(publicKey: key.publicKey, message: message + [1], signature: signature))
        }
        let other = try P256PrivateKey.generate()
        let signature = try key.signES256([1, 2, 3])
        #expect(!P256.verifyES256(publicKey: other.publicKey, message: [1, 2, 3], signature: signature))
    }

    @Test func generatedKeysAreDistinctAndRoundTripTheirScalar() throws {
        let a = try P256PrivateKey.generate()
        let b = try P256PrivateKey.generate()
        #expect(a.publicKey != b.publicKey)
        #expect(a.publicKey.count == 65 && a.publicKey[0] == 4)
        #expect(try P256PrivateKey(rawScalar: a.rawScalar).publicKey == a.publicKey)
    }

    @Test func ecdhAgreesBothWays() throws {
        let a = try P256PrivateKey.generate()
        let b = try P256PrivateKey.generate()
        let ab = try a.sharedSecret(peerPublicKey: b.publicKey)
        #expect(ab.count == 32)
        #expect(ab == (try b.sharedSecret(peerPublicKey: a.publicKey)))
    }

    @Test func refusesScalarsOutsideTheGroup() {
        let order = P256.order
        var orderMinusOne = order
        orderMinusOne[31] -= 1
        var orderPlusOne = order
        orderPlusOne[31] += 1
        for bad in [[UInt8](repeating: 0, count: 32), order, orderPlusOne, [UInt8](repeating: 0xFF, count: 32),
                    [UInt8](repeating: 1, count: 31), [UInt8](repeating: 1, count: 33), []] {
            #expect(throws: WebPushCryptoError.self) { try P256PrivateKey(rawScalar: bad) }
        }
        #expect((try? P256PrivateKey(rawScalar: orderMinusOne)) != nil)
        #expect((try? P256PrivateKey(rawScalar: [UInt8](repeating: 0, count: 31) + [1])) != nil)
    }

    @Test func invalidPublicKeys() throws {
        let valid = RFC6979.publicKey
        #expect(P256.isValidPublicKey(valid))
        // Wrong length, not on the curve, the compressed form of the same point, the hybrid
        // prefix, the all-zero point, an x-only key.
        var offCurve = valid
        offCurve[64] ^= 1
        let compressed = [valid[64] & 1 == 0 ? 0x02 : 0x03] + Array(valid[1...32])
        var hybrid = valid
        hybrid[0] = valid[64] & 1 == 0 ? 0x06 : 0x07
        for bad in [Array(valid.prefix(64)), valid + [0], offCurve, compressed, hybrid,
                    [0x04] + [UInt8](repeating: 0, count: 64), Array(valid[1...]), [], [0]] {
            #expect(!P256.isValidPublicKey(bad))
        }
        let key = try P256PrivateKey.generate()
        #expect(throws: WebPushCryptoError.self) { try key.sharedSecret(peerPublicKey: offCurve) }
        #expect(throws: WebPushCryptoError.self) { try key.sharedSecret(peerPublicKey: compressed) }
    }

    /// The GCM specification's test cases 2 and 3 (McGrew and Viega), AES-128, no associated data.
    @Test func aesGCMKnownAnswers() throws {
        #expect(try AES128GCM.seal(key: [UInt8](repeating: 0, count: 16), nonce: [UInt8](repeating: 0, count: 12),
                                   plaintext: [UInt8](repeating: 0, count: 16))
            == hex("0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf"))
        let key = hex("feffe9928665731c6d6a8f9467308308")
        let nonce = hex("cafebabefacedbaddecaf888")
        let plaintext = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
            + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255")
        let sealed = hex("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
            + "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985"
            + "4d5c2af327cd64a62cf35abd2ba6fab4")
        #expect(try AES128GCM.seal(key: key, nonce: nonce, plaintext: plaintext) == sealed)
        #expect(try AES128GCM.open(key: key, nonce: nonce, ciphertext: sealed) == plaintext)
    }

    @Test func aesGCMRefusesTamperingAndBadLengths() throws {
        let key = [UInt8](repeating: 9, count: 16)
        let nonce = [UInt8](repeating: 3, count: 12)
        let sealed = try AES128GCM.seal(key: key, nonce: nonce, plaintext: Array("hello".utf8))
        #expect(try AES128GCM.open(key: key, nonce: nonce, ciphertext: sealed) == Array("hello".utf8))
        for index in [0, sealed.count - 1] {
            var tampered = sealed
            tampered[index] ^= 0x40
            #expect {
                try AES128GCM.open(key: key, nonce: nonce, ciphertext: tampered)
            } throws: { ($0 as? WebPushCryptoError)?.code == .authenticationFailed }
        }
        #expect(try AES128GCM.open(key: key, nonce: nonce, ciphertext: AES128GCM.seal(key: key, nonce: nonce, plaintext: [])) == [])
        #expect(throws: WebPushCryptoError.self) { try AES128GCM.seal(key: Array(key.prefix(15)), nonce: nonce, plaintext: []) }
        #expect(throws: WebPushCryptoError.self) { try AES128GCM.seal(key: key, nonce: nonce + [0], plaintext: []) }
        #expect(throws: WebPushCryptoError.self) { try AES128GCM.open(key: key, nonce: nonce, ciphertext: [1, 2, 3]) }
    }

    /// One key shared by many threads at once: every signature verifies and every derivation
    /// agrees (OpenSSL 3 allows concurrent read-only use of an EVP_PKEY; this checks ours does).
    @Test func oneKeyFromManyThreadsAtOnce() async throws {
        let key = try P256PrivateKey.generate()
        let peer = try P256PrivateKey.generate()
        let expected = try peer.sharedSecret(peerPublicKey: key.publicKey)
        let failures = await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var failures = 0
                    for round in 0..<200 {
                        let message = Array("task \(task) round \(round)".utf8)
                        guard let signature = try? key.signES256(message),
                              P256.verifyES256(publicKey: key.publicKey, message: message, signature: signature),
                              (try? key.sharedSecret(peerPublicKey: peer.publicKey)) == expected
                        else {
                            failures += 1
                            continue
                        }
                    }
                    return failures
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0)
    }
}

/// The `openssl` command line (not our code) checks our signatures, and we check its.
@Suite(.enabled(if: OpenSSLCommand.available, "no openssl command on the PATH"))
struct P256OpenSSLCommandTests {
    @Test func opensslVerifiesOurSignature() throws {
        try withTemporaryDirectory { directory in
            let key = try P256PrivateKey.generate()
            let message = Array("a VAPID signing input".utf8)
            let signature = try key.signES256(message)
            // RFC 5480 SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 },
            // BIT STRING { the point } }.
            let spki = hex("3059301306072a8648ce3d020106082a8648ce3d030107034200") + key.publicKey
            try Data(spki).write(to: URL(fileURLWithPath: directory + "/public.der"))
            try Data(message).write(to: URL(fileURLWithPath: directory + "/message"))
            try Data(try #require(ECDSASignature.der(fromRaw: signature))).write(to: URL(fileURLWithPath: directory + "/signature.der"))
            #expect(try OpenSSLCommand.run(["dgst", "-sha256", "-verify", directory + "/public.der", "-keyform", "DER",
                                            "-signature", directory + "/signature.der", directory + "/message"]) == 0)
            // And it refuses a signature of something else.
            try Data(message + [0]).write(to: URL(fileURLWithPath: directory + "/message"))
            #expect(try OpenSSLCommand.run(["dgst", "-sha256", "-verify", directory + "/public.der", "-keyform", "DER",
                                            "-signature", directory + "/signature.der", directory + "/message"]) != 0)
        }
    }

    @Test func weVerifyOpenSSLsSignatureWithAKeyFromOurSEC1Encoding() throws {
        try withTemporaryDirectory { directory in
            let key = try P256PrivateKey.generate()
            let message = Array("signed by the openssl command".utf8)
            try Data(P256.sec1PrivateKeyDER(rawScalar: key.rawScalar)).write(to: URL(fileURLWithPath: directory + "/private.der"))
            try Data(message).write(to: URL(fileURLWithPath: directory + "/message"))
            #expect(try OpenSSLCommand.run(["dgst", "-sha256", "-sign", directory + "/private.der", "-keyform", "DER",
                                            "-out", directory + "/signature.der", directory + "/message"]) == 0)
            let der = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/signature.der")))
            let raw = try #require(ECDSASignature.raw(fromDER: der))
            #expect(P256.verifyES256(publicKey: key.publicKey, message: message, signature: raw))
        }
    }
}

enum OpenSSLCommand {
    static let available: Bool = (try? run(["version"])) == 0

    /// The exit status of `openssl arguments…`, its output discarded.
    static func run(_ arguments: [String]) throws -> Int32 {
        try ChildProcess("/usr/bin/env", ["openssl"] + arguments).waitUntilExit()
    }
}

/// A fresh empty directory, removed after `body`.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory.path + "/faros-webpush-" + Hex.encode((0..<8).map { _ in UInt8.random(in: 0...255) })
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}
