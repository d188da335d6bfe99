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
        guard (1...12).contains(month), day >= 1, day <= CivilCalendar.daysIn(month: month, year: year) else { return nil }
        self.daysSinceEpoch = CivilCalendar.days(year: year, month: month, day: day)
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
        CivilCalendar.civil(fromDays: daysSinceEpoch)
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
