/// The zone readers as public entry points, for the fuzz package (Fuzz/), which sees only public
/// API: each runs a reader over untrusted bytes and then the lookups the zone cache would make,
/// so a table or rule that passes validation but traps later is found as well.
public enum ZoneDecoding {
    /// Instants and local times probed after a successful parse: the far past and future (the
    /// clamp), the epoch, and around a present-day year's switches.
    static let probes: [Int64] = [.min, -(1 << 40), -1, 0, 1, 1_700_000_000, 1_719_000_000, 1 << 40, .max]

    /// Reads `bytes` as a TZif file; whether it was accepted.
    @discardableResult
    public static func exercise(tzif bytes: [UInt8]) -> Bool {
        guard let zone = ZoneInfo(tzif: bytes) else { return false }
        probe(zone)
        return true
    }

    /// Reads `text` as a POSIX TZ string (a TZif footer); whether it was accepted.
    @discardableResult
    public static func exercise(posixRule text: String) -> Bool {
        guard let rule = ZoneInfo.PosixRule(text) else { return false }
        probe(ZoneInfo(transitions: [], transitionTypes: [], types: [rule.standard], rule: rule))
        return true
    }

    private static func probe(_ zone: ZoneInfo) {
        for instant in probes {
            _ = zone.utcOffset(atUTC: instant)
        }
        for year: Int64 in [-1_000_000, 1, 1970, 2024, 2037, 3000, 1_000_000] {
            for month in [1, 3, 6, 10, 12] {
                for hour in [0, 1, 2, 3, 23] {
                    guard let local = LocalDateTime(year: year, month: month, day: 1, hour: hour, minute: 30) else { continue }
                    _ = zone.utcInstants(forLocal: local)
                    _ = zone.utc(forLocal: local)
                }
            }
        }
    }
}
