import JSONRPC

/// A point in time at millisecond precision, as the API stores, compares and sends it.
///
/// Kept as milliseconds since the Unix epoch (UTC): both backends store it as a 64-bit integer,
/// so comparisons agree exactly and no time zone ever enters. It goes out as RFC 3339 UTC with
/// three fraction digits and a `Z`; any RFC 3339 input is accepted (offsets converted, extra
/// fraction digits truncated toward the past).
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// Seconds since the epoch, rounded down (JWT `iat` / `exp`).
    public var seconds: Int64 { milliseconds.floorDivided(by: 1000) }

    public func adding(milliseconds delta: Int64) -> Timestamp {
        Timestamp(milliseconds: milliseconds + delta)
    }

    /// The UTC calendar day this instant falls in.
    public var day: DayDate {
        DayDate(daysSinceEpoch: milliseconds.floorDivided(by: 86_400_000))
    }

    /// `2026-11-25T02:05:41.730Z`.
    ///
    /// Written digit by digit into the string's own storage: it is formatted three times for
    /// every task a call answers with (a page of 50 tasks: 150 times).
    public var description: String {
        let day = self.day
        let c = day.components
        let msOfDay = milliseconds - day.daysSinceEpoch * 86_400_000
        guard (0...9999).contains(c.year) else {
            return "\(day)T\(Self.pad(msOfDay / 3_600_000, 2)):\(Self.pad(msOfDay / 60_000 % 60, 2)):"
                + "\(Self.pad(msOfDay / 1000 % 60, 2)).\(Self.pad(msOfDay % 1000, 3))Z"
        }
        return String(unsafeUninitializedCapacity: 24) { out in
            DayDate.write(c, into: out)
            out[10] = UInt8(ascii: "T")
            ASCIIDigits.put(msOfDay / 3_600_000, width: 2, into: out, at: 11)
            out[13] = UInt8(ascii: ":")
            ASCIIDigits.put(msOfDay / 60_000 % 60, width: 2, into: out, at: 14)
            out[16] = UInt8(ascii: ":")
            ASCIIDigits.put(msOfDay / 1000 % 60, width: 2, into: out, at: 17)
            out[19] = UInt8(ascii: ".")
            ASCIIDigits.put(msOfDay % 1000, width: 3, into: out, at: 20)
            out[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// Parses RFC 3339 `date-time` (§5.6): `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`; `t`/`z` and a
    /// space for `T` are accepted as RFC 3339 allows. A leap second (`:60`) is read as `:59.999`.
    public init?(rfc3339 text: String) {
        let b = Array(text.utf8)
        guard b.count >= 20, let date = DayDate(iso: Array(b[0..<10])) else { return nil }
        let sep = b[10]
        guard sep == UInt8(ascii: "T") || sep == UInt8(ascii: "t") || sep == UInt8(ascii: " ") else { return nil }
        guard let hour = Self.digits(b, 11, 2), b[13] == UInt8(ascii: ":"),
              let minute = Self.digits(b, 14, 2), b[16] == UInt8(ascii: ":"),
              let second = Self.digits(b, 17, 2),
              hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var index = 19
        var millis: Int64 = 0
        if b[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < b.count, b[index] >= UInt8(ascii: "0"), b[index] <= UInt8(ascii: "9") {
                if index - start < 3 { millis = millis * 10 + Int64(b[index] - UInt8(ascii: "0")) }
                index += 1
            }
            let count = index - start
            guard count > 0, count <= 9 else { return nil }
            if count < 3 {
                for _ in count..<3 { millis *= 10 }
            }
        }
        guard index < b.count else { return nil }
        var offsetMinutes: Int64 = 0
        switch b[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign: Int64 = b[index] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = Self.digits(b, index + 1, 2), index + 3 < b.count, b[index + 3] == UInt8(ascii: ":"),
                  let om = Self.digits(b, index + 4, 2), oh <= 23, om <= 59
            else { return nil }
            offsetMinutes = sign * (oh * 60 + om)
            index += 6
        default:
            return nil
        }
        guard index == b.count else { return nil }
        var total = date.daysSinceEpoch * 86_400_000
        total += hour * 3_600_000 + minute * 60_000
        if second == 60 {
            total += 59_999
        } else {
            total += second * 1000 + millis
        }
        total -= offsetMinutes * 60_000
        self.milliseconds = total
    }

    static func digits(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int64? {
        guard start + count <= bytes.count else { return nil }
        var value: Int64 = 0
        for byte in bytes[start..<(start + count)] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }
}

/// Fixed-width decimal fields written straight into a buffer, for the date formats.
enum ASCIIDigits {
    /// Writes `value` (0 ≤ value < 10^width) as exactly `width` digits, zero-padded, at `offset`.
    static func put(_ value: Int64, width: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        var rest = value
        var index = offset + width - 1
        while index >= offset {
            buffer[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
            index -= 1
        }
    }
}

extension Int64 {
    /// Division rounding toward negative infinity, so instants before 1970 land on the right day.
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}

extension Timestamp: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Timestamp(rfc3339: text) else {
            throw RPCError.invalidParams(field: FieldPath.dotted(decoder.codingPath), message: "must be an RFC 3339 timestamp such as 2026-11-25T02:05:41.730Z")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
