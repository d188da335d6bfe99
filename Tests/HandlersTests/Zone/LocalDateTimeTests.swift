import Testing
@testable import Handlers

/// Civil dates against day counts worked out independently (`date -u -d … +%s` / 86400).
@Suite struct LocalDateTimeTests {
    @Test func knownDays() {
        #expect(CivilCalendar.days(year: 1970, month: 1, day: 1) == 0)
        #expect(CivilCalendar.days(year: 1969, month: 12, day: 31) == -1)
        #expect(CivilCalendar.days(year: 2000, month: 3, day: 1) == 11_017)
        #expect(CivilCalendar.days(year: 2026, month: 3, day: 29) == 20_541)
        #expect(CivilCalendar.days(year: 2028, month: 2, day: 29) == 21_243)
        #expect(CivilCalendar.days(year: 1900, month: 1, day: 1) == -25_567)
        #expect(CivilCalendar.days(year: 2100, month: 1, day: 1) == 47_482)
        #expect(CivilCalendar.days(year: 0, month: 3, day: 1) == -719_468)
    }

    @Test func roundTripsEveryDayOverCenturies() {
        var previous: (year: Int64, month: Int64, day: Int64)?
        for days in Int64(-100_000)...Int64(100_000) {
            let civil = CivilCalendar.civil(fromDays: days)
            #expect(CivilCalendar.days(year: civil.year, month: civil.month, day: civil.day) == days)
            if let previous, civil.day != 1 {
                #expect(civil.day == previous.day + 1 && civil.month == previous.month)
            }
            previous = civil
        }
    }

    @Test func weekdaysCountFromSunday() {
        #expect(CivilCalendar.weekday(ofDay: 0) == 4)  // 1970-01-01, a Thursday
        #expect(CivilCalendar.weekday(ofDay: -1) == 3)
        #expect(CivilCalendar.weekday(ofDay: CivilCalendar.days(year: 2026, month: 11, day: 25)) == 3)
        #expect(CivilCalendar.weekday(ofDay: CivilCalendar.days(year: 2026, month: 3, day: 29)) == 0)
    }

    @Test func rejectsImpossibleWallTimes() {
        #expect(LocalDateTime(year: 2026, month: 2, day: 29, hour: 0, minute: 0) == nil)
        #expect(LocalDateTime(year: 2028, month: 2, day: 29, hour: 0, minute: 0) != nil)
        #expect(LocalDateTime(year: 2026, month: 13, day: 1, hour: 0, minute: 0) == nil)
        #expect(LocalDateTime(year: 2026, month: 4, day: 31, hour: 0, minute: 0) == nil)
        #expect(LocalDateTime(year: 2026, month: 1, day: 1, hour: 24, minute: 0) == nil)
        #expect(LocalDateTime(year: 2026, month: 1, day: 1, hour: 23, minute: 60) == nil)
        #expect(LocalDateTime(year: Int64.max, month: 1, day: 1, hour: 0, minute: 0) == nil)
        #expect(LocalDateTime(daysSinceEpoch: 0, minuteOfDay: 1440) == nil)
        #expect(LocalDateTime(daysSinceEpoch: Int64.max / 2, minuteOfDay: 0) == nil)
    }

    @Test func wallSecondsAndDescription() throws {
        let wall = try local(2026, 3, 29, 2, 30)
        #expect(wall.wallSeconds == 1_774_751_400)
        #expect(wall.description == "2026-03-29 02:30")
        #expect(LocalDateTime(daysSinceEpoch: 20_541, minuteOfDay: 150) == wall)
    }
}
