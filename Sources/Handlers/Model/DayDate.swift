import JSONRPC

/// A calendar date without a time (`YYYY-MM-DD`), as used by `dueDate` and the date filters.
///
/// Kept as days since 1970-01-01 (proleptic Gregorian), so comparisons are integer comparisons;
/// stored as its `YYYY-MM-DD` text, which sorts the same way for years 0000–9999.
public struct DayDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var daysSinceEpoch: Int64

    public init(daysSinceEpoch: Int64) {
        self.daysSinceEpoch = daysSinceEpoch
    }

    public static func < (lhs: DayDate, rhs: DayDate) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }

    /// A valid Gregorian date; nil for `2026-02-30` and friends.
    public init?(year: Int64, month: Int64, day: Int64) {
        guard (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year) else { return nil }
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        self.daysSinceEpoch = era * 146_097 + doe - 719_468
    }

    /// Parses exactly `YYYY-MM-DD`.
    public init?(_ text: String) {
        self.init(iso: Array(text.utf8))
    }

    init?(iso bytes: [UInt8]) {
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let year = Timestamp.digits(bytes, 0, 4),
              let month = Timestamp.digits(bytes, 5, 2),
              let day = Timestamp.digits(bytes, 8, 2)
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    public var components: (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    public var description: String {
        let c = components
        guard (0...9999).contains(c.year) else {
            return "\(Timestamp.pad(c.year, 4))-\(Timestamp.pad(c.month, 2))-\(Timestamp.pad(c.day, 2))"
        }
        return String(unsafeUninitializedCapacity: 10) { out in
            Self.write(c, into: out)
            return 10
        }
    }

    /// Writes `YYYY-MM-DD` (a year of 0–9999) into the first 10 bytes of `out`.
    static func write(_ c: (year: Int64, month: Int64, day: Int64), into out: UnsafeMutableBufferPointer<UInt8>) {
        ASCIIDigits.put(c.year, width: 4, into: out, at: 0)
        out[4] = UInt8(ascii: "-")
        ASCIIDigits.put(c.month, width: 2, into: out, at: 5)
        out[7] = UInt8(ascii: "-")
        ASCIIDigits.put(c.day, width: 2, into: out, at: 8)
    }

    /// The first millisecond of this day, UTC.
    public var startOfDay: Timestamp { Timestamp(milliseconds: daysSinceEpoch * 86_400_000) }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

extension DayDate: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = DayDate(text) else {
            throw RPCError.invalidParams(field: FieldPath.dotted(decoder.codingPath), message: "must be a date as YYYY-MM-DD")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
