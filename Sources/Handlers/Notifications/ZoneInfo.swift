/// A wall-clock date and time with no zone: what a person reads off the clock on their wall.
///
/// Only whole minutes, since quiet hours are set in minutes. The calendar is the proleptic
/// Gregorian one, with days counted from 1970-01-01 by Howard Hinnant's `days_from_civil` and
/// `civil_from_days`, so it agrees with ``ZoneInfo``'s arithmetic on Unix seconds.
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
              day >= 1, day <= Self.daysIn(month: month, year: year),
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
        let date = Self.civil(fromDays: days)
        self.init(year: date.year, month: date.month, day: date.day, hour: minuteOfDay / 60, minute: minuteOfDay % 60)
    }

    /// Days since 1970-01-01 of this date.
    var daysSinceEpoch: Int64 {
        Self.days(year: year, month: month, day: day)
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

    /// Howard Hinnant's `days_from_civil`: days since 1970-01-01 of a proleptic Gregorian date.
    /// Works in 400-year eras so negative years need no special case beyond the era's floor.
    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = Int64((month + 9) % 12)
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Howard Hinnant's `civil_from_days`, the inverse of ``days(year:month:day:)``.
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
        let month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func isLeap(_ year: Int64) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    static func daysIn(month: Int, year: Int64) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

/// One IANA time zone, read from the system's compiled zone database (TZif, RFC 8536).
///
/// Holds the zone's transition table and the POSIX TZ rule from the file's footer, which
/// governs every instant after the last transition (the table of a "slim" file ends with the
/// last rule change, so next summer already comes from the rule). Everything is validated at
/// load time, so the lookups afterwards cannot fail or trap: every index is known to be in
/// range and every offset to be within a day and a bit of UTC.
struct ZoneInfo: Sendable {
    /// A file larger than this is not a zone (the largest in tzdata is a few kilobytes).
    static let maxFileSize = ZoneSourceLimits.maxBytes
    /// RFC 8536 §3.2: `utoff` SHOULD lie in -89999...93599; anything outside is refused, which
    /// also keeps `seconds + offset` far from overflowing.
    static let offsets: ClosedRange<Int32> = -89_999...93_599
    /// Instants are clamped into this range before rule arithmetic (about ±35 million years).
    static let instants: ClosedRange<Int64> = -(1 << 50)...(1 << 50)

    /// A local time type (`ttinfo`): the offset east of UTC, whether it is daylight saving
    /// time, and its abbreviation (`CEST`).
    struct LocalTimeType: Sendable, Hashable {
        var utcOffset: Int32
        var isDST: Bool
        var abbreviation: String
    }

    /// Transition instants, Unix seconds, strictly ascending.
    let transitions: [Int64]
    /// For each transition, the index into ``types`` in effect from it on.
    let transitionTypes: [Int]
    /// At least one; type 0 governs instants before the first transition.
    let types: [LocalTimeType]
    /// The footer's rule for instants at and after the last transition; nil when the footer is
    /// empty (the last type then stays forever) or the file is version 1.
    let rule: PosixRule?

    init(transitions: [Int64], transitionTypes: [Int], types: [LocalTimeType], rule: PosixRule?) {
        self.transitions = transitions
        self.transitionTypes = transitionTypes
        self.types = types
        self.rule = rule
    }

    // MARK: Loading

    /// The zone named `identifier` in `source`, or nil when the name is not a plausible zone
    /// name, the source has no such zone, or its bytes are not a well-formed TZif file.
    ///
    /// The name is checked before the source is asked, so a client-chosen name can never reach
    /// outside a zone directory (`..`, absolute paths, NUL bytes are all refused).
    static func load(identifier: String, source: any ZoneSource) -> ZoneInfo? {
        guard isValidIdentifier(identifier), let bytes = source.tzif(named: identifier) else { return nil }
        return ZoneInfo(tzif: bytes)
    }

    /// Whether `identifier` has the shape of an IANA zone name: at most 64 bytes of `/`-separated
    /// components, each made of ASCII letters, digits, `_`, `+` and `-`, not starting with `-`.
    /// There is no `.` at all, so no `.` or `..` component, and no empty component, so no
    /// leading, trailing or doubled `/`.
    static func isValidIdentifier(_ identifier: String) -> Bool {
        let bytes = Array(identifier.utf8)
        guard !bytes.isEmpty, bytes.count <= 64 else { return false }
        var componentLength = 0
        for byte in bytes {
            if byte == UInt8(ascii: "/") {
                guard componentLength > 0 else { return false }
                componentLength = 0
                continue
            }
            guard isIdentifierByte(byte) else { return false }
            if componentLength == 0, byte == UInt8(ascii: "-") { return false }
            componentLength += 1
        }
        return componentLength > 0
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    // MARK: Parsing

    /// Parses a TZif file (RFC 8536 §3). Version 2 and later use the 64-bit data block after
    /// the version 1 block (which is skipped by its own header's counts) and the footer's TZ
    /// string; a version 1 file uses its 32-bit block and has no rule.
    ///
    /// Files with leap-second records (the `right/` zones) are refused: their transition times
    /// count leap seconds, and everything here works in POSIX seconds that do not.
    init?(tzif bytes: [UInt8]) {
        guard bytes.count <= Self.maxFileSize else { return nil }
        var reader = ByteReader(bytes: bytes)
        guard let first = reader.header() else { return nil }
        guard first.version >= 2 else {
            guard let block = reader.dataBlock(first, timeSize: 4) else { return nil }
            self.init(block: block, rule: nil)
            return
        }
        guard reader.skip(first.blockSize(timeSize: 4)),
              let second = reader.header(), second.version >= 2,
              let block = reader.dataBlock(second, timeSize: 8),
              let footer = reader.footer()
        else { return nil }
        var rule: PosixRule?
        if !footer.isEmpty {
            guard let parsed = PosixRule(footer) else { return nil }
            rule = parsed
        }
        self.init(block: block, rule: rule)
    }

    /// Validates a decoded data block: ascending transitions, in-range type indices, sane
    /// offsets and abbreviation indices inside the character table.
    private init?(block: DataBlock, rule: PosixRule?) {
        guard block.leapCount == 0, !block.types.isEmpty else { return nil }
        for index in block.transitions.indices.dropFirst() {
            guard block.transitions[index - 1] < block.transitions[index] else { return nil }
        }
        var types: [LocalTimeType] = []
        for raw in block.types {
            guard Self.offsets.contains(raw.utcOffset), raw.isDST <= 1,
                  let abbreviation = Self.abbreviation(in: block.characters, at: Int(raw.abbreviationIndex))
            else { return nil }
            types.append(LocalTimeType(utcOffset: raw.utcOffset, isDST: raw.isDST == 1, abbreviation: abbreviation))
        }
        var indices: [Int] = []
        indices.reserveCapacity(block.transitionTypes.count)
        for index in block.transitionTypes {
            guard Int(index) < types.count else { return nil }
            indices.append(Int(index))
        }
        self.init(transitions: block.transitions, transitionTypes: indices, types: types, rule: rule)
    }

    /// The NUL-terminated abbreviation starting at `index`; nil when it runs off the table.
    private static func abbreviation(in characters: [UInt8], at index: Int) -> String? {
        guard index >= 0, index < characters.count,
              let end = characters[index...].firstIndex(of: 0)
        else { return nil }
        return String(decoding: characters[index..<end], as: UTF8.self)
    }

    // MARK: Lookups

    /// The local time type in effect at `seconds` (Unix time, UTC).
    func localTimeType(atUTC seconds: Int64) -> LocalTimeType {
        let instant = Self.clamp(seconds)
        guard let firstTransition = transitions.first, let lastTransition = transitions.last else {
            return rule?.localTimeType(atUTC: instant) ?? types[0]
        }
        if instant < firstTransition { return types[0] }
        if instant >= lastTransition, let rule { return rule.localTimeType(atUTC: instant) }
        return types[transitionTypes[lastTransitionIndex(atOrBefore: instant)]]
    }

    /// Seconds east of UTC in effect at `seconds` (Unix time): `3600` in a Berlin winter.
    func utcOffset(atUTC seconds: Int64) -> Int32 {
        localTimeType(atUTC: seconds).utcOffset
    }

    /// The index of the last transition at or before `instant`, which must not precede the
    /// first transition.
    private func lastTransitionIndex(atOrBefore instant: Int64) -> Int {
        var low = 0
        var high = transitions.count
        // Invariant: transitions[low] <= instant, and every index >= high is after it.
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if transitions[middle] <= instant { low = middle } else { high = middle }
        }
        return low
    }

    /// What a wall time means in this zone.
    enum LocalInstants: Sendable, Hashable {
        /// The wall time happens once, at this instant.
        case unique(Int64)
        /// The clocks went back over it, so it happens twice (first in the earlier offset).
        case ambiguous(earlier: Int64, later: Int64)
        /// The clocks jumped over it; `next` is the instant they jumped at, the first instant
        /// whose wall time is later than the skipped one.
        case skipped(next: Int64)
    }

    /// Every instant (Unix seconds) whose wall time in this zone is `local`.
    ///
    /// Offsets are sampled a day either side, which finds the offsets in force around the wall
    /// time as long as the zone changes its offset at most once in two days (true of tzdata's
    /// zones in modern times). A wall time that neither offset reaches was skipped; the jump is
    /// then found by bisection between the two candidates.
    func utcInstants(forLocal local: LocalDateTime) -> LocalInstants {
        let wall = local.wallSeconds
        let offsetBefore = Int64(utcOffset(atUTC: wall - 86_400))
        let offsetAfter = Int64(utcOffset(atUTC: wall + 86_400))
        let candidateBefore = wall - offsetBefore
        let candidateAfter = wall - offsetAfter
        let beforeHolds = Int64(utcOffset(atUTC: candidateBefore)) == offsetBefore
        let afterHolds = Int64(utcOffset(atUTC: candidateAfter)) == offsetAfter
        switch (beforeHolds, afterHolds) {
        case (true, true) where candidateBefore != candidateAfter:
            return .ambiguous(earlier: min(candidateBefore, candidateAfter), later: max(candidateBefore, candidateAfter))
        case (true, _):
            return .unique(candidateBefore)
        case (false, true):
            return .unique(candidateAfter)
        case (false, false):
            let low = min(candidateBefore, candidateAfter)
            let high = max(candidateBefore, candidateAfter)
            return .skipped(next: low == high ? high : firstChange(after: low, upTo: high))
        }
    }

    /// The one instant whose wall time is `local`: the earlier of two when the clocks went back
    /// over it, and the end of the jump when they skipped it (so 02:30 on the night Berlin goes
    /// from 02:00 to 03:00 is 03:00 CEST, the first instant at or after it that exists).
    func utc(forLocal local: LocalDateTime) -> Int64 {
        switch utcInstants(forLocal: local) {
        case .unique(let instant): return instant
        case .ambiguous(let earlier, _): return earlier
        case .skipped(let next): return next
        }
    }

    /// The first instant in `(low, high]` at which the offset differs from the one at `low`
    /// (`high` when it never does), by bisection: a few dozen lookups for a two-day window.
    private func firstChange(after low: Int64, upTo high: Int64) -> Int64 {
        let startOffset = utcOffset(atUTC: low)
        var low = low
        var high = high
        // Invariant: the offset at low is startOffset; the offset at high differs (or high is the bound).
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if utcOffset(atUTC: middle) == startOffset { low = middle } else { high = middle }
        }
        return high
    }

    /// `seconds` moved into ``instants``, so adding offsets and days to it cannot overflow.
    static func clamp(_ seconds: Int64) -> Int64 {
        min(max(seconds, instants.lowerBound), instants.upperBound)
    }

    /// Division rounding toward negative infinity, so instants before 1970 land on the right day.
    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor != 0 && (value < 0) != (divisor < 0) ? quotient - 1 : quotient
    }
}

// MARK: - TZif bytes

extension ZoneInfo {
    /// A TZif header (RFC 8536 §3.1): the version and the six counts.
    struct Header {
        var version: Int
        var isUTCCount: Int
        var isStandardCount: Int
        var leapCount: Int
        var timeCount: Int
        var typeCount: Int
        var characterCount: Int

        /// The size of the data block that follows, with 4- or 8-byte times (§3.2).
        func blockSize(timeSize: Int) -> Int {
            timeCount * timeSize + timeCount + typeCount * 6 + characterCount
                + leapCount * (timeSize + 4) + isStandardCount + isUTCCount
        }
    }

    /// A `ttinfo` record as stored, validated later.
    struct RawType {
        var utcOffset: Int32
        var isDST: UInt8
        var abbreviationIndex: UInt8
    }

    /// A data block as stored, before validation.
    struct DataBlock {
        var transitions: [Int64]
        var transitionTypes: [UInt8]
        var types: [RawType]
        var characters: [UInt8]
        var leapCount: Int
    }

    /// Big-endian reads with bounds checks: every read returns nil instead of running off the
    /// end, so a truncated or corrupt file is refused instead of trapping.
    struct ByteReader {
        let bytes: [UInt8]
        var offset = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        var remaining: Int { bytes.count - offset }

        mutating func skip(_ count: Int) -> Bool {
            guard count >= 0, count <= remaining else { return false }
            offset += count
            return true
        }

        mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, count <= remaining else { return nil }
            defer { offset += count }
            return bytes[offset..<(offset + count)]
        }

        mutating func uint8() -> UInt8? {
            take(1)?.first
        }

        mutating func uint32() -> UInt32? {
            guard let slice = take(4) else { return nil }
            return slice.reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func int32() -> Int32? {
            uint32().map { Int32(bitPattern: $0) }
        }

        mutating func int64() -> Int64? {
            guard let slice = take(8) else { return nil }
            return Int64(bitPattern: slice.reduce(0) { $0 << 8 | UInt64($1) })
        }

        /// Magic, version and counts. The counts are checked against RFC 8536 §3.1's rules
        /// (at least one type and one abbreviation byte, the indicator counts zero or equal to
        /// the type count) and against the bytes left, so later arithmetic stays small.
        mutating func header() -> Header? {
            guard let magic = take(4), magic.elementsEqual("TZif".utf8),
                  let versionByte = uint8(), skip(15)
            else { return nil }
            let version: Int
            switch versionByte {
            case 0: version = 1
            case UInt8(ascii: "2")...UInt8(ascii: "9"): version = Int(versionByte - UInt8(ascii: "0"))
            default: return nil
            }
            var counts: [Int] = []
            for _ in 0..<6 {
                guard let count = uint32(), Int(count) <= remaining else { return nil }
                counts.append(Int(count))
            }
            let header = Header(
                version: version, isUTCCount: counts[0], isStandardCount: counts[1], leapCount: counts[2],
                timeCount: counts[3], typeCount: counts[4], characterCount: counts[5]
            )
            guard header.typeCount > 0, header.characterCount > 0,
                  header.isUTCCount == 0 || header.isUTCCount == header.typeCount,
                  header.isStandardCount == 0 || header.isStandardCount == header.typeCount
            else { return nil }
            return header
        }

        /// The data block described by `header`, with 4-byte (v1) or 8-byte times.
        mutating func dataBlock(_ header: Header, timeSize: Int) -> DataBlock? {
            guard header.blockSize(timeSize: timeSize) <= remaining else { return nil }
            var transitions: [Int64] = []
            for _ in 0..<header.timeCount {
                let time = timeSize == 8 ? int64() : int32().map(Int64.init)
                guard let time else { return nil }
                transitions.append(time)
            }
            guard let transitionTypes = take(header.timeCount) else { return nil }
            var types: [RawType] = []
            for _ in 0..<header.typeCount {
                guard let offset = int32(), let isDST = uint8(), let index = uint8() else { return nil }
                types.append(RawType(utcOffset: offset, isDST: isDST, abbreviationIndex: index))
            }
            guard let characters = take(header.characterCount),
                  skip(header.leapCount * (timeSize + 4) + header.isStandardCount + header.isUTCCount)
            else { return nil }
            return DataBlock(
                transitions: transitions, transitionTypes: Array(transitionTypes), types: types,
                characters: Array(characters), leapCount: header.leapCount
            )
        }

        /// The footer's TZ string, between a newline and the next (RFC 8536 §3.3); empty is
        /// allowed. A version 2+ file without its footer is truncated, so nil.
        mutating func footer() -> String? {
            guard uint8() == UInt8(ascii: "\n") else { return nil }
            guard let end = bytes[offset...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            let text = bytes[offset..<end]
            guard text.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
            offset = end + 1
            return String(decoding: text, as: UTF8.self)
        }
    }
}

// MARK: - POSIX TZ rules

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
                let january1 = LocalDateTime.days(year: year, month: 1, day: 1)
                switch self {
                case .julian(let day):
                    let leapShift = LocalDateTime.isLeap(year) && day >= 60 ? 1 : 0
                    return january1 + Int64(day - 1 + leapShift)
                case .zeroBased(let day):
                    return january1 + Int64(day)
                case .monthWeekDay(let month, let week, let weekday):
                    let first = LocalDateTime.days(year: year, month: month, day: 1)
                    // 1970-01-01 was a Thursday (weekday 4).
                    let firstWeekday = Int(((first % 7) + 7 + 4) % 7)
                    var day = 1 + (weekday - firstWeekday + 7) % 7 + (week - 1) * 7
                    let length = LocalDateTime.daysIn(month: month, year: year)
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
            let localDays = ZoneInfo.floorDivide(instant + Int64(standard.utcOffset), 86_400)
            let year = LocalDateTime.civil(fromDays: localDays).year
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
