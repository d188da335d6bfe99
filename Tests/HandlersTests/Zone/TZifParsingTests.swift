#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import Handlers
import SystemTime

/// TZif files built byte by byte, to reach the version 1 path, footer-only zones and every
/// way a file can be malformed.
@Suite struct TZifParsingTests {
    /// One transition at the epoch from UTC to +01:00 "ABC".
    static func oneTransition(footer: String?) -> TZifBuilder {
        var builder = TZifBuilder()
        builder.transitions = [0]
        builder.transitionTypes = [1]
        builder.types = [
            .init(offset: 0, isDST: false, abbreviationIndex: 0),
            .init(offset: 3600, isDST: false, abbreviationIndex: 4),
        ]
        builder.abbreviations = "UTC\0ABC\0"
        builder.footer = footer
        return builder
    }

    @Test func versionOneFile() throws {
        let zone = try #require(ZoneInfo(tzif: Self.oneTransition(footer: nil).bytes()))
        #expect(zone.rule == nil)
        #expect(zone.utcOffset(atUTC: -1) == 0)
        #expect(zone.utcOffset(atUTC: 0) == 3600)
        #expect(zone.utcOffset(atUTC: 4_118_083_200) == 3600)
        #expect(zone.localTimeType(atUTC: 5).abbreviation == "ABC")
    }

    @Test func versionTwoWithEmptyFooterKeepsTheLastType() throws {
        let zone = try #require(ZoneInfo(tzif: Self.oneTransition(footer: "").bytes()))
        #expect(zone.rule == nil)
        #expect(zone.utcOffset(atUTC: 4_118_083_200) == 3600)
    }

    /// The version 1 block is skipped by its own counts: here it says the opposite of the
    /// 64-bit block, and only the 64-bit block may be believed.
    @Test func versionTwoReadsTheSecondBlock() throws {
        var bytes = Self.oneTransition(footer: "").bytes()
        // The v1 block's only type offset (of type 1) sits after header (44), one 4-byte time,
        // one index byte and type 0 (6 bytes).
        let v1TypeOne = 44 + 4 + 1 + 6
        bytes[v1TypeOne + 3] = 0x20  // 3600 → 3616 in the v1 block only
        let zone = try #require(ZoneInfo(tzif: bytes))
        #expect(zone.utcOffset(atUTC: 10) == 3600)
    }

    @Test func footerOnlyZone() throws {
        var builder = TZifBuilder()
        builder.types = [.init(offset: 3600, isDST: false, abbreviationIndex: 0)]
        builder.abbreviations = "CET\0"
        builder.footer = "CET-1CEST,M3.5.0,M10.5.0/3"
        let zone = try #require(ZoneInfo(tzif: builder.bytes()))
        #expect(zone.transitions.isEmpty)
        #expect(zone.utcOffset(atUTC: 1_774_745_999) == 3600)
        #expect(zone.utcOffset(atUTC: 1_774_746_000) == 7200)
        #expect(zone.utc(forLocal: try local(2026, 3, 29, 2, 30)) == 1_774_746_000)
        #expect(zone.utcOffset(atUTC: 4_118_083_200) == 7200)
    }

    @Test func rejectsMalformedFiles() {
        let good = Self.oneTransition(footer: "ABC-1")
        #expect(ZoneInfo(tzif: good.bytes()) != nil)
        var cases: [(String, [UInt8])] = []

        var bytes = good.bytes()
        bytes[0] = UInt8(ascii: "X")
        cases.append(("magic", bytes))
        bytes = good.bytes()
        bytes[4] = UInt8(ascii: "1")
        cases.append(("version 1 is written as NUL", bytes))

        var builder = good
        builder.transitionTypes = [2]
        cases.append(("type index out of range", builder.bytes()))
        builder = good
        builder.types[1].abbreviationIndex = 8
        cases.append(("abbreviation index past the table", builder.bytes()))
        builder = good
        builder.abbreviations = "UTC\0ABC"
        cases.append(("abbreviation not terminated", builder.bytes()))
        builder = good
        builder.transitions = [10, 5]
        builder.transitionTypes = [1, 0]
        cases.append(("transitions out of order", builder.bytes()))
        builder = good
        builder.types[1].offset = Int32.min
        cases.append(("offset out of range", builder.bytes()))
        builder = good
        builder.types = []
        builder.transitions = []
        builder.transitionTypes = []
        cases.append(("no types", builder.bytes()))
        builder = good
        builder.footer = "ABC-1ABD"
        cases.append(("footer without a rule", builder.bytes()))

        bytes = good.bytes()
        bytes.removeLast()
        cases.append(("footer not terminated", bytes))
        builder = good
        builder.leapRecords = 1
        cases.append(("leap seconds", builder.bytes()))
        cases.append(("empty", []))
        cases.append(("only the magic", Array("TZif2".utf8)))

        for (name, bytes) in cases {
            #expect(ZoneInfo(tzif: bytes) == nil, "\(name)")
        }
    }

    @Test func refusesOversizedInput() {
        var bytes = Self.oneTransition(footer: "").bytes()
        bytes.append(contentsOf: [UInt8](repeating: 0, count: ZoneInfo.maxFileSize))
        #expect(ZoneInfo(tzif: bytes) == nil)
    }
}

/// Loading from a zone root: a copy of a real file works, anything short or odd does not.
@Suite struct ZoneFileTests {
    @Test func loadsFromAnotherRootAndRefusesBadFiles() throws {
        let berlin = try #require(readWholeFile(systemZoneRoot + "/Europe/Berlin"))
        var root = try TemporaryRoot()
        defer { root.remove() }
        try root.write("Test/Full", berlin)
        try root.write("Test/Truncated", Array(berlin.prefix(berlin.count / 2)))
        try root.write("Test/Empty", [])
        try root.write("Test/Text", Array("not a zone\n".utf8))
        var huge = Array(berlin.prefix(44))
        huge.append(contentsOf: [UInt8](repeating: 0, count: ZoneInfo.maxFileSize))
        try root.write("Test/Huge", huge)

        let copy = try #require(ZoneInfo.load(identifier: "Test/Full", source: ZoneDirectory(root: root.path)))
        #expect(copy.utcOffset(atUTC: 1_774_746_000) == 7200)
        #expect(ZoneInfo.load(identifier: "Test/Full", source: ZoneDirectory(root: root.path + "/")) != nil)
        for name in ["Test/Truncated", "Test/Empty", "Test/Text", "Test/Huge", "Test", "Test/Missing"] {
            #expect(ZoneInfo.load(identifier: name, source: ZoneDirectory(root: root.path)) == nil, "\(name)")
        }
        #expect(ZoneInfo.load(identifier: "Europe/Berlin", source: ZoneDirectory(root: root.path)) == nil)
    }

    /// Every truncation of a real file is refused, and none traps.
    @Test func everyTruncationIsRefused() throws {
        let berlin = try #require(readWholeFile(systemZoneRoot + "/Europe/Berlin"))
        #expect(ZoneInfo(tzif: berlin) != nil)
        for length in 0..<berlin.count {
            #expect(ZoneInfo(tzif: Array(berlin.prefix(length))) == nil, "length \(length)")
        }
    }

    /// Random bit flips in real files: whatever parses must answer every question without
    /// trapping, with offsets in range and held mail released after now.
    @Test(arguments: ["Europe/Berlin", "Australia/Lord_Howe", "America/Sao_Paulo", "Asia/Kolkata"])
    func bitFlipsNeverTrap(identifier: String) throws {
        let original = try #require(readWholeFile(systemZoneRoot + "/" + identifier))
        var generator = SplitMix64(state: 0x5EED_0000 &+ UInt64(original.count))
        let quiet = QuietHours(start: 22 * 60, end: 7 * 60, timeZone: identifier)
        var parsed = 0
        for _ in 0..<400 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                bytes[index] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &generator)
            }
            if Bool.random(using: &generator) {
                bytes.removeLast(Int.random(in: 0..<bytes.count, using: &generator))
            }
            guard let zone = ZoneInfo(tzif: bytes) else { continue }
            parsed += 1
            for instant: Int64 in [Int64.min, -2_208_988_800, 0, 1_774_746_000, 4_118_083_200, Int64.max] {
                #expect(ZoneInfo.offsets.contains(zone.utcOffset(atUTC: instant)))
            }
            _ = zone.utc(forLocal: try local(2026, 3, 29, 2, 30))
            _ = zone.utc(forLocal: try local(1900, 1, 1, 0, 0))
            let now: Int64 = 1_774_740_000_000
            if let until = quiet.holdUntil(nowUTCMilliseconds: now, zone: zone) {
                #expect(until > now)
            }
        }
        // Flips in abbreviations, padding and far-past transitions still parse.
        #expect(parsed > 0)
    }

    /// Random bytes after a valid header, to reach the count and block checks.
    @Test func randomBlocksNeverTrap() {
        var generator = SplitMix64(state: 42)
        for _ in 0..<500 {
            var bytes = Array("TZif2".utf8) + [UInt8](repeating: 0, count: 15)
            for _ in 0..<6 {
                bytes += [0, 0, 0, UInt8.random(in: 0...8, using: &generator)]
            }
            for _ in 0..<Int.random(in: 0...200, using: &generator) {
                bytes.append(UInt8.random(in: 0...255, using: &generator))
            }
            if let zone = ZoneInfo(tzif: bytes) {
                _ = zone.utcOffset(atUTC: 1_774_746_000)
            }
        }
    }
}
