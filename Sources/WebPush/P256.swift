import COpenSSL

// The module's only door to OpenSSL's libcrypto: P-256 keys, ECDH, ES256 and AES-128-GCM.
// Every libcrypto call and every pointer handed to one stays in this file (three small types
// rather than one per file, so that the C surface is read in one place); callers see arrays.
//
// Only OpenSSL 3 APIs that are not deprecated: keys are EVP_PKEYs made by the DER decoders or the
// key generator, never EC_KEY. Each operation makes and frees its own context, so calls share
// nothing but the read-only key and are safe from any thread at once.

/// A P-256 private key: the VAPID signing key, or the ephemeral ECDH key of one message.
///
/// `@unchecked Sendable` because it holds an `EVP_PKEY` pointer. That is safe because the key is
/// never modified after `init` (no setter is ever called on it) and OpenSSL 3 allows an
/// `EVP_PKEY` to be used read-only from many threads at once: every signature or derivation here
/// makes its own `EVP_MD_CTX`/`EVP_PKEY_CTX`, which is the mutable state, and frees it before
/// returning. The key is freed in `deinit`, when no call can be using it.
public final class P256PrivateKey: @unchecked Sendable {
    private let key: OpaquePointer
    /// The public point, uncompressed: `0x04 ‖ x ‖ y`, 65 bytes.
    public let publicKey: [UInt8]

    /// Takes ownership of `key` (freed on every path).
    private init(taking key: OpaquePointer) throws(WebPushCryptoError) {
        self.key = key
        var point = [UInt8](repeating: 0, count: P256.publicKeyLength)
        var length = 0
        let status = point.withUnsafeMutableBufferPointer {
            EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, $0.baseAddress, $0.count, &length)
        }
        guard status == 1, length == P256.publicKeyLength, point[0] == 0x04 else {
            // deinit does not run for a class whose init throws before all stored properties are set.
            EVP_PKEY_free(key)
            throw LibCrypto.failure("EVP_PKEY_get_octet_string_param(encoded-pub-key)")
        }
        self.publicKey = point
    }

    deinit { EVP_PKEY_free(self.key) }

    /// A fresh random key from OpenSSL's generator.
    public static func generate() throws(WebPushCryptoError) -> P256PrivateKey {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else {
            throw LibCrypto.failure("EVP_PKEY_CTX_new_from_name")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_keygen_init(context) == 1,
              EVP_PKEY_CTX_set_group_name(context, P256.groupName) == 1,
              EVP_PKEY_generate(context, &key) == 1,
              let key
        else {
            throw LibCrypto.failure("EVP_PKEY_generate(P-256)")
        }
        return try P256PrivateKey(taking: key)
    }

    /// The key whose secret scalar is `rawScalar`: 32 bytes, big-endian, in [1, n-1] (the form
    /// JWK's `d` and the `web-push` tool's private key use). OpenSSL computes the public point.
    public convenience init(rawScalar: [UInt8]) throws(WebPushCryptoError) {
        guard P256.isValidScalar(rawScalar) else {
            throw WebPushCryptoError(.invalidPrivateKey, "a P-256 private key is a 32-byte scalar between 1 and the group order - 1")
        }
        // RFC 5915 ECPrivateKey without the optional public key: OpenSSL derives it on decoding.
        let der = P256.sec1PrivateKeyDER(rawScalar: rawScalar)
        let decoded = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor = buffer.baseAddress
            return d2i_PrivateKey(EVP_PKEY_EC, nil, &cursor, buffer.count)
        }
        guard let decoded else { throw LibCrypto.failure("d2i_PrivateKey(SEC1 P-256)") }
        try self.init(taking: decoded)
    }

    /// The secret scalar, 32 bytes big-endian: what ``init(rawScalar:)`` takes back.
    public var rawScalar: [UInt8] {
        var number: OpaquePointer? = nil
        guard EVP_PKEY_get_bn_param(self.key, OSSL_PKEY_PARAM_PRIV_KEY, &number) == 1, let number else {
            // Reading a parameter of a complete key fails only when libcrypto cannot allocate.
            ERR_clear_error()
            fatalError("EVP_PKEY_get_bn_param(priv) failed inside OpenSSL")
        }
        defer { BN_clear_free(number) }
        var scalar = [UInt8](repeating: 0, count: P256.scalarLength)
        let written = scalar.withUnsafeMutableBufferPointer { BN_bn2binpad(number, $0.baseAddress, Int32($0.count)) }
        precondition(written == P256.scalarLength, "a P-256 scalar is 32 bytes")
        return scalar
    }

    /// The ECDH shared secret with `peerPublicKey` (65 bytes, uncompressed): the x coordinate of
    /// the product point, 32 bytes (RFC 8291 §3.1's `ecdh_secret`).
    public func sharedSecret(peerPublicKey: [UInt8]) throws(WebPushCryptoError) -> [UInt8] {
        let peer = try LibCrypto.decodePublicKey(peerPublicKey)
        defer { EVP_PKEY_free(peer) }
        guard let context = EVP_PKEY_CTX_new_from_pkey(nil, self.key, nil) else {
            throw LibCrypto.failure("EVP_PKEY_CTX_new_from_pkey")
        }
        defer { EVP_PKEY_CTX_free(context) }
        // validate_peer = 0: the decoder has already checked that the point is on the curve, and
        // P-256's cofactor is 1, so that is the whole check; OpenSSL's own would multiply the
        // point by the group order, a second scalar multiplication for nothing.
        guard EVP_PKEY_derive_init(context) == 1, EVP_PKEY_derive_set_peer_ex(context, peer, 0) == 1 else {
            throw LibCrypto.failure("EVP_PKEY_derive_init/set_peer")
        }
        var secret = [UInt8](repeating: 0, count: P256.scalarLength)
        var length = secret.count
        let status = secret.withUnsafeMutableBufferPointer { EVP_PKEY_derive(context, $0.baseAddress, &length) }
        guard status == 1, length == P256.scalarLength else { throw LibCrypto.failure("EVP_PKEY_derive") }
        return secret
    }

    /// The ES256 signature of `message` (ECDSA over SHA-256, RFC 7518 §3.4): `r ‖ s`, 32 bytes
    /// each, as JWS wants it (OpenSSL's DER form converted by ``ECDSASignature``).
    public func signES256(_ message: [UInt8]) throws(WebPushCryptoError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw LibCrypto.failure("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, self.key) == 1 else {
            throw LibCrypto.failure("EVP_DigestSignInit")
        }
        var der = [UInt8](repeating: 0, count: ECDSASignature.maximumDERLength)
        var length = der.count
        let status = der.withUnsafeMutableBufferPointer { output in
            message.withUnsafeBufferPointer { input in
                EVP_DigestSign(context, output.baseAddress, &length, input.baseAddress, input.count)
            }
        }
        guard status == 1, let raw = ECDSASignature.raw(fromDER: der[..<length]) else {
            throw LibCrypto.failure("EVP_DigestSign")
        }
        return raw
    }
}

/// P-256 (secp256r1, prime256v1) constants and the checks that need no private key.
public enum P256 {
    /// An uncompressed point: `0x04 ‖ x ‖ y`.
    public static let publicKeyLength = 65
    /// A scalar or a coordinate.
    public static let scalarLength = 32
    /// OpenSSL's name for the curve.
    static let groupName = "P-256"

    /// The group order n, big-endian (SEC 2 §2.4.2).
    static let order: [UInt8] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
    ]

    /// Whether `bytes` is an uncompressed P-256 point on the curve (65 bytes, `0x04 ‖ x ‖ y`):
    /// what a browser's `p256dh` must be. Compressed (`0x02`/`0x03`) and hybrid forms are refused.
    public static func isValidPublicKey(_ bytes: [UInt8]) -> Bool {
        guard let key = try? LibCrypto.decodePublicKey(bytes) else { return false }
        EVP_PKEY_free(key)
        return true
    }

    /// Whether `signature` (raw `r ‖ s`, 64 bytes) is a valid ES256 signature of `message` by
    /// `publicKey` (65 bytes, uncompressed).
    public static func verifyES256(publicKey: [UInt8], message: [UInt8], signature: [UInt8]) -> Bool {
        guard let der = ECDSASignature.der(fromRaw: signature),
              let key = try? LibCrypto.decodePublicKey(publicKey)
        else { return false }
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key) == 1 else {
            ERR_clear_error()
            return false
        }
        let status = der.withUnsafeBufferPointer { signatureBuffer in
            message.withUnsafeBufferPointer { messageBuffer in
                EVP_DigestVerify(context, signatureBuffer.baseAddress, signatureBuffer.count, messageBuffer.baseAddress, messageBuffer.count)
            }
        }
        // A bad signature leaves an error on the thread's queue; it must not surface in a later,
        // unrelated OpenSSL call on this thread (curl's TLS reads the same queue).
        ERR_clear_error()
        return status == 1
    }

    /// Whether `scalar` is 32 bytes in [1, n-1], compared in constant time per byte.
    static func isValidScalar(_ scalar: [UInt8]) -> Bool {
        guard scalar.count == scalarLength else { return false }
        var nonZero: UInt8 = 0
        // Big-endian comparison with the order without early exit: borrow of scalar - n.
        var borrow = 0
        for index in stride(from: scalarLength - 1, through: 0, by: -1) {
            nonZero |= scalar[index]
            let difference = Int(scalar[index]) - Int(order[index]) - borrow
            borrow = difference < 0 ? 1 : 0
        }
        return nonZero != 0 && borrow == 1
    }

    /// RFC 5915 ECPrivateKey for `rawScalar` on P-256, without the optional public key:
    /// `SEQUENCE { INTEGER 1, OCTET STRING d, [0] OID prime256v1 }`.
    static func sec1PrivateKeyDER(rawScalar: [UInt8]) -> [UInt8] {
        precondition(rawScalar.count == scalarLength)
        return [0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20] + rawScalar
            + [0xA0, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
    }
}

/// AES-128-GCM with a 96-bit nonce and a 128-bit tag appended to the ciphertext, no associated
/// data: the record cipher of RFC 8188.
public enum AES128GCM {
    public static let keyLength = 16
    public static let nonceLength = 12
    public static let tagLength = 16

    /// `ciphertext ‖ tag` of `plaintext`.
    public static func seal(key: [UInt8], nonce: [UInt8], plaintext: [UInt8]) throws(WebPushCryptoError) -> [UInt8] {
        try checkLengths(key: key, nonce: nonce)
        guard let context = EVP_CIPHER_CTX_new() else { throw LibCrypto.failure("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(context) }
        var output = [UInt8](repeating: 0, count: plaintext.count + tagLength)
        let sealed = output.withUnsafeMutableBufferPointer { out -> Bool in
            key.withUnsafeBufferPointer { keyBuffer in
                nonce.withUnsafeBufferPointer { nonceBuffer in
                    plaintext.withUnsafeBufferPointer { input in
                        guard EVP_EncryptInit_ex(context, LibCrypto.aes128GCM, nil, keyBuffer.baseAddress, nonceBuffer.baseAddress) == 1
                        else { return false }
                        var written: Int32 = 0
                        if input.count > 0 {
                            guard EVP_EncryptUpdate(context, out.baseAddress, &written, input.baseAddress, Int32(input.count)) == 1,
                                  Int(written) == input.count
                            else { return false }
                        }
                        var final: Int32 = 0
                        guard EVP_EncryptFinal_ex(context, out.baseAddress! + input.count, &final) == 1, final == 0 else { return false }
                        return EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(tagLength), out.baseAddress! + input.count) == 1
                    }
                }
            }
        }
        guard sealed else { throw LibCrypto.failure("AES-128-GCM encryption") }
        return output
    }

    /// The plaintext of `ciphertext ‖ tag`; throws ``WebPushCryptoError/Code-swift.struct/authenticationFailed``
    /// when the tag does not match.
    public static func open(key: [UInt8], nonce: [UInt8], ciphertext: [UInt8]) throws(WebPushCryptoError) -> [UInt8] {
        try checkLengths(key: key, nonce: nonce)
        guard ciphertext.count >= tagLength else {
            throw WebPushCryptoError(.invalidInput, "an AES-128-GCM ciphertext ends with a 16-byte tag")
        }
        guard let context = EVP_CIPHER_CTX_new() else { throw LibCrypto.failure("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(context) }
        let bodyLength = ciphertext.count - tagLength
        var output = [UInt8](repeating: 0, count: bodyLength)
        var tag = Array(ciphertext[bodyLength...])
        enum Outcome { case opened, forged, failed }
        let outcome = output.withUnsafeMutableBufferPointer { out -> Outcome in
            key.withUnsafeBufferPointer { keyBuffer in
                nonce.withUnsafeBufferPointer { nonceBuffer in
                    ciphertext.withUnsafeBufferPointer { input in
                        tag.withUnsafeMutableBufferPointer { tagBuffer in
                            guard EVP_DecryptInit_ex(context, LibCrypto.aes128GCM, nil, keyBuffer.baseAddress, nonceBuffer.baseAddress) == 1
                            else { return .failed }
                            var written: Int32 = 0
                            if bodyLength > 0 {
                                guard EVP_DecryptUpdate(context, out.baseAddress, &written, input.baseAddress, Int32(bodyLength)) == 1,
                                      Int(written) == bodyLength
                                else { return .failed }
                            }
                            guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tagLength), tagBuffer.baseAddress) == 1
                            else { return .failed }
                            var final: Int32 = 0
                            var scratch: UInt8 = 0
                            return EVP_DecryptFinal_ex(context, &scratch, &final) == 1 ? .opened : .forged
                        }
                    }
                }
            }
        }
        switch outcome {
        case .opened:
            return output
        case .forged:
            ERR_clear_error()
            throw WebPushCryptoError(.authenticationFailed, "the AES-128-GCM tag does not match")
        case .failed:
            throw LibCrypto.failure("AES-128-GCM decryption")
        }
    }

    private static func checkLengths(key: [UInt8], nonce: [UInt8]) throws(WebPushCryptoError) {
        guard key.count == keyLength, nonce.count == nonceLength else {
            throw WebPushCryptoError(.invalidInput, "AES-128-GCM takes a 16-byte key and a 12-byte nonce")
        }
    }
}

/// What the three types above share.
private enum LibCrypto {
    /// AES-128-GCM fetched once from the default provider: `EVP_aes_128_gcm()` would fetch it
    /// again inside every `EVP_EncryptInit_ex`, under a lock all threads share.
    ///
    /// `nonisolated(unsafe)` because a raw pointer is not `Sendable`. It is safe: it is written
    /// once by Swift's thread-safe lazy initialization of statics and only read afterwards, and a
    /// fetched `EVP_CIPHER` is immutable and meant to be shared between threads (it is never freed).
    nonisolated(unsafe) static let aes128GCM: OpaquePointer? = EVP_CIPHER_fetch(nil, "AES-128-GCM", nil)

    /// The `EVP_PKEY` for an uncompressed P-256 point, which the caller frees.
    ///
    /// Built from parameters (`EVP_PKEY_fromdata`: the group's name and the point) rather than by
    /// decoding a SubjectPublicKeyInfo with `d2i_PUBKEY`: OpenSSL 3.0's decoder framework costs
    /// about 140 µs per key, twice the ECDH itself, and every message decodes one. The import
    /// checks that the point lies on the curve (`EC_POINT_oct2point`); the length and the `0x04`
    /// prefix are checked here first, which refuses the compressed and hybrid forms.
    static func decodePublicKey(_ point: [UInt8]) throws(WebPushCryptoError) -> OpaquePointer {
        guard point.count == P256.publicKeyLength, point[0] == 0x04 else {
            throw WebPushCryptoError(.invalidPublicKey, "a P-256 public key is 65 bytes starting with 0x04 (uncompressed)")
        }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else {
            throw failure("EVP_PKEY_CTX_new_from_name")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_fromdata_init(context) == 1 else { throw failure("EVP_PKEY_fromdata_init") }
        var key: OpaquePointer? = nil
        // OSSL_PARAM keeps the pointers it is given, so every string and buffer stays pinned
        // until EVP_PKEY_fromdata returns.
        let status = OSSL_PKEY_PARAM_GROUP_NAME.withCString { groupParameter in
            OSSL_PKEY_PARAM_PUB_KEY.withCString { pointParameter in
                P256.groupName.withCString { group in
                    point.withUnsafeBytes { bytes in
                        var parameters = [
                            OSSL_PARAM_construct_utf8_string(groupParameter, UnsafeMutablePointer(mutating: group), 0),
                            OSSL_PARAM_construct_octet_string(pointParameter, UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count),
                            OSSL_PARAM_construct_end(),
                        ]
                        return EVP_PKEY_fromdata(context, &key, publicKeySelection, &parameters)
                    }
                }
            }
        }
        guard status == 1, let key else {
            ERR_clear_error()
            throw WebPushCryptoError(.invalidPublicKey, "the point is not on the P-256 curve")
        }
        return key
    }

    /// `EVP_PKEY_PUBLIC_KEY`, which Swift cannot import (a macro over macros): the public key
    /// and every kind of domain parameter.
    private static let publicKeySelection = OSSL_KEYMGMT_SELECT_PUBLIC_KEY | OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS
        | OSSL_KEYMGMT_SELECT_OTHER_PARAMETERS

    /// The error for a failed libcrypto call, with OpenSSL's first queued reason; empties the
    /// thread's error queue.
    static func failure(_ function: String) -> WebPushCryptoError {
        let code = ERR_get_error()
        var reason = ""
        if code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            reason = ": " + buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        }
        ERR_clear_error()
        return WebPushCryptoError(.libraryFailure, function + " failed" + reason)
    }
}
