import Testing
@testable import Handlers
import SystemTime

/// Offsets and wall-time conversions of real zones, against values worked out from the rules
/// (checked once against Python's `zoneinfo`, then written down).
@Suite struct ZoneOffsetTests {
    /// 2026-03-29 01:00:00 UTC: Berlin goes from 02:00 CET to 03:00 CEST.
    static let berlinSpring: Int64 = 1_774_746_000
    /// 2026-10-25 01:00:00 UTC: Berlin goes from 03:00 CEST back to 02:00 CET.
    static let berlinFall: Int64 = 1_792_890_000

    @Test func berlin2026() throws {
        let berlin = try systemZone("Europe/Berlin")
        #expect(berlin.utcOffset(atUTC: 1_768_478_400) == 3600)  // 2026-01-15 12:00 UTC
        #expect(berlin.utcOffset(atUTC: 1_782_907_200) == 7200)  // 2026-07-01 12:00 UTC
        #expect(berlin.utcOffset(atUTC: Self.berlinSpring - 1) == 3600)
        #expect(berlin.utcOffset(atUTC: Self.berlinSpring) == 7200)
        #expect(berlin.utcOffset(atUTC: Self.berlinFall - 1) == 7200)
        #expect(berlin.utcOffset(atUTC: Self.berlinFall) == 3600)
        #expect(berlin.localTimeType(atUTC: Self.berlinSpring).abbreviation == "CEST")
        #expect(berlin.localTimeType(atUTC: Self.berlinFall).abbreviation == "CET")
        #expect(berlin.localTimeType(atUTC: Self.berlinSpring).isDST)
    }

    @Test func berlinBeforeItsFirstTransition() throws {
        let berlin = try systemZone("Europe/Berlin")
        // Local mean time, +0:53:28, until 1893-04-01 (time type 0).
        #expect(berlin.utcOffset(atUTC: -2_524_521_600) == 3208)  // 1890-01-01 UTC
        #expect(berlin.utcOffset(atUTC: -2_208_988_800) == 3600)  // 1900-01-01 UTC
    }

    @Test func newYork2026() throws {
        let newYork = try systemZone("America/New_York")
        #expect(newYork.utcOffset(atUTC: 1_768_435_200) == -18_000)  // 2026-01-15
        #expect(newYork.utcOffset(atUTC: 1_782_864_000) == -14_400)  // 2026-07-01
        #expect(newYork.utcOffset(atUTC: 1_772_953_199) == -18_000)  // 2026-03-08 06:59:59 UTC
        #expect(newYork.utcOffset(atUTC: 1_772_953_200) == -14_400)  // 07:00 UTC = 03:00 EDT
        #expect(newYork.utcOffset(atUTC: 1_793_512_799) == -14_400)  // 2026-11-01 05:59:59 UTC
        #expect(newYork.utcOffset(atUTC: 1_793_512_800) == -18_000)  // 06:00 UTC = 01:00 EST
    }

    @Test func kolkataHasNoDaylightSavingTime() throws {
        let kolkata = try systemZone("Asia/Kolkata")
        for instant in stride(from: Int64(1_767_225_600), to: 1_798_761_600, by: 86_400 * 7) {
            #expect(kolkata.utcOffset(atUTC: instant) == 19_800)
        }
    }

    @Test func lordHoweShiftsHalfAnHour() throws {
        let lordHowe = try systemZone("Australia/Lord_Howe")
        #expect(lordHowe.utcOffset(atUTC: 1_768_435_200) == 39_600)  // 2026-01-15, +11 summer
        #expect(lordHowe.utcOffset(atUTC: 1_782_864_000) == 37_800)  // 2026-07-01, +10:30
        #expect(lordHowe.utcOffset(atUTC: 4_103_654_400) == 39_600)  // 2100-01-15
        #expect(lordHowe.utcOffset(atUTC: 4_118_083_200) == 37_800)  // 2100-07-01
    }

    @Test func saoPauloDroppedDaylightSavingTimeIn2019() throws {
        let saoPaulo = try systemZone("America/Sao_Paulo")
        #expect(saoPaulo.utcOffset(atUTC: 1_515_974_400) == -7200)  // 2018-01-15, summer time then
        #expect(saoPaulo.utcOffset(atUTC: 1_768_435_200) == -10_800)  // 2026-01-15
        #expect(saoPaulo.utcOffset(atUTC: 4_103_654_400) == -10_800)  // 2100-01-15
    }

    @Test func year2100ComesFromTheFooterRule() throws {
        let berlin = try systemZone("Europe/Berlin")
        let lastTransition = try #require(berlin.transitions.last)
        #expect(lastTransition < 4_102_444_800)
        #expect(berlin.rule != nil)
        #expect(berlin.utcOffset(atUTC: 4_102_444_800) == 3600)  // 2100-01-01
        #expect(berlin.utcOffset(atUTC: 4_118_083_200) == 7200)  // 2100-07-01
        // Last Sunday of March 2100 is the 28th; the switch is 01:00 UTC.
        #expect(berlin.utcOffset(atUTC: 4_109_878_799) == 3600)
        #expect(berlin.utcOffset(atUTC: 4_109_878_800) == 7200)
        let newYork = try systemZone("America/New_York")
        #expect(newYork.utcOffset(atUTC: 4_118_083_200) == -14_400)
    }

    @Test(arguments: ["UTC", "Etc/UTC"])
    func utc(identifier: String) throws {
        let zone = try systemZone(identifier)
        for instant: Int64 in [Int64.min, -2_208_988_800, 0, 1_774_746_000, 4_118_083_200, Int64.max] {
            #expect(zone.utcOffset(atUTC: instant) == 0)
        }
        #expect(zone.utc(forLocal: try local(2026, 3, 29, 2, 30)) == 1_774_751_400)
    }

    @Test func extremeInstantsDoNotTrap() throws {
        for identifier in ["Europe/Berlin", "Australia/Lord_Howe", "America/Nuuk", "Asia/Jerusalem"] {
            let zone = try systemZone(identifier)
            for instant: Int64 in [Int64.min, Int64.min + 1, -(1 << 62), 1 << 62, Int64.max - 1, Int64.max] {
                #expect(ZoneInfo.offsets.contains(zone.utcOffset(atUTC: instant)))
            }
        }
    }
}

/// Wall time to UTC: once, twice (fall back) or never (spring forward).
@Suite struct LocalConversionTests {
    @Test func berlinSpringForwardGap() throws {
        let berlin = try systemZone("Europe/Berlin")
        #expect(berlin.utcInstants(forLocal: try local(2026, 3, 29, 2, 30)) == .skipped(next: 1_774_746_000))
        #expect(berlin.utcInstants(forLocal: try local(2026, 3, 29, 2, 0)) == .skipped(next: 1_774_746_000))
        #expect(berlin.utcInstants(forLocal: try local(2026, 3, 29, 1, 59)) == .unique(1_774_745_940))
        #expect(berlin.utcInstants(forLocal: try local(2026, 3, 29, 3, 0)) == .unique(1_774_746_000))
        // The skipped wall time converts to the first instant that exists after it: 03:00 CEST.
        #expect(berlin.utc(forLocal: try local(2026, 3, 29, 2, 30)) == 1_774_746_000)
    }

    @Test func berlinFallBackOverlap() throws {
        let berlin = try systemZone("Europe/Berlin")
        #expect(berlin.utcInstants(forLocal: try local(2026, 10, 25, 2, 30)) == .ambiguous(earlier: 1_792_888_200, later: 1_792_891_800))
        #expect(berlin.utcInstants(forLocal: try local(2026, 10, 25, 2, 0)) == .ambiguous(earlier: 1_792_886_400, later: 1_792_890_000))
        #expect(berlin.utcInstants(forLocal: try local(2026, 10, 25, 1, 59)) == .unique(1_792_886_340))
        #expect(berlin.utcInstants(forLocal: try local(2026, 10, 25, 3, 0)) == .unique(1_792_893_600))
        #expect(berlin.utc(forLocal: try local(2026, 10, 25, 2, 30)) == 1_792_888_200)
    }

    @Test func newYork() throws {
        let newYork = try systemZone("America/New_York")
        #expect(newYork.utc(forLocal: try local(2026, 3, 8, 2, 30)) == 1_772_953_200)  // → 03:00 EDT
        #expect(newYork.utcInstants(forLocal: try local(2026, 11, 1, 1, 30)) == .ambiguous(earlier: 1_793_511_000, later: 1_793_514_600))
        #expect(newYork.utc(forLocal: try local(2026, 7, 4, 12, 0)) == 1_783_180_800)
    }

    @Test func lordHoweHalfHourGapAndOverlap() throws {
        let lordHowe = try systemZone("Australia/Lord_Howe")
        // 2026-04-05 02:00 +11 → 01:30 +10:30: 01:30...01:59 happen twice.
        #expect(lordHowe.utcInstants(forLocal: try local(2026, 4, 5, 1, 30)) == .ambiguous(earlier: 1_775_313_000, later: 1_775_314_800))
        // 2026-10-04 02:00 +10:30 → 02:30 +11: 02:00...02:29 never happen.
        #expect(lordHowe.utcInstants(forLocal: try local(2026, 10, 4, 2, 0)) == .skipped(next: 1_791_041_400))
        #expect(lordHowe.utcInstants(forLocal: try local(2026, 10, 4, 2, 29)) == .skipped(next: 1_791_041_400))
    }

    @Test func kolkataIsAlwaysUnique() throws {
        let kolkata = try systemZone("Asia/Kolkata")
        #expect(kolkata.utcInstants(forLocal: try local(2026, 6, 1, 5, 30)) == .unique(1_780_272_000))
    }

    /// Every quarter hour of 2026 in a few zones: the wall time of a real instant is never
    /// skipped, and converts back to that instant (one of two in a repeated hour).
    @Test(arguments: ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Nuuk", "Asia/Jerusalem"])
    func roundTripsAYear(identifier: String) throws {
        let zone = try systemZone(identifier)
        var overlaps = 0
        for instant in stride(from: Int64(1_767_225_600), to: 1_798_761_600, by: 900) {
            let wall = instant + Int64(zone.utcOffset(atUTC: instant))
            let days = wall.floorDivided(by: 86_400)
            let local = try #require(LocalDateTime(daysSinceEpoch: days, minuteOfDay: Int((wall - days * 86_400) / 60)))
            switch zone.utcInstants(forLocal: local) {
            case .unique(let found):
                #expect(found == instant)
            case .ambiguous(let earlier, let later):
                overlaps += 1
                #expect(earlier == instant || later == instant)
                #expect(earlier < later)
            case .skipped:
                Issue.record("\(local) is the wall time of \(instant), so it was not skipped")
            }
        }
        #expect(overlaps > 0)
    }
}

/// Names are checked before any file is opened.
@Suite struct ZoneIdentifierTests {
    @Test(arguments: [
        "../../etc/passwd", "/etc/passwd", "Europe/../../x", "", String(repeating: "A", count: 200),
        "Europe/Berlin\0", "Europe/Berlin\0/../../etc/passwd", "Europe//Berlin", "Europe/Berlin/", "./UTC",
        "Europe/.", ".", "..", "-UTC", "Europe/-Berlin", "Europe Berlin", "Europe/Berlín", "zone.tab", "Europe\\Berlin",
        "Europe", "Nowhere/Atlantis",
    ])
    func refused(identifier: String) {
        #expect(ZoneInfo.load(identifier: identifier, source: ZoneDirectory()) == nil)
    }

    @Test func shapes() {
        #expect(ZoneInfo.isValidIdentifier("Etc/GMT+5"))
        #expect(ZoneInfo.isValidIdentifier("Etc/GMT-14"))
        #expect(ZoneInfo.isValidIdentifier("America/Argentina/Buenos_Aires"))
        #expect(ZoneInfo.isValidIdentifier("America/Port-au-Prince"))
        #expect(ZoneInfo.isValidIdentifier(String(repeating: "A", count: 64)))
        #expect(!ZoneInfo.isValidIdentifier(String(repeating: "A", count: 65)))
        #expect(!ZoneInfo.isValidIdentifier("../UTC"))
    }

    @Test(arguments: ["Etc/GMT+5", "Etc/GMT-14", "America/Argentina/Buenos_Aires", "America/Port-au-Prince", "GMT0", "Asia/Kathmandu"])
    func loads(identifier: String) {
        #expect(ZoneInfo.load(identifier: identifier, source: ZoneDirectory()) != nil)
    }

    @Test func etcGMTSignsAreInverted() throws {
        #expect(try systemZone("Etc/GMT+5").utcOffset(atUTC: 0) == -18_000)
        #expect(try systemZone("Etc/GMT-14").utcOffset(atUTC: 0) == 50_400)
    }
}
