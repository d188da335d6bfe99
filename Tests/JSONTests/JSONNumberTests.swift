import JSON
import Testing

@Suite struct JSONNumberTests {
    static let int64Cases: [(String, Int64?)] = [
        ("0", 0), ("-0", 0), ("42", 42), ("-42", -42),
        ("9223372036854775807", .max), ("-9223372036854775808", .min),
        ("9223372036854775808", nil), ("-9223372036854775809", nil),
        ("12345678901234567890123", nil),
        ("1.0", 1), ("1.000", 1), ("1e3", 1000), ("1E+3", 1000), ("1.5e1", 15), ("150e-1", 15),
        ("0.0", 0), ("0e999999999999999999999", 0), ("-0.0e-5", 0),
        ("1.5", nil), ("1e-1", nil), ("0.1", nil), ("1e400", nil), ("1e-400", nil),
        ("92233720368547758.07e2", .max), ("00000", nil),
    ]

    @Test(arguments: int64Cases.filter { JSONNumber($0.0) != nil })
    func int64IsExactOrNil(_ testCase: (String, Int64?)) throws {
        let number = try #require(JSONNumber(testCase.0))
        #expect(number.int64 == testCase.1, "\(testCase.0)")
        #expect(number.int == testCase.1.flatMap { Int(exactly: $0) })
    }

    @Test func uint64() throws {
        #expect(JSONNumber("18446744073709551615")?.uint64 == .max)
        #expect(JSONNumber("18446744073709551616")?.uint64 == nil)
        #expect(JSONNumber("-1")?.uint64 == nil)
        #expect(JSONNumber("-0")?.uint64 == 0)
    }

    @Test func double() {
        #expect(JSONNumber("1.5")?.double == 1.5)
        #expect(JSONNumber("-2e3")?.double == -2000)
        #expect(JSONNumber("1e400")?.double == nil)
        #expect(JSONNumber("1e-400")?.double == 0)
        #expect(JSONNumber("12345678901234567890123")?.double == 12345678901234567890123.0)
    }

    @Test func isIntegral() {
        #expect(JSONNumber("1e400")!.isIntegral)
        #expect(JSONNumber("2.0")!.isIntegral)
        #expect(!JSONNumber("2.5")!.isIntegral)
        #expect(JSONNumber("2")!.isIntegerLiteral)
        #expect(!JSONNumber("2.0")!.isIntegerLiteral)
    }

    @Test(arguments: ["01", "+1", "1.", ".1", "1e", "--1", "0x10", "NaN", "", " 1", "1 ", "١"])
    func textMustFollowTheGrammar(_ text: String) {
        #expect(JSONNumber(text) == nil)
    }

    @Test func fromSwiftNumbers() {
        #expect(JSONNumber(42).text == "42")
        #expect(JSONNumber(UInt64.max).text == "18446744073709551615")
        #expect(JSONNumber(0.1)?.text == "0.1")
        #expect(JSONNumber(1.0)?.text == "1.0")
        #expect(JSONNumber(Double.nan) == nil)
        #expect(JSONNumber(-Double.infinity) == nil)
        // Every text Swift produces for a finite Double is a valid JSON number.
        for value in [1e-7, 1e16, Double.leastNonzeroMagnitude, -1.7976931348623157e308, 123.456] {
            let text = JSONNumber(value)!.text
            #expect(JSONNumber(text)?.double == value, "\(text)")
        }
    }

    @Test func equalityIsTextual() {
        #expect(JSONNumber("1.0") != JSONNumber("1"))
        #expect(JSONNumber("1") == JSONNumber(1))
    }
}
