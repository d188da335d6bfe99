import ByteCoding
import Testing
@testable import WebPush

/// RFC 8291 Appendix A: the worked example's keys, salt and message body.
enum RFC8291 {
    static let plaintext = Array("When I grow up, I want to be a watermelon".utf8)
    static let applicationServerPrivateKey = b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")
    static let applicationServerPublicKey = b64("BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8")
    static let userAgentPrivateKey = b64("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94")
    static let userAgentPublicKey = b64("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4")
    static let salt = b64("DGv6ra1nlYgDCS1FRnbzlw")
    static let authSecret = b64("BTBZMqHH6r4Tts7J_aSIgg")
    static let body = b64(
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_"
            + "yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
    )
}

/// The browser's side of RFC 8291 §3.4 and RFC 8188, to read what `encrypt` wrote.
func decryptAsBrowser(_ body: [UInt8], userAgentKey: P256PrivateKey, authSecret: [UInt8]) throws -> [UInt8] {
    let salt = Array(body[0..<16])
    let recordSize = body[16..<20].reduce(0) { $0 << 8 | Int($1) }
    #expect(recordSize == 4096)
    let idLength = Int(body[20])
    #expect(idLength == 65)
    let serverPublicKey = Array(body[21..<(21 + idLength)])
    let ciphertext = Array(body[(21 + idLength)...])
    #expect(ciphertext.count <= recordSize)
    let ecdhSecret = try userAgentKey.sharedSecret(peerPublicKey: serverPublicKey)
    let keyInfo = Array("WebPush: info\0".utf8) + userAgentKey.publicKey + serverPublicKey
    let ikm = HKDF.deriveKey(inputKeyMaterial: ecdhSecret, salt: authSecret, info: keyInfo, length: 32)
    let prk = HKDF.extract(salt: salt, inputKeyMaterial: ikm)
    let cek = HKDF.expand(pseudorandomKey: prk, info: Array("Content-Encoding: aes128gcm\0".utf8), length: 16)
    let nonce = HKDF.expand(pseudorandomKey: prk, info: Array("Content-Encoding: nonce\0".utf8), length: 12)
    var record = try AES128GCM.open(key: cek, nonce: nonce, ciphertext: ciphertext)
    // Padding: zeros after the delimiter 0x02 of the last record.
    while record.last == 0 { record.removeLast() }
    #expect(record.last == 0x02)
    record.removeLast()
    return record
}

@Suite struct WebPushEncryptionTests {
    @Test func rfc8291AppendixAKeys() throws {
        #expect(try P256PrivateKey(rawScalar: RFC8291.applicationServerPrivateKey).publicKey == RFC8291.applicationServerPublicKey)
        #expect(try P256PrivateKey(rawScalar: RFC8291.userAgentPrivateKey).publicKey == RFC8291.userAgentPublicKey)
    }

    @Test func rfc8291AppendixABody() throws {
        let body = try WebPushEncryption.encrypt(
            plaintext: RFC8291.plaintext,
            userAgentPublicKey: RFC8291.userAgentPublicKey,
            authSecret: RFC8291.authSecret,
            salt: RFC8291.salt,
            serverKey: try P256PrivateKey(rawScalar: RFC8291.applicationServerPrivateKey)
        )
        #expect(body == RFC8291.body)
        let browser = try P256PrivateKey(rawScalar: RFC8291.userAgentPrivateKey)
        #expect(try decryptAsBrowser(RFC8291.body, userAgentKey: browser, authSecret: RFC8291.authSecret) == RFC8291.plaintext)
    }

    @Test func freshKeyAndSaltEveryTime() throws {
        let browser = try P256PrivateKey.generate()
        let auth = [UInt8](repeating: 0x11, count: 16)
        let payload = Array(#"{"title":"Dentist","body":"Due now"}"#.utf8)
        let a = try WebPushEncryption.encrypt(plaintext: payload, userAgentPublicKey: browser.publicKey, authSecret: auth)
        let b = try WebPushEncryption.encrypt(plaintext: payload, userAgentPublicKey: browser.publicKey, authSecret: auth)
        #expect(a[0..<16] != b[0..<16])
        #expect(a[21..<86] != b[21..<86])
        #expect(a.count == 86 + payload.count + 1 + 16)
        #expect(try decryptAsBrowser(a, userAgentKey: browser, authSecret: auth) == payload)
        #expect(try decryptAsBrowser(b, userAgentKey: browser, authSecret: auth) == payload)
        // Another browser's auth secret does not open it.
        #expect(throws: WebPushCryptoError.self) {
            try decryptAsBrowser(a, userAgentKey: browser, authSecret: [UInt8](repeating: 0x12, count: 16))
        }
    }

    @Test func largestPlaintextFillsA4096ByteBody() throws {
        let browser = try P256PrivateKey.generate()
        let auth = [UInt8](repeating: 7, count: 16)
        #expect(WebPushEncryption.maximumPlaintextLength == 3993)
        let largest = [UInt8](repeating: 0x41, count: 3993)
        let body = try WebPushEncryption.encrypt(plaintext: largest, userAgentPublicKey: browser.publicKey, authSecret: auth)
        #expect(body.count == 4096)
        #expect(try decryptAsBrowser(body, userAgentKey: browser, authSecret: auth) == largest)
        #expect {
            try WebPushEncryption.encrypt(plaintext: largest + [0x41], userAgentPublicKey: browser.publicKey, authSecret: auth)
        } throws: { ($0 as? WebPushCryptoError)?.code == .invalidInput }
        // An empty message is still one record (the delimiter alone).
        let empty = try WebPushEncryption.encrypt(plaintext: [], userAgentPublicKey: browser.publicKey, authSecret: auth)
        #expect(try decryptAsBrowser(empty, userAgentKey: browser, authSecret: auth) == [])
    }

    @Test func refusesBadSubscriptionKeys() throws {
        let browser = try P256PrivateKey.generate()
        let auth = [UInt8](repeating: 7, count: 16)
        var offCurve = browser.publicKey
        offCurve[40] ^= 0x01
        let compressed = [0x02 | (browser.publicKey[64] & 1)] + Array(browser.publicKey[1...32])
        for bad in [offCurve, compressed, Array(browser.publicKey.prefix(64)), []] {
            #expect {
                try WebPushEncryption.encrypt(plaintext: [1], userAgentPublicKey: bad, authSecret: auth)
            } throws: { ($0 as? WebPushCryptoError)?.code == .invalidPublicKey }
        }
        for badAuth in [[UInt8](repeating: 7, count: 15), [UInt8](repeating: 7, count: 17), []] {
            #expect {
                try WebPushEncryption.encrypt(plaintext: [1], userAgentPublicKey: browser.publicKey, authSecret: badAuth)
            } throws: { ($0 as? WebPushCryptoError)?.code == .invalidInput }
        }
        #expect(throws: WebPushCryptoError.self) {
            try WebPushEncryption.encrypt(plaintext: [1], userAgentPublicKey: browser.publicKey, authSecret: auth, salt: [1, 2])
        }
    }
}
