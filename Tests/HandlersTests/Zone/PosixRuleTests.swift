import Testing
@testable import Handlers

/// TZ strings from TZif footers, parsed and evaluated on their own (no transition table).
@Suite struct PosixRuleTests {
    typealias Rule = ZoneInfo.PosixRule

    func rule(_ text: String) throws -> Rule {
        try #require(Rule(text), "\(text) should parse")
    }

    /// The offset at `instant`, from the rule alone.
    func offset(_ text: String, _ instant: Int64) throws -> Int32 {
        try rule(text).localTimeType(atUTC: instant).utcOffset
    }

    @Test func centralEurope() throws {
        let text = "CET-1CEST,M3.5.0,M10.5.0/3"
        let parsed = try rule(text)
        #expect(parsed.standard == ZoneInfo.LocalTimeType(utcOffset: 3600, isDST: false, abbreviation: "CET"))
        #expect(parsed.daylight?.type == ZoneInfo.LocalTimeType(utcOffset: 7200, isDST: true, abbreviation: "CEST"))
        #expect(try offset(text, 1_774_745_999) == 3600)
        #expect(try offset(text, 1_774_746_000) == 7200)
        #expect(try offset(text, 1_792_889_999) == 7200)
        #expect(try offset(text, 1_792_890_000) == 3600)
    }

    @Test func bracketedNamesAndMinutes() throws {
        let india = try rule("<+0530>-5:30")
        #expect(india.standard.utcOffset == 19_800)
        #expect(india.standard.abbreviation == "+0530")
        #expect(india.daylight == nil)
        #expect(try offset("<-03>3", 1_768_435_200) == -10_800)
        #expect(try offset("<+0545>-5:45", 0) == 20_700)
        #expect(try offset("UTC0", 0) == 0)
        #expect(try offset("XXX-1:02:03", 0) == 3723)
    }

    @Test func usEastern() throws {
        let text = "EST5EDT,M3.2.0,M11.1.0"
        #expect(try rule(text).daylight?.type.utcOffset == -14_400)  // one hour ahead by default
        #expect(try offset(text, 1_772_953_199) == -18_000)
        #expect(try offset(text, 1_772_953_200) == -14_400)
        #expect(try offset(text, 1_793_512_799) == -14_400)
        #expect(try offset(text, 1_793_512_800) == -18_000)
    }

    /// Southern hemisphere (starts in October, ends in April) with a half-hour shift.
    @Test func lordHowe() throws {
        let text = "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0"
        #expect(try offset(text, 1_768_435_200) == 39_600)  // 2026-01-15
        #expect(try offset(text, 1_782_864_000) == 37_800)  // 2026-07-01
        #expect(try offset(text, 1_791_041_399) == 37_800)  // 2026-10-04 02:00 +10:30, less a second
        #expect(try offset(text, 1_791_041_400) == 39_600)
        #expect(try offset(text, 1_775_314_799) == 39_600)  // 2026-04-05 02:00 +11, less a second
        #expect(try offset(text, 1_775_314_800) == 37_800)
    }

    /// Nuuk switches at -1:00, i.e. 23:00 on the Saturday before the last Sunday of March.
    @Test func negativeTransitionTime() throws {
        let text = "<-02>2<-01>,M3.5.0/-1,M10.5.0/0"
        #expect(try offset(text, 1_774_745_999) == -7200)
        #expect(try offset(text, 1_774_746_000) == -3600)
        #expect(try offset(text, 1_792_889_999) == -3600)
        #expect(try offset(text, 1_792_890_000) == -7200)
    }

    /// Jerusalem starts at 26:00 on the fourth Thursday of March (02:00 Friday); Cairo ends
    /// at 24:00 on the last Thursday of October.
    @Test func transitionTimesPastMidnight() throws {
        let israel = "IST-2IDT,M3.4.4/26,M10.5.0"
        #expect(try offset(israel, 1_774_569_599) == 7200)
        #expect(try offset(israel, 1_774_569_600) == 10_800)
        let egypt = "EET-2EEST,M4.5.5/0,M10.5.4/24"
        #expect(try offset(egypt, 1_776_981_599) == 7200)
        #expect(try offset(egypt, 1_776_981_600) == 10_800)
        #expect(try offset(egypt, 1_793_307_599) == 10_800)
        #expect(try offset(egypt, 1_793_307_600) == 7200)
    }

    /// RFC 8536 §3.3.1: starting January 1 at 00:00 and ending December 31 at 24:00 plus the
    /// shift means daylight saving time all year, with no instant of standard time between.
    @Test func daylightSavingTimeAllYear() throws {
        let text = "EST5EDT,0/0,J365/25"
        for instant in stride(from: Int64(1_767_225_600 - 86_400), to: 1_798_761_600 + 86_400, by: 3600) {
            #expect(try offset(text, instant) == -14_400)
        }
        // The year boundary itself: 2027-01-01 00:00 EST would be 05:00 UTC.
        #expect(try offset(text, 1_798_779_600) == -14_400)
        #expect(try offset(text, 1_798_779_599) == -14_400)
    }

    @Test func dayForms() {
        typealias Day = ZoneInfo.PosixRule.RuleDay
        // Jn never counts February 29: J60 is March 1 in every year.
        #expect(Day.julian(60).daysSinceEpoch(in: 2028) == 21_244)
        #expect(Day.julian(60).daysSinceEpoch(in: 2027) == 20_878)
        #expect(Day.julian(365).daysSinceEpoch(in: 2027) == 21_183)
        #expect(Day.julian(365).daysSinceEpoch(in: 2028) == 21_549)
        // n counts from zero and does count February 29.
        #expect(Day.zeroBased(59).daysSinceEpoch(in: 2028) == 21_243)
        #expect(Day.zeroBased(59).daysSinceEpoch(in: 2027) == 20_878)
        #expect(Day.zeroBased(365).daysSinceEpoch(in: 2028) == 21_549)
        #expect(Day.zeroBased(0).daysSinceEpoch(in: 1970) == 0)
        // Mm.w.d: week 5 is the last such weekday of the month.
        #expect(Day.monthWeekDay(month: 3, week: 5, weekday: 0).daysSinceEpoch(in: 2026) == 20_541)
        #expect(Day.monthWeekDay(month: 3, week: 5, weekday: 0).daysSinceEpoch(in: 2100) == 47_568)
        #expect(Day.monthWeekDay(month: 3, week: 2, weekday: 0).daysSinceEpoch(in: 2026) == 20_520)
        #expect(Day.monthWeekDay(month: 11, week: 1, weekday: 0).daysSinceEpoch(in: 2026) == 20_758)
    }

    @Test func julianAndZeroBasedRules() throws {
        // Daylight time from March 1 (J60) 00:00 to day 300 (zero-based) 00:00, in a leap year.
        let text = "AAA0BBB,J60/0,300/0"
        #expect(try offset(text, 21_244 * 86_400 - 1) == 0)
        #expect(try offset(text, 21_244 * 86_400) == 3600)
        let day300 = CivilCalendar.days(year: 2028, month: 1, day: 1) + 300
        #expect(try offset(text, day300 * 86_400 - 3600 - 1) == 3600)
        #expect(try offset(text, day300 * 86_400 - 3600) == 0)
    }

    @Test(arguments: [
        "", "CET", "CE-1", "CET-1CEST", "CET-25", "CET-1CEST,M13.1.0,M10.5.0", "CET-1CEST,M3.6.0,M10.5.0",
        "CET-1CEST,M3.5.7,M10.5.0", "CET-1CEST,M3.5.0,M10.5.0/168", "CET-1:5", "CET-1:60", "<+0530-5:30",
        "<+05>", "CET-1CEST,M3.5.0", "CET-1CEST,J0,J365", "CET-1CEST,366,0", "CET-1 ", "CET-1CEST,M3.5.0,M10.5.0/3x",
        "CET-1CEST-2-3", "C\u{E9}T-1", "1CET",
    ])
    func malformed(text: String) {
        #expect(Rule(text) == nil)
    }
}
