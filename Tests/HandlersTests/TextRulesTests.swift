import Handlers
import Testing

@Suite struct TextRulesTests {
    @Test func foldsBeyondLowercasing() {
        #expect(TextRules.fold("Straße") == TextRules.fold("STRASSE"))
        #expect(TextRules.fold("ÀB") == "àb")
        #expect(TextRules.fold("ﬁ") == "fi")
    }

    @Test func trimsUnicodeWhiteSpace() {
        #expect(TextRules.trimmed("\u{3000} a b\u{00A0}\n") == "a b")
        #expect(TextRules.trimmed(" \t ") == "")
    }

    @Test func timestampsRoundTripAtMillisecondPrecision() throws {
        let t = try #require(Timestamp(rfc3339: "2026-11-25T02:05:41.730123+01:00"))
        #expect(t.description == "2026-11-25T01:05:41.730Z")
        #expect(Timestamp(rfc3339: "2026-02-30T00:00:00Z") == nil)
        #expect(Timestamp(rfc3339: "1969-12-31T23:59:59.999Z")?.milliseconds == -1)
        #expect(Timestamp(milliseconds: -1).description == "1969-12-31T23:59:59.999Z")
    }

    @Test func datesParseStrictly() {
        #expect(DayDate("2024-02-29")?.description == "2024-02-29")
        #expect(DayDate("2023-02-29") == nil)
        #expect(DayDate("2023-2-28") == nil)
        #expect(DayDate("1970-01-01")?.daysSinceEpoch == 0)
    }
}
