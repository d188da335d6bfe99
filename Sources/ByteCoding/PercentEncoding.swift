/// Percent-encoding (RFC 3986 §2.1): URL user info, query strings, avatar links and RFC 8187
/// header parameters.
public enum PercentEncoding {
    /// RFC 3986 §2.3's unreserved characters: letters, digits, `-`, `.`, `_`, `~`. Text made of
    /// these reads the same encoded or not.
    public static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// `text`'s UTF-8 with every byte that `keeps` rejects written as `%XX` (upper-case digits, as
    /// RFC 3986 §2.1 recommends).
    public static func encode(_ text: String, keeping keeps: (UInt8) -> Bool = isUnreserved) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if keeps(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                Hex.append(byte, to: &out, uppercase: true)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of `text` with each `%XX` replaced by its byte (and `+` by a space when
    /// `plusAsSpace`, as `application/x-www-form-urlencoded` writes it); nil when a `%` is not
    /// followed by two hex digits.
    public static func decode(_ text: some Sequence<UInt8>, plusAsSpace: Bool = false) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.underestimatedCount)
        var iterator = text.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(Hex.value(of:)),
                      let low = iterator.next().flatMap(Hex.value(of:)) else { return nil }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusAsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        return bytes
    }

    /// ``decode(_:plusAsSpace:)`` read as UTF-8; nil for a bad escape or bytes that are not UTF-8.
    public static func decodeUTF8(_ text: some StringProtocol, plusAsSpace: Bool = false) -> String? {
        decode(text.utf8, plusAsSpace: plusAsSpace).flatMap { String(validating: $0, as: UTF8.self) }
    }
}
