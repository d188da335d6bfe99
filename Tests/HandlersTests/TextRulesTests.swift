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

    /// The digit-by-digit formatter against the parser, over instants spread across years
    /// 0000–9999 and the edges of days, months and years: each text parses back to its instant.
    @Test func timestampTextsParseBackToTheirInstant() throws {
        var generator = SystemRandomNumberGenerator()
        let first = try #require(Timestamp(rfc3339: "0000-01-01T00:00:00Z")).milliseconds
        let last = try #require(Timestamp(rfc3339: "9999-12-31T23:59:59.999Z")).milliseconds
        var instants: [Int64] = [first, last, 0, -1, 86_399_999, 86_400_000, 951_782_400_000, 1_709_164_799_999]
        for _ in 0..<5_000 { instants.append(Int64.random(in: first...last, using: &generator)) }
        for ms in instants {
            let text = Timestamp(milliseconds: ms).description
            #expect(text.utf8.count == 24, "\(ms): \(text)")
            #expect(Timestamp(rfc3339: text)?.milliseconds == ms, "\(ms): \(text)")
            let day = Timestamp(milliseconds: ms).day
            #expect(DayDate(day.description) == day, "\(ms): \(day.description)")
        }
        #expect(Timestamp(rfc3339: "0000-01-01T00:00:00Z")?.description == "0000-01-01T00:00:00.000Z")
        #expect(Timestamp(milliseconds: last + 1).description == "10000-01-01T00:00:00.000Z")
    }

    @Test func datesParseStrictly() {
        #expect(DayDate("2024-02-29")?.description == "2024-02-29")
        #expect(DayDate("2023-02-29") == nil)
        #expect(DayDate("2023-2-28") == nil)
        #expect(DayDate("1970-01-01")?.daysSinceEpoch == 0)
    }
}
