/// One IANA time zone, parsed from its compiled form (TZif, RFC 8536) as a ``ZoneSource`` gives it.
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
}
