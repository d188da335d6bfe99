import COpenSSL

/// The module's only door to OpenSSL's libcrypto: randomness and a constant-time comparison
/// (digests and MACs are ByteCoding's `Digest`).
///
/// Every libcrypto call and every pointer handed to one stays in this file; callers see arrays.
/// Both are one-shot functions without shared state, so they are safe from any thread.
enum OpenSSLCrypto {
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
