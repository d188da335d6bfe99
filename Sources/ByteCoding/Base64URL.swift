/// Base64url without padding (RFC 4648 §5, as JWS uses it in RFC 7515 §2): tokens, session and
/// message ids made of random bytes.
///
/// Decoding is strict, so each byte string has exactly one accepted spelling: no padding, no
/// whitespace, no characters outside `A–Z a–z 0–9 - _`, no impossible length, and the unused low
/// bits of the last character must be zero. A lenient decoder would let a token be re-spelled
/// without changing its meaning, which turns "the same token" into a fuzzy notion.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// The 6-bit value of each alphabet character; 0xFF for every other byte.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = UInt8(index) }
        return table
    }()

    /// The unpadded base64url text of `bytes`.
    public static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        Base64.encode(bytes, alphabet: alphabet, padded: false)
    }

    /// The bytes spelled by `text`, or nil when it is not canonical unpadded base64url.
    public static func decode<Text: Collection<UInt8>>(_ text: Text) -> [UInt8]? {
        // A lone trailing character carries only 6 bits: no byte ends there.
        guard text.count % 4 != 1 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for character in text {
            let value = values[Int(character)]
            guard value != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        // Leftover bits (2 or 4) are padding inside the last character and must be zero.
        guard accumulator == 0 else { return nil }
        return out
    }
}
