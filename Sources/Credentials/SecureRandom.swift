/// Cryptographically secure random bytes for salts, secrets and tokens.
public enum SecureRandom {
    /// `count` bytes from OpenSSL's CSPRNG (`RAND_bytes`).
    ///
    /// A generator failure stops the process rather than throwing: it means the OS could not seed
    /// OpenSSL, nothing a request can recover from, and any bytes returned instead would be
    /// predictable salts, secrets or reset tokens.
    public static func bytes(_ count: Int) -> [UInt8] {
        OpenSSLCrypto.randomBytes(count)
    }
}
