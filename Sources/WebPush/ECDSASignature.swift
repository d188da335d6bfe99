/// The two spellings of a P-256 ECDSA signature: OpenSSL's DER `SEQUENCE { INTEGER r, INTEGER s }`
/// (SEC 1 / RFC 3279) and JWS's raw `r ‖ s` with each number left-padded to 32 bytes
/// (RFC 7518 §3.4).
///
/// Plain byte work with no libcrypto, so that the conversion is tested on its own.
enum ECDSASignature {
    /// Raw `r ‖ s`.
    static let rawLength = 2 * P256.scalarLength
    /// `30 44` + two `02 21 00 <32 bytes>`: both numbers with their high bit set.
    static let maximumDERLength = 72

    /// `r ‖ s` from strict DER, or nil: short-form lengths only (a P-256 signature is under 128
    /// bytes), minimal positive integers of at most 32 significant bytes, nothing after the sequence.
    static func raw<Bytes: Collection<UInt8>>(fromDER der: Bytes) -> [UInt8]? {
        let bytes = Array(der)
        guard bytes.count >= 2, bytes[0] == 0x30, Int(bytes[1]) == bytes.count - 2, bytes[1] < 0x80 else { return nil }
        var index = 2
        var raw = [UInt8]()
        raw.reserveCapacity(rawLength)
        for _ in 0..<2 {
            guard index + 2 <= bytes.count, bytes[index] == 0x02 else { return nil }
            let length = Int(bytes[index + 1])
            index += 2
            guard length >= 1, length < 0x80, index + length <= bytes.count else { return nil }
            var number = bytes[index..<(index + length)]
            index += length
            // Negative numbers are not signatures; a leading zero is allowed only before a byte
            // with its high bit set (DER's minimal two's complement).
            guard number.first! & 0x80 == 0 else { return nil }
            if number.count > 1, number.first! == 0 {
                guard number[number.startIndex + 1] & 0x80 != 0 else { return nil }
                number = number.dropFirst()
            }
            guard number.count <= P256.scalarLength else { return nil }
            raw.append(contentsOf: repeatElement(0, count: P256.scalarLength - number.count))
            raw.append(contentsOf: number)
        }
        guard index == bytes.count else { return nil }
        return raw
    }

    /// The DER form of `r ‖ s` (64 bytes), or nil when the length is wrong. Zero values are
    /// encoded as they are; verification then refuses them.
    static func der(fromRaw raw: [UInt8]) -> [UInt8]? {
        guard raw.count == rawLength else { return nil }
        var body = [UInt8]()
        body.reserveCapacity(maximumDERLength)
        for half in [raw[0..<P256.scalarLength], raw[P256.scalarLength...]] {
            var number = half.drop(while: { $0 == 0 })
            if number.isEmpty { number = half.suffix(1) }
            let pad = number.first! & 0x80 != 0
            body.append(0x02)
            body.append(UInt8(number.count + (pad ? 1 : 0)))
            if pad { body.append(0) }
            body.append(contentsOf: number)
        }
        return [0x30, UInt8(body.count)] + body
    }
}
