import Testing
@testable import WebPush

@Suite struct RetryAfterTests {
    /// 1994-11-06T08:49:37Z, RFC 9110's example date.
    static let example: Int64 = 784_111_777

    @Test func deltaSeconds() {
        #expect(RetryAfter.milliseconds("3", now: 0) == 3000)
        #expect(RetryAfter.milliseconds(" 120 ", now: 0) == 120_000)
        #expect(RetryAfter.milliseconds("0", now: 0) == 0)
        // More than a day is capped at a day.
        #expect(RetryAfter.milliseconds("999999999999999999999", now: 0) == 86_400_000)
        #expect(RetryAfter.milliseconds("90000", now: 0) == 86_400_000)
    }

    @Test(arguments: ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"])
    func httpDates(_ value: String) {
        #expect(HTTPDate.secondsSince1970(Array(value.utf8), now: Self.example) == Self.example)
        #expect(RetryAfter.milliseconds(value, now: Self.example - 5) == 5000)
        // A date already past means no wait.
        #expect(RetryAfter.milliseconds(value, now: Self.example + 60) == 0)
    }

    @Test func knownDates() {
        #expect(HTTPDate.secondsSince1970(Array("Thu, 01 Jan 1970 00:00:00 GMT".utf8), now: 0) == 0)
        #expect(HTTPDate.secondsSince1970(Array("Tue, 29 Feb 2000 12:00:00 GMT".utf8), now: 0) == 951_825_600)
        #expect(HTTPDate.secondsSince1970(Array("Fri, 31 Dec 2027 23:59:59 GMT".utf8), now: 0) == 1_830_297_599)
        // A two-digit year more than 50 years ahead is in the past century (RFC 9110 §5.6.7).
        let in2025: Int64 = 1_750_000_000
        #expect(HTTPDate.secondsSince1970(Array("Friday, 01-Jan-99 00:00:00 GMT".utf8), now: in2025) == 915_148_800)
        #expect(HTTPDate.secondsSince1970(Array("Thursday, 01-Jan-70 00:00:00 GMT".utf8), now: in2025) == 3_155_760_000)
        #expect(HTTPDate.secondsSince1970(Array("Saturday, 01-Jan-30 00:00:00 GMT".utf8), now: in2025) == 1_893_456_000)
        #expect(HTTPDate.civilYear(secondsSince1970: in2025) == 2025)
        #expect(HTTPDate.civilYear(secondsSince1970: 1_893_455_999) == 2029)
    }

    @Test(arguments: ["", "soon", "-1", "1.5", "Sun, 06 Nov 1994 08:49 GMT", "Sun, 32 Nov 1994 08:49:37 GMT",
                      "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT", "06 Nov 1994"])
    func garbage(_ value: String) {
        #expect(RetryAfter.milliseconds(value, now: Self.example) == nil)
    }
}
