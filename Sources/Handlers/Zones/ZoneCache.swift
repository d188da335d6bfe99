import Synchronization

/// The IANA time zones quiet hours name, each read once from the zone source (in production the
/// system's zone database) and kept: a zone file is a few kilobytes, and deciding whether a
/// mail falls in someone's quiet hours must not read a file each time.
///
/// Only zones that exist are kept (at most ``capacity``, about twice the database's size), so
/// clients naming made-up zones cannot grow it; an unknown name is looked up again each time,
/// which costs one failed lookup after the name's syntax has been checked.
public final class ZoneCache: Sendable {
    static let capacity = 1200
    private let source: any ZoneSource
    private let zones = Mutex<[String: ZoneInfo]>([:])

    public init(source: any ZoneSource) {
        self.source = source
    }

    /// The zone named `identifier`, or nil when there is no such zone.
    func zone(_ identifier: String) -> ZoneInfo? {
        if let cached = zones.withLock({ $0[identifier] }) { return cached }
        guard let loaded = ZoneInfo.load(identifier: identifier, source: source) else { return nil }
        zones.withLock { zones in
            if zones.count < Self.capacity { zones[identifier] = loaded }
        }
        return loaded
    }

    /// When mail sent at `now` to someone with `quietHours` may go out: nil when now is outside
    /// them (or their zone has vanished from the database, when mail is not held), else the end
    /// of the current quiet period.
    func holdUntil(_ quietHours: QuietHours?, now: Timestamp) -> Timestamp? {
        guard let quietHours, let zone = zone(quietHours.timeZone) else { return nil }
        return quietHours.holdUntil(nowUTCMilliseconds: now.milliseconds, zone: zone).map(Timestamp.init(milliseconds:))
    }
}
