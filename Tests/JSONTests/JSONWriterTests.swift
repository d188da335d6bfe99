import JSON
import Testing

@Suite struct JSONWriterTests {
    private func text(_ value: JSONValue) -> String {
        String(decoding: JSONWriter.serialize(value), as: UTF8.self)
    }

    @Test func escapesExactlyWhatRFC8259Requires() {
        let value: JSONValue = .string("q\" b\\ s/ \u{8}\u{c}\n\r\t \u{0}\u{1}\u{1f} \u{7f} é ✓ 😀 \u{2028}")
        let expected = #""q\" b\\ s/ \b\f\n\r\t \u0000\u0001\u001f "# + "\u{7f} é ✓ 😀 \u{2028}\""
        #expect(JSONWriter.serialize(value) == Array(expected.utf8))
    }

    @Test func writesCompactMembersInOrder() {
        let value: JSONValue = ["z": 1, "a": [true, false, nil], "m": ["": "x"], "n": .number(JSONNumber("1.50e+3")!)]
        #expect(text(value) == #"{"z":1,"a":[true,false,null],"m":{"":"x"},"n":1.50e+3}"#)
    }

    @Test func writesNumbersFromTheirText() throws {
        for literal in ["0", "-0", "12345678901234567890123", "1.0", "1E400", "-1.25e-10"] {
            #expect(text(.number(try #require(JSONNumber(literal)))) == literal)
        }
    }

    @Test func appendsToAnExistingBuffer() {
        var buffer = Array("prefix:".utf8)
        JSONWriter.write(["a": 1] as JSONValue, into: &buffer)
        JSONWriter.write("é" as String, into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == #"prefix:{"a":1}"é""#)
    }

    @Test func emptyContainers() {
        #expect(text([]) == "[]")
        #expect(text(.object(JSONObject())) == "{}")
        #expect(text("") == #""""#)
    }

    @Test func roundTripsThroughTheParserByteForByte() throws {
        let inputs = [
            #"{"jsonrpc":"2.0","id":18446744073709551617,"result":{"a":[1,2.50,-0.0e0,"\u0001é"]}}"#,
            #"[{"x":null},{"y":true},{"z":"\"\\"}]"#,
            #""tab\there""#,
        ]
        for input in inputs {
            #expect(text(try JSONParser().parse(input)) == input)
        }
    }

    @Test func escapesLongStringsWithMixedRuns() {
        let long = String(repeating: "abc\"", count: 1000)
        let written = text(.string(long))
        #expect(written == "\"" + String(repeating: #"abc\""#, count: 1000) + "\"")
    }
}
