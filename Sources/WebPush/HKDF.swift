import ByteCoding

/// HKDF with HMAC-SHA256 (RFC 5869): the key schedule of RFC 8291 and RFC 8188.
public enum HKDF {
    /// HMAC-SHA256's output length, the largest output one expand block gives.
    public static let hashLength = Digest.sha256Length

    /// HKDF-Extract: the pseudorandom key `HMAC-SHA256(salt, ikm)` (RFC 5869 §2.2). An empty salt
    /// stands for 32 zero bytes, which HMAC makes equal anyway.
    public static func extract(salt: [UInt8], inputKeyMaterial: [UInt8]) -> [UInt8] {
        Digest.hmacSHA256(key: salt, message: inputKeyMaterial)
    }

    /// HKDF-Expand: `length` bytes of output keying material from `pseudorandomKey` and `info`
    /// (RFC 5869 §2.3). `length` must be at most 255 × 32 bytes.
    public static func expand(pseudorandomKey: [UInt8], info: [UInt8], length: Int) -> [UInt8] {
        precondition(length >= 0 && length <= 255 * hashLength, "HKDF-Expand gives at most 8160 bytes")
        var output = [UInt8]()
        output.reserveCapacity(length)
        var previous = [UInt8]()
        var counter: UInt8 = 1
        while output.count < length {
            previous = Digest.hmacSHA256(key: pseudorandomKey, message: previous + info + [counter])
            output.append(contentsOf: previous.prefix(length - output.count))
            counter &+= 1
        }
        return output
    }

    /// Extract then expand.
    public static func deriveKey(inputKeyMaterial: [UInt8], salt: [UInt8], info: [UInt8], length: Int) -> [UInt8] {
        expand(pseudorandomKey: extract(salt: salt, inputKeyMaterial: inputKeyMaterial), info: info, length: length)
    }
}
