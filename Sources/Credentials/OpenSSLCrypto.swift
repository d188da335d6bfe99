import COpenSSL

/// The module's only door to OpenSSL's libcrypto: randomness, SHA-256, HMAC-SHA256 and a
/// constant-time comparison.
///
/// Every libcrypto call and every pointer handed to one stays in this file; callers see arrays.
/// All four are one-shot functions without shared state, so they are safe from any thread.
enum OpenSSLCrypto {
    /// The length of a SHA-256 digest and of an HMAC-SHA256 tag.
    static let sha256Length = 32

    /// `count` bytes from OpenSSL's CSPRNG; stops the process if the generator fails.
    ///
    /// A failing `RAND_bytes` means the generator could not seed itself from the OS. Returning
    /// anything would hand out predictable salts, secrets or reset tokens, and every caller would
    /// have to remember to handle an error that no request can recover from, so this traps.
    static func randomBytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0 && count <= Int(Int32.max), "random byte count out of range")
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        let status = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        guard status == 1 else {
            fatalError("RAND_bytes failed: OpenSSL's random generator is not seeded; refusing to continue")
        }
        return bytes
    }

    /// The SHA-256 digest of `bytes`.
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: sha256Length)
        bytes.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { output in
                _ = SHA256(input.baseAddress, input.count, output.baseAddress)
            }
        }
        return digest
    }

    /// The HMAC-SHA256 tag of `message` under `key`.
    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
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

    /// Whether `a` and `b` hold the same bytes, in time that depends only on their lengths.
    ///
    /// Lengths are compared first and openly: every value compared here (MAC tags, hash strings)
    /// has a public, fixed length, so only the contents must not leak through timing.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard !a.isEmpty else { return true }
        return a.withUnsafeBufferPointer { aBuffer in
            b.withUnsafeBufferPointer { bBuffer in
                CRYPTO_memcmp(aBuffer.baseAddress, bBuffer.baseAddress, aBuffer.count) == 0
            }
        }
    }
}
