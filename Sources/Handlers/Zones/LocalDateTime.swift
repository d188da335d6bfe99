/// A wall-clock date and time with no zone: what a person reads off the clock on their wall.
///
/// Only whole minutes, since quiet hours are set in minutes. The calendar is ``CivilCalendar``,
/// so it agrees with ``ZoneInfo``'s arithmetic on Unix seconds and with ``DayDate``.
struct LocalDateTime: Sendable, Hashable, CustomStringConvertible {
    /// Years are bounded so that every derived second count fits an `Int64` many times over.
    static let years: ClosedRange<Int64> = -1_000_000...1_000_000

    let year: Int64
    let month: Int
    let day: Int
    let hour: Int
    let minute: Int

    /// A valid date and time; nil for `2026-02-30`, `24:00` and friends.
    init?(year: Int64, month: Int, day: Int, hour: Int, minute: Int) {
        guard Self.years.contains(year), (1...12).contains(month),
              day >= 1, Int64(day) <= CivilCalendar.daysIn(month: Int64(month), year: year),
              (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
    }

    /// The wall time `minuteOfDay` minutes into the day `days` after 1970-01-01.
    init?(daysSinceEpoch days: Int64, minuteOfDay: Int) {
        guard (0..<1440).contains(minuteOfDay) else { return nil }
        let date = CivilCalendar.civil(fromDays: days)
        self.init(year: date.year, month: Int(date.month), day: Int(date.day), hour: minuteOfDay / 60, minute: minuteOfDay % 60)
    }

    /// Days since 1970-01-01 of this date.
    var daysSinceEpoch: Int64 {
        CivilCalendar.days(year: year, month: Int64(month), day: Int64(day))
    }

    /// This wall time read as if it were UTC, in seconds since the epoch: the "local seconds"
    /// that a zone's offset is added to or taken from.
    var wallSeconds: Int64 {
        daysSinceEpoch * 86_400 + Int64(hour * 3600 + minute * 60)
    }

    /// `2026-03-29 02:30`, for test failures and logs.
    var description: String {
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value.magnitude)
            let padded = digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
            return value < 0 ? "-" + padded : padded
        }
        return "\(pad(year, 4))-\(pad(Int64(month), 2))-\(pad(Int64(day), 2)) \(pad(Int64(hour), 2)):\(pad(Int64(minute), 2))"
    }
}
