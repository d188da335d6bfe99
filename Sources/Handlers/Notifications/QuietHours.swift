/// Quiet hours: minutes of the day in the user's IANA time zone (start ≠ end; may cross midnight).
///
/// Mail that would arrive inside them is held until they end. The times are wall-clock times in
/// `timeZone`, so 22:00–07:00 stays 22:00–07:00 across daylight saving changes; the UTC instant
/// a period ends at is worked out each time from the zone's rules.
public struct QuietHours: Sendable, Hashable {
    /// Minutes after local midnight, 0..<1440.
    public var start: Int
    /// Minutes after local midnight, 0..<1440; before `start` when the period crosses midnight.
    public var end: Int
    public var timeZone: String

    public init(start: Int, end: Int, timeZone: String) {
        self.start = start
        self.end = end
        self.timeZone = timeZone
    }
}

extension QuietHours {
    static let minutesPerDay = 1440

    // MARK: Clock text

    /// Minutes after midnight of exactly `HH:MM` on a 24-hour clock (`00:00`...`23:59`); nil for
    /// anything else: `24:00`, `7:00`, `07:0`, surrounding spaces, non-ASCII digits.
    static func parseClock(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard bytes.count == 5, bytes[2] == UInt8(ascii: ":"),
              let hour = twoDigits(bytes[0], bytes[1]), hour <= 23,
              let minute = twoDigits(bytes[3], bytes[4]), minute <= 59
        else { return nil }
        return hour * 60 + minute
    }

    /// `HH:MM` for minutes after midnight, the inverse of ``parseClock(_:)``. Values outside a
    /// day are taken modulo one, so a bad stored value still prints as a clock time.
    static func formatClock(_ minutes: Int) -> String {
        let normalized = ((minutes % minutesPerDay) + minutesPerDay) % minutesPerDay
        return pad(normalized / 60) + ":" + pad(normalized % 60)
    }

    private static func twoDigits(_ tens: UInt8, _ ones: UInt8) -> Int? {
        let zero = UInt8(ascii: "0")
        let nine = UInt8(ascii: "9")
        guard (zero...nine).contains(tens), (zero...nine).contains(ones) else { return nil }
        return Int(tens - zero) * 10 + Int(ones - zero)
    }

    private static func pad(_ value: Int) -> String {
        value < 10 ? "0" + String(value) : String(value)
    }

    // MARK: Holding mail

    /// Whether the wall-clock minute `minuteOfDay` is inside: `start ≤ t < end` for a period
    /// within one day, `t ≥ start || t < end` for one crossing midnight. The start minute is
    /// inside, the end minute is not.
    func contains(minuteOfDay: Int) -> Bool {
        start < end ? (start <= minuteOfDay && minuteOfDay < end) : (minuteOfDay >= start || minuteOfDay < end)
    }

    /// When mail sent at `nowUTCMilliseconds` may go out: nil when that instant is outside quiet
    /// hours in `zone`, else the end of the current quiet period (UTC milliseconds, always
    /// later than now).
    ///
    /// The end is the wall time `end` later today, or tomorrow when it has already passed
    /// today (a period crossing midnight, entered in the evening). A wall time the clocks jump
    /// over ends the period at the jump (Berlin's 02:30 on its spring-forward night is 03:00
    /// CEST); a wall time that happens twice ends it at the first occurrence still ahead, so
    /// the second pass through a repeated hour holds until the second 02:30, not forever.
    /// Should the rules still give nothing later than now, mail is held one more minute and
    /// the question asked again then, rather than released or held indefinitely.
    func holdUntil(nowUTCMilliseconds now: Int64, zone: ZoneInfo) -> Int64? {
        let day = Int64(Self.minutesPerDay)
        guard (0..<day).contains(Int64(start)), (0..<day).contains(Int64(end)), start != end else { return nil }
        let seconds = ZoneInfo.clamp(now.floorDivided(by: 1000))
        let wall = seconds + Int64(zone.utcOffset(atUTC: seconds))
        let today = wall.floorDivided(by: 86_400)
        let minuteOfDay = Int((wall - today * 86_400) / 60)
        guard contains(minuteOfDay: minuteOfDay) else { return nil }
        let endDay = minuteOfDay < end ? today : today + 1
        let fallback = now > Int64.max - 60_000 ? Int64.max : now + 60_000
        guard let local = LocalDateTime(daysSinceEpoch: endDay, minuteOfDay: end) else { return fallback }
        return Self.endInstants(zone.utcInstants(forLocal: local)).map { $0 * 1000 }.first { $0 > now } ?? fallback
    }

    /// The instants (seconds) a wall time can end a period at, earliest first.
    private static func endInstants(_ instants: ZoneInfo.LocalInstants) -> [Int64] {
        switch instants {
        case .unique(let instant): return [instant]
        case .ambiguous(let earlier, let later): return [earlier, later]
        case .skipped(let next): return [next]
        }
    }
}
