/// The port through which the domain reads compiled time zones (TZif, RFC 8536) by IANA name.
///
/// The domain parses and caches the bytes itself (``ZoneCache``); where they come from (the
/// system's zone database, or memory in tests) is the adapter's business. Names reach the
/// source only after ``ZoneInfo/isValidIdentifier(_:)`` accepted them: no `.`, no leading
/// `/`, nothing that could leave the database.
public protocol ZoneSource: Sendable {
    /// The TZif bytes of zone `identifier`, or nil when there is no such zone.
    func tzif(named identifier: String) -> [UInt8]?
}

/// Bounds a ``ZoneSource`` and the TZif parser share.
public enum ZoneSourceLimits {
    /// A file larger than this is not a zone (the largest in tzdata is a few kilobytes).
    public static let maxBytes = 1 << 20
}
