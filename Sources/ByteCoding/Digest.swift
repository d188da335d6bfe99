import COpenSSL

/// SHA-1, SHA-256 and HMAC-SHA256 through OpenSSL's libcrypto: the one file of the project that
/// hands OpenSSL pointers for hashing; callers see arrays.
///
/// All three are one-shot functions without shared state, so they are safe from any thread.
public enum Digest {
    /// The length of a SHA-256 digest and of an HMAC-SHA256 tag.
    public static let sha256Length = 32

    /// The length of a SHA-1 digest.
    public static let sha1Length = 20

    /// The SHA-256 digest of `bytes` (FIPS 180-4).
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        evpDigest(bytes, EVP_sha256(), length: sha256Length)
    }

    /// The SHA-1 digest of `bytes`, for the WebSocket handshake's `Sec-WebSocket-Accept`
    /// (RFC 6455 §4.2.2) only: SHA-1 is what that RFC prescribes, and nothing there needs
    /// collision resistance.
    public static func sha1(_ bytes: [UInt8]) -> [UInt8] {
        evpDigest(bytes, EVP_sha1(), length: sha1Length)
    }

    /// The HMAC-SHA256 tag of `message` under `key` (RFC 2104).
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var tag = [UInt8](repeating: 0, count: sha256Length)
        var tagLength: UInt32 = 0
        let result = key.withUnsafeBufferPointer { keyBuffer in
            message.withUnsafeBufferPointer { messageBuffer in
                tag.withUnsafeMutableBufferPointer { tagBuffer in
                    HMAC(
                        EVP_sha256(),
                        keyBuffer.baseAddress, Int32(keyBuffer.count),
                        messageBuffer.baseAddress, messageBuffer.count,
                        tagBuffer.baseAddress, &tagLength
                    )
                }
            }
        }
        // HMAC with a built-in digest fails only when libcrypto cannot allocate; there is no tag
        // to return and no safe fallback.
        guard result != nil, Int(tagLength) == sha256Length else {
            fatalError("HMAC-SHA256 failed inside OpenSSL")
        }
        return tag
    }

    private static func evpDigest(_ bytes: [UInt8], _ type: OpaquePointer?, length: Int) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: length)
        var written: UInt32 = 0
        let status = bytes.withUnsafeBytes { input in
            digest.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &written, type, nil)
            }
        }
        // A built-in digest fails only when libcrypto cannot allocate its context.
        precondition(status == 1 && Int(written) == length, "EVP_Digest failed inside OpenSSL")
        return digest
    }
}
