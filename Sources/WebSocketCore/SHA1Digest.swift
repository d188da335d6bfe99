import COpenSSL

/// SHA-1 through OpenSSL, for the handshake's `Sec-WebSocket-Accept` (RFC 6455 §4.2.2).
///
/// SHA-1 is what the RFC prescribes there; it is not used for anything that needs collision
/// resistance. The OpenSSL pointers stay in this file.
enum SHA1Digest {
    /// The 20-byte SHA-1 digest of `bytes`.
    static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 20)
        var length: UInt32 = 0
        let status = bytes.withUnsafeBytes { input in
            digest.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, EVP_sha1(), nil)
            }
        }
        precondition(status == 1 && length == 20, "EVP_Digest(SHA-1) failed")
        return digest
    }
}
