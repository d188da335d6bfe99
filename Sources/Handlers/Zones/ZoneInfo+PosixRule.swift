extension ZoneInfo {
    /// A POSIX TZ string as found in a TZif footer (POSIX.1-2017 §8.3 with RFC 8536 §3.3.1's
    /// extensions): standard time, and optionally daylight saving time with the yearly rule for
    /// when it starts and ends. `CET-1CEST,M3.5.0,M10.5.0/3` is Central European time.
    ///
    /// Offsets are kept as seconds east of UTC, the TZif convention; the string itself counts
    /// west (`CET-1` is one hour east).
    struct PosixRule: Sendable, Hashable {
        var standard: LocalTimeType
        var daylight: Daylight?

        /// Daylight saving time and its yearly start and end, each a day and a wall time
        /// (seconds from that day's midnight; RFC 8536 allows -167 to 167 hours).
        struct Daylight: Sendable, Hashable {
            var type: LocalTimeType
            var start: RuleDay
            var startTime: Int64
            var end: RuleDay
            var endTime: Int64
        }

        /// The three ways POSIX names a day of the year.
        enum RuleDay: Sendable, Hashable {
            /// `Jn`: day 1...365, February 29 never counted.
            case julian(Int)
            /// `n`: day 0...365, February 29 counted in leap years.
            case zeroBased(Int)
            /// `Mm.w.d`: weekday `d` (0 is Sunday) of week `w` (5 is the last) of month `m`.
            case monthWeekDay(month: Int, week: Int, weekday: Int)

            /// Days since 1970-01-01 of this day in `year`.
            func daysSinceEpoch(in year: Int64) -> Int64 {
                let january1 = CivilCalendar.days(year: year, month: 1, day: 1)
                switch self {
                case .julian(let day):
                    let leapShift = CivilCalendar.isLeap(year) && day >= 60 ? 1 : 0
                    return january1 + Int64(day - 1 + leapShift)
                case .zeroBased(let day):
                    return january1 + Int64(day)
                case .monthWeekDay(let month, let week, let weekday):
                    let first = CivilCalendar.days(year: year, month: Int64(month), day: 1)
                    let firstWeekday = CivilCalendar.weekday(ofDay: first)
                    var day = 1 + (weekday - firstWeekday + 7) % 7 + (week - 1) * 7
                    let length = Int(CivilCalendar.daysIn(month: Int64(month), year: year))
                    while day > length { day -= 7 }
                    return first + Int64(day - 1)
                }
            }
        }

        /// Parses a whole TZ string; nil if any of it is malformed, including daylight saving
        /// time without a rule (POSIX leaves that default to the implementation, zic never
        /// writes it).
        init?(_ text: String) {
            var parser = Parser(bytes: Array(text.utf8))
            guard let standardName = parser.name(), let standardOffset = parser.offset() else { return nil }
            standard = LocalTimeType(utcOffset: standardOffset, isDST: false, abbreviation: standardName)
            guard !parser.atEnd else {
                daylight = nil
                return
            }
            guard let daylightName = parser.name() else { return nil }
            var daylightOffset = standardOffset + 3600
            if !parser.atEnd, parser.peek() != UInt8(ascii: ",") {
                guard let parsed = parser.offset() else { return nil }
                daylightOffset = parsed
            }
            guard parser.consume(UInt8(ascii: ",")), let start = parser.day(), let startTime = parser.time(),
                  parser.consume(UInt8(ascii: ",")), let end = parser.day(), let endTime = parser.time(),
                  parser.atEnd
            else { return nil }
            daylight = Daylight(
                type: LocalTimeType(utcOffset: daylightOffset, isDST: true, abbreviation: daylightName),
                start: start, startTime: startTime, end: end, endTime: endTime
            )
        }

        /// The type in effect at `instant` (already clamped by the caller).
        ///
        /// Works out the switches of the local year around the instant and the years either
        /// side (a rule time of -167 or 167 hours can push a switch into the next year), and
        /// takes the latest switch at or before the instant. A start and an end at the same
        /// instant mean daylight saving time all year (RFC 8536 §3.3.1), so ends sort first.
        func localTimeType(atUTC instant: Int64) -> LocalTimeType {
            guard let daylight else { return standard }
            let localDays = (instant + Int64(standard.utcOffset)).floorDivided(by: 86_400)
            let year = CivilCalendar.civil(fromDays: localDays).year
            // The latest switch so far as (instant, rank), rank 1 for a start: ends sort first.
            var latest: (Int64, Int) = (Int64.min, 0)
            for candidateYear in (year - 1)...(year + 1) {
                let start = switchInstant(daylight.start, daylight.startTime, year: candidateYear, in: standard)
                let end = switchInstant(daylight.end, daylight.endTime, year: candidateYear, in: daylight.type)
                if start <= instant, (start, 1) > latest { latest = (start, 1) }
                if end <= instant, (end, 0) > latest { latest = (end, 0) }
            }
            return latest.1 == 1 ? daylight.type : standard
        }

        /// The UTC instant of a switch on `day` at wall time `time`, read in the type in force
        /// before it (standard time for the start, daylight saving time for the end).
        private func switchInstant(_ day: RuleDay, _ time: Int64, year: Int64, in before: LocalTimeType) -> Int64 {
            day.daysSinceEpoch(in: year) * 86_400 + time - Int64(before.utcOffset)
        }
    }

    /// A cursor over a TZ string's bytes; each method reads one grammar element or returns nil.
    struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        var atEnd: Bool { index >= bytes.count }

        func peek() -> UInt8? {
            index < bytes.count ? bytes[index] : nil
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard peek() == byte else { return false }
            index += 1
            return true
        }

        /// `CET` (three or more letters) or `<+0530>` (letters, digits, `+`, `-` in brackets).
        mutating func name() -> String? {
            let quoted = consume(UInt8(ascii: "<"))
            let start = index
            while let byte = peek(), Self.isNameByte(byte, quoted: quoted) { index += 1 }
            let name = String(decoding: bytes[start..<index], as: UTF8.self)
            guard index - start >= 3 else { return nil }
            if quoted, !consume(UInt8(ascii: ">")) { return nil }
            return name
        }

        private static func isNameByte(_ byte: UInt8, quoted: Bool) -> Bool {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"): return true
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"): return quoted
            default: return false
            }
        }

        /// A zone offset `[+-]hh[:mm[:ss]]` (hours 0...24), returned as seconds EAST of UTC.
        mutating func offset() -> Int32? {
            guard let west = signedDuration(maxHours: 24) else { return nil }
            let east = Int32(-west)
            return ZoneInfo.offsets.contains(east) ? east : nil
        }

        /// A rule's time of day `[+-]hhh[:mm[:ss]]` (RFC 8536 §3.3.1: -167...167 hours),
        /// defaulting to 02:00 when absent.
        mutating func time() -> Int64? {
            guard consume(UInt8(ascii: "/")) else { return 7200 }
            return signedDuration(maxHours: 167)
        }

        /// `Jn`, `n` or `Mm.w.d`.
        mutating func day() -> ZoneInfo.PosixRule.RuleDay? {
            if consume(UInt8(ascii: "J")) {
                guard let day = number(maxDigits: 3), (1...365).contains(day) else { return nil }
                return .julian(day)
            }
            if consume(UInt8(ascii: "M")) {
                guard let month = number(maxDigits: 2), (1...12).contains(month), consume(UInt8(ascii: ".")),
                      let week = number(maxDigits: 1), (1...5).contains(week), consume(UInt8(ascii: ".")),
                      let weekday = number(maxDigits: 1), (0...6).contains(weekday)
                else { return nil }
                return .monthWeekDay(month: month, week: week, weekday: weekday)
            }
            guard let day = number(maxDigits: 3), (0...365).contains(day) else { return nil }
            return .zeroBased(day)
        }

        /// `[+-]h[:mm[:ss]]` in seconds, the sign applying to the whole; minutes and seconds are
        /// exactly two digits, 00...59.
        private mutating func signedDuration(maxHours: Int) -> Int64? {
            var sign: Int64 = 1
            if consume(UInt8(ascii: "-")) {
                sign = -1
            } else {
                _ = consume(UInt8(ascii: "+"))
            }
            guard let hours = number(maxDigits: maxHours > 99 ? 3 : 2), hours <= maxHours else { return nil }
            var seconds = Int64(hours) * 3600
            for unit: Int64 in [60, 1] {
                guard consume(UInt8(ascii: ":")) else { break }
                let start = index
                guard let part = number(maxDigits: 2), index - start == 2, part <= 59 else { return nil }
                seconds += Int64(part) * unit
            }
            return sign * seconds
        }

        /// One to `maxDigits` ASCII digits.
        private mutating func number(maxDigits: Int) -> Int? {
            var value = 0
            var digits = 0
            while digits < maxDigits, let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                index += 1
            }
            return digits > 0 ? value : nil
        }
    }
}
