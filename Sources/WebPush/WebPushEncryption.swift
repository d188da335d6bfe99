import Credentials

/// The body of an encrypted push message: RFC 8291 (Web Push's key derivation from the
/// browser's `p256dh` and `auth`) over RFC 8188's `aes128gcm` content coding, as one record.
///
/// The layout is the coding's header, `salt (16) ‖ rs (uint32, 4096) ‖ idlen (1, = 65) ‖ keyid`
/// where keyid is the application server's ephemeral public key, then the one record:
/// `AES-128-GCM(plaintext ‖ 0x02)` with its tag. Every message gets a fresh key pair and salt
/// unless a test passes its own.
public enum WebPushEncryption {
    /// The record size written in the header: RFC 8291 §4 has push services accept a body of
    /// 4096 bytes, and a single record of at most that size never needs a second one.
    public static let recordSize = 4096
    /// The salt's length (RFC 8188 §2.1).
    public static let saltLength = 16
    /// The browser's authentication secret's length (RFC 8291 §3.2).
    public static let authSecretLength = 16
    /// Header bytes: salt, rs, idlen and the 65-byte public key.
    public static let headerLength = saltLength + 4 + 1 + P256.publicKeyLength
    /// The longest plaintext sent: a 4096-byte body less the 86-byte header, the 16-byte tag and
    /// the 1-byte padding delimiter (RFC 8291 §4).
    public static let maximumPlaintextLength = recordSize - headerLength - AES128GCM.tagLength - 1

    /// The encrypted body for the browser whose keys are `userAgentPublicKey` (`p256dh`, 65
    /// bytes) and `authSecret` (`auth`, 16 bytes).
    ///
    /// - Parameters:
    ///   - salt: 16 bytes; a fresh random salt unless given (tests pass RFC 8291's).
    ///   - serverKey: the ephemeral key pair; a fresh one unless given (tests pass RFC 8291's).
    /// - Throws: ``WebPushCryptoError`` with `.invalidPublicKey` for a `p256dh` that is not an
    ///   uncompressed point on the curve, `.invalidInput` for an `auth` or salt of the wrong
    ///   length or a plaintext longer than ``maximumPlaintextLength``.
    public static func encrypt(
        plaintext: [UInt8],
        userAgentPublicKey: [UInt8],
        authSecret: [UInt8],
        salt: [UInt8]? = nil,
        serverKey: P256PrivateKey? = nil
    ) throws(WebPushCryptoError) -> [UInt8] {
        guard plaintext.count <= maximumPlaintextLength else {
            throw WebPushCryptoError(
                .invalidInput,
                "the payload is \(plaintext.count) bytes; one Web Push record holds at most \(maximumPlaintextLength)"
            )
        }
        guard authSecret.count == authSecretLength else {
            throw WebPushCryptoError(.invalidInput, "the authentication secret is \(authSecret.count) bytes, not 16")
        }
        let salt = salt ?? SecureRandom.bytes(saltLength)
        guard salt.count == saltLength else {
            throw WebPushCryptoError(.invalidInput, "the salt is \(salt.count) bytes, not 16")
        }
        let ephemeralKey: P256PrivateKey
        if let serverKey { ephemeralKey = serverKey } else { ephemeralKey = try P256PrivateKey.generate() }
        let serverPublicKey = ephemeralKey.publicKey

        // RFC 8291 §3.3 and §3.4.
        let ecdhSecret = try ephemeralKey.sharedSecret(peerPublicKey: userAgentPublicKey)
        let keyInfo = Array("WebPush: info".utf8) + [0] + userAgentPublicKey + serverPublicKey
        let inputKeyMaterial = HKDF.deriveKey(inputKeyMaterial: ecdhSecret, salt: authSecret, info: keyInfo, length: 32)
        // RFC 8188 §2.2 and §2.3; the nonce of record 0 is the derived nonce itself (XOR 0).
        let pseudorandomKey = HKDF.extract(salt: salt, inputKeyMaterial: inputKeyMaterial)
        let contentKey = HKDF.expand(pseudorandomKey: pseudorandomKey, info: contentKeyInfo, length: AES128GCM.keyLength)
        let nonce = HKDF.expand(pseudorandomKey: pseudorandomKey, info: nonceInfo, length: AES128GCM.nonceLength)

        // The last (and only) record's delimiter is 0x02 (RFC 8188 §2); no further padding.
        var record = plaintext
        record.append(0x02)
        let ciphertext = try AES128GCM.seal(key: contentKey, nonce: nonce, plaintext: record)

        var body = [UInt8]()
        body.reserveCapacity(headerLength + ciphertext.count)
        body.append(contentsOf: salt)
        body.append(contentsOf: [
            UInt8(truncatingIfNeeded: recordSize >> 24), UInt8(truncatingIfNeeded: recordSize >> 16),
            UInt8(truncatingIfNeeded: recordSize >> 8), UInt8(truncatingIfNeeded: recordSize),
        ])
        body.append(UInt8(P256.publicKeyLength))
        body.append(contentsOf: serverPublicKey)
        body.append(contentsOf: ciphertext)
        return body
    }

    private static let contentKeyInfo = Array("Content-Encoding: aes128gcm".utf8) + [0]
    private static let nonceInfo = Array("Content-Encoding: nonce".utf8) + [0]
}
