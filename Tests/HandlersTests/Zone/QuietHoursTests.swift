import Testing
@testable import Handlers

/// `HH:MM` parsing and formatting.
@Suite struct QuietHoursClockTests {
    @Test func parsesValidClocks() {
        #expect(QuietHours.parseClock("00:00") == 0)
        #expect(QuietHours.parseClock("07:00") == 420)
        #expect(QuietHours.parseClock("22:30") == 1350)
        #expect(QuietHours.parseClock("23:59") == 1439)
    }

    @Test(arguments: [
        "24:00", "7:00", "07:0", " 07:00", "07:00 ", "07-00", "0700", "", "07:60", "99:99", "-1:00", "+7:00",
        "07:00:00", "０７:００", "٠٧:٠٠", "07\u{0}00", "07：00", "ab:cd",
    ])
    func refusesMalformedClocks(text: String) {
        #expect(QuietHours.parseClock(text) == nil)
    }

    @Test func formatsAndRoundTrips() {
        #expect(QuietHours.formatClock(0) == "00:00")
        #expect(QuietHours.formatClock(425) == "07:05")
        #expect(QuietHours.formatClock(1439) == "23:59")
        for minutes in 0..<1440 {
            #expect(QuietHours.parseClock(QuietHours.formatClock(minutes)) == minutes)
        }
        // Out-of-range values still print as a clock time rather than trapping.
        #expect(QuietHours.formatClock(1440) == "00:00")
        #expect(QuietHours.formatClock(-1) == "23:59")
        #expect(QuietHours.formatClock(Int.min) != "")
    }
}

/// When held mail goes out, against instants worked out by hand from the zones' rules.
@Suite struct QuietHoursHoldTests {
    func hold(_ start: String, _ end: String, _ identifier: String, atUTC seconds: Int64) throws -> Int64? {
        let quiet = QuietHours(
            start: try #require(QuietHours.parseClock(start)), end: try #require(QuietHours.parseClock(end)),
            timeZone: identifier
        )
        return quiet.holdUntil(nowUTCMilliseconds: seconds * 1000, zone: try systemZone(identifier))
    }

    @Test func acrossMidnightInWinter() throws {
        // 2026-01-15 23:00 CET → 2026-01-16 07:00 CET (06:00 UTC).
        #expect(try hold("22:00", "07:00", "Europe/Berlin", atUTC: 1_768_514_400) == 1_768_543_200_000)
        // Exactly the start is inside; a minute before is not.
        #expect(try hold("22:00", "07:00", "Europe/Berlin", atUTC: 1_768_510_800) == 1_768_543_200_000)
        #expect(try hold("22:00", "07:00", "Europe/Berlin", atUTC: 1_768_510_740) == nil)
        // After midnight the end is later the same day.
        #expect(try hold("22:00", "07:00", "Europe/Berlin", atUTC: 1_768_543_140) == 1_768_543_200_000)
        // Exactly the end is outside.
        #expect(try hold("22:00", "07:00", "Europe/Berlin", atUTC: 1_768_543_200) == nil)
        // Noon is outside.
        #expect(try hold("22:00", "07:00", "Europe/Berlin", atUTC: 1_768_478_400) == nil)
    }

    @Test func lastMillisecondBeforeTheEnd() throws {
        let quiet = QuietHours(start: 22 * 60, end: 7 * 60, timeZone: "Europe/Berlin")
        let berlin = try systemZone("Europe/Berlin")
        #expect(quiet.holdUntil(nowUTCMilliseconds: 1_768_543_199_999, zone: berlin) == 1_768_543_200_000)
        #expect(quiet.holdUntil(nowUTCMilliseconds: 1_768_543_200_000, zone: berlin) == nil)
    }

    @Test func sameDay() throws {
        // New York, 2026-07-01 (EDT, UTC-4): 09:00–17:00 is 13:00–21:00 UTC.
        #expect(try hold("09:00", "17:00", "America/New_York", atUTC: 1_782_921_600) == 1_782_939_600_000)
        #expect(try hold("09:00", "17:00", "America/New_York", atUTC: 1_782_910_800) == 1_782_939_600_000)
        #expect(try hold("09:00", "17:00", "America/New_York", atUTC: 1_782_910_740) == nil)
        #expect(try hold("09:00", "17:00", "America/New_York", atUTC: 1_782_939_600) == nil)
        #expect(try hold("09:00", "17:00", "America/New_York", atUTC: 1_782_950_400) == nil)
    }

    @Test func halfHourZone() throws {
        // Kolkata 2026-06-01 23:30 IST → 2026-06-02 06:00 IST (00:30 UTC).
        #expect(try hold("23:00", "06:00", "Asia/Kolkata", atUTC: 1_780_336_800) == 1_780_360_200_000)
    }

    /// Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
    @Test func berlinSpringForward() throws {
        // 01:45 CET in 01:30–02:30: 02:30 never comes, so quiet ends at the jump, 03:00 CEST.
        #expect(try hold("01:30", "02:30", "Europe/Berlin", atUTC: 1_774_745_100) == 1_774_746_000_000)
        #expect(try hold("01:30", "02:30", "Europe/Berlin", atUTC: 1_774_744_140) == nil)  // 01:29 CET
        #expect(try hold("01:30", "02:30", "Europe/Berlin", atUTC: 1_774_746_000) == nil)  // 03:00 CEST
        // From the evening before, across midnight, the same way.
        #expect(try hold("22:00", "02:30", "Europe/Berlin", atUTC: 1_774_735_200) == 1_774_746_000_000)
        // An end after the gap is that wall time in summer time: 03:30 CEST is 01:30 UTC.
        #expect(try hold("22:00", "03:30", "Europe/Berlin", atUTC: 1_774_735_200) == 1_774_747_800_000)
        // The night is an hour shorter: 22:00 CET → 07:00 CEST is 8 hours.
        #expect(try hold("22:00", "07:00", "Europe/Berlin", atUTC: 1_774_731_600) == 1_774_760_400_000)
        // A period wholly inside the gap never holds anything on that night.
        for minute in stride(from: Int64(0), to: 180, by: 5) {
            #expect(try hold("02:10", "02:50", "Europe/Berlin", atUTC: 1_774_742_400 + minute * 60) == nil)
        }
    }

    /// Berlin, 2026-10-25: 03:00 CEST goes back to 02:00 CET at 01:00 UTC.
    @Test func berlinFallBack() throws {
        // 01:45 CEST: the first 02:30 (CEST, 00:30 UTC) ends it.
        #expect(try hold("01:30", "02:30", "Europe/Berlin", atUTC: 1_792_885_500) == 1_792_888_200_000)
        // 02:45 CEST is outside; then 02:10 CET is inside again until the second 02:30.
        #expect(try hold("01:30", "02:30", "Europe/Berlin", atUTC: 1_792_889_100) == nil)
        #expect(try hold("01:30", "02:30", "Europe/Berlin", atUTC: 1_792_890_600) == 1_792_891_800_000)
        #expect(try hold("01:30", "02:30", "Europe/Berlin", atUTC: 1_792_891_800) == nil)  // 02:30 CET
        // The night is an hour longer: 23:00 CEST → 07:00 CET is 9 hours.
        #expect(try hold("22:00", "07:00", "Europe/Berlin", atUTC: 1_792_875_600) == 1_792_908_000_000)
    }

    @Test func lordHoweHalfHourShift() throws {
        // 2026-10-04 01:45 +10:30 in 01:30–02:15: 02:15 never comes, ends at the jump (15:30 UTC).
        #expect(try hold("01:30", "02:15", "Australia/Lord_Howe", atUTC: 1_791_041_400 - 900) == 1_791_041_400_000)
    }

    /// Past any real date the rules cannot give a later end: mail is held one more minute.
    @Test func heldOneMoreMinuteWhenTheRulesGiveNothingLater() throws {
        let utc = try systemZone("UTC")
        let now = Int64.max - 1_000_000_000
        // The instant is clamped to 2^50 seconds, 18:57 UTC on its day.
        let quiet = QuietHours(start: 18 * 60, end: 19 * 60, timeZone: "UTC")
        #expect(quiet.holdUntil(nowUTCMilliseconds: now, zone: utc) == now + 60_000)
        #expect(quiet.holdUntil(nowUTCMilliseconds: Int64.max, zone: utc) == Int64.max)
        _ = quiet.holdUntil(nowUTCMilliseconds: Int64.min, zone: utc)
    }

    @Test func refusesPeriodsTheCallerShouldNotHaveMade() throws {
        let utc = try systemZone("UTC")
        for (start, end) in [(60, 60), (-1, 60), (60, 1440), (2000, 60)] {
            let quiet = QuietHours(start: start, end: end, timeZone: "UTC")
            #expect(quiet.holdUntil(nowUTCMilliseconds: 3_600_000 * 5, zone: utc) == nil)
        }
    }

    /// Around every 2026 transition in a few zones, every quarter hour, several periods: the
    /// answer is nil exactly outside, later than now, at most a day and a bit ahead, inside
    /// the period a minute before it and outside at it.
    @Test(arguments: ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Nuuk", "Asia/Jerusalem"])
    func sweepAroundTransitions(identifier: String) throws {
        let zone = try systemZone(identifier)
        let periods = [(1320, 420), (90, 150), (120, 180), (135, 165), (0, 150), (150, 90), (540, 1020), (1380, 60)]
        func wallMinute(_ seconds: Int64) -> Int {
            let wall = seconds + Int64(zone.utcOffset(atUTC: seconds))
            return Int((wall - wall.floorDivided(by: 86_400) * 86_400) / 60)
        }
        let ranges: [Range<Int64>] = [1_772_323_200..<1_775_606_400, 1_790_985_600..<1_794_268_800]  // Mar 1–Apr 8, Oct 3–Nov 10
        for range in ranges {
            for now in stride(from: range.lowerBound, to: range.upperBound, by: 900) {
                for (start, end) in periods {
                    let quiet = QuietHours(start: start, end: end, timeZone: identifier)
                    let until = quiet.holdUntil(nowUTCMilliseconds: now * 1000, zone: zone)
                    let inside = quiet.contains(minuteOfDay: wallMinute(now))
                    #expect((until != nil) == inside)
                    guard let until else { continue }
                    #expect(until > now * 1000)
                    #expect(until <= (now + 26 * 3600) * 1000)
                    #expect(until % 60_000 == 0)
                    let endSeconds = until / 1000
                    #expect(!quiet.contains(minuteOfDay: wallMinute(endSeconds)), "\(identifier) \(start)-\(end) at \(now)")
                    if endSeconds - 60 >= now {
                        #expect(quiet.contains(minuteOfDay: wallMinute(endSeconds - 60)), "\(identifier) \(start)-\(end) at \(now)")
                    }
                }
            }
        }
    }
}
