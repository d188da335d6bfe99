import Handlers

enum ZoneTargets {
    /// A TZif file (RFC 8536), then lookups in the zone it describes.
    static func tzif(_ input: FuzzInput) {
        ZoneDecoding.exercise(tzif: input.rest)
    }

    /// A POSIX TZ string (a TZif footer), then lookups under the rule.
    static func posixRule(_ input: FuzzInput) {
        ZoneDecoding.exercise(posixRule: input.text)
    }
}
