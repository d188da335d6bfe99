import JSON
import Testing

/// RFC 8259 conformance in the style of JSONTestSuite: `y_` texts must parse (and are written back
/// canonically), `n_` texts must be refused with the right reason and offset.
@Suite struct JSONParserTests {
    static let accepted: [(name: String, input: String, canonical: String)] = [
        ("y_empty_object", "{}", "{}"),
        ("y_empty_array", "[]", "[]"),
        ("y_whitespace_everywhere", " \t\r\n{ \"a\" :\n[ 1 , true\t, null ] }\r\n ", #"{"a":[1,true,null]}"#),
        ("y_top_level_string", #""abc""#, #""abc""#),
        ("y_top_level_number", "-0", "-0"),
        ("y_top_level_true", "true", "true"),
        ("y_top_level_false", "false", "false"),
        ("y_top_level_null", " null ", "null"),
        ("y_number_zero_fraction", "0.0", "0.0"),
        ("y_number_exponents", "[1e5,1E5,1e+5,1e-5,1.5e005,-0.0e-0]", "[1e5,1E5,1e+5,1e-5,1.5e005,-0.0e-0]"),
        ("y_number_huge_integer", "12345678901234567890123", "12345678901234567890123"),
        ("y_number_huge_exponent", "1e999999999999999999", "1e999999999999999999"),
        ("y_number_negative_integer", "-9223372036854775808", "-9223372036854775808"),
        ("y_string_escapes", #""\"\\\/\b\f\n\r\t""#, #""\"\\/\b\f\n\r\t""#),
        ("y_string_unicode_escape", #""\u00e9\u00E9""#, "\"éé\""),
        ("y_string_surrogate_pair", #""\ud83d\ude00""#, "\"😀\""),
        ("y_string_escaped_nul", #""a\u0000b""#, #""a\u0000b""#),
        ("y_string_escaped_control", #""\u001f""#, #""\u001f""#),
        ("y_string_raw_utf8", "\"héllo wörld ✓ 😀\"", "\"héllo wörld ✓ 😀\""),
        ("y_string_raw_del", "\"\u{7f}\"", "\"\u{7f}\""),
        ("y_string_u2028", "\"\u{2028}\u{2029}\"", "\"\u{2028}\u{2029}\""),
        ("y_string_escaped_noncharacter", #""\uffff""#, "\"\u{ffff}\""),
        ("y_string_mixed_escapes_and_utf8", #""é\n😀\t""#, #""é\n😀\t""#),
        ("y_object_duplicate_keys_kept", #"{"a":1,"a":2}"#, #"{"a":1,"a":2}"#),
        ("y_object_member_order_kept", #"{"b":1,"a":2,"c":3}"#, #"{"b":1,"a":2,"c":3}"#),
        ("y_object_empty_key", #"{"":0}"#, #"{"":0}"#),
        ("y_nested", #"[[[]],{"a":{"b":[{}]}}]"#, #"[[[]],{"a":{"b":[{}]}}]"#),
    ]

    @Test(arguments: accepted)
    func acceptsValidJSON(_ testCase: (name: String, input: String, canonical: String)) throws {
        let value = try JSONParser().parse(testCase.input)
        #expect(value.description == testCase.canonical, "\(testCase.name)")
    }

    static let refused: [(name: String, input: [UInt8], reason: JSONParseError.Reason, offset: Int)] = [
        ("n_empty", [], .unexpectedEnd, 0),
        ("n_only_whitespace", Array("  ".utf8), .unexpectedEnd, 2),
        ("n_trailing_comma_array", Array("[1,]".utf8), .unexpectedByte(UInt8(ascii: "]")), 3),
        ("n_trailing_comma_object", Array(#"{"a":1,}"#.utf8), .unexpectedByte(UInt8(ascii: "}")), 7),
        ("n_leading_comma", Array("[,1]".utf8), .unexpectedByte(UInt8(ascii: ",")), 1),
        ("n_double_comma", Array("[1,,2]".utf8), .unexpectedByte(UInt8(ascii: ",")), 3),
        ("n_missing_comma", Array("[1 2]".utf8), .unexpectedByte(UInt8(ascii: "2")), 3),
        ("n_missing_colon", Array(#"{"a" 1}"#.utf8), .unexpectedByte(UInt8(ascii: "1")), 5),
        ("n_unquoted_key", Array("{a:1}".utf8), .unexpectedByte(UInt8(ascii: "a")), 1),
        ("n_number_key", Array("{1:1}".utf8), .unexpectedByte(UInt8(ascii: "1")), 1),
        ("n_single_quotes", Array("['a']".utf8), .unexpectedByte(UInt8(ascii: "'")), 1),
        ("n_line_comment", Array("[1]//c".utf8), .trailingData, 3),
        ("n_block_comment", Array("[/*c*/1]".utf8), .unexpectedByte(UInt8(ascii: "/")), 1),
        ("n_leading_zero", Array("01".utf8), .invalidNumber, 0),
        ("n_leading_zero_negative", Array("[-012]".utf8), .invalidNumber, 1),
        ("n_double_zero", Array("00".utf8), .invalidNumber, 0),
        ("n_plus_sign", Array("+1".utf8), .unexpectedByte(UInt8(ascii: "+")), 0),
        ("n_bare_minus", Array("-".utf8), .invalidNumber, 0),
        ("n_minus_letter", Array("-a".utf8), .invalidNumber, 0),
        ("n_dot_leading", Array(".5".utf8), .unexpectedByte(UInt8(ascii: ".")), 0),
        ("n_dot_trailing", Array("1.".utf8), .invalidNumber, 0),
        ("n_exponent_empty", Array("1e".utf8), .invalidNumber, 0),
        ("n_exponent_sign_only", Array("1e+".utf8), .invalidNumber, 0),
        ("n_hex_number", Array("0x1F".utf8), .trailingData, 1),
        ("n_nan", Array("NaN".utf8), .unexpectedByte(UInt8(ascii: "N")), 0),
        ("n_infinity", Array("[Infinity]".utf8), .unexpectedByte(UInt8(ascii: "I")), 1),
        ("n_minus_infinity", Array("-Infinity".utf8), .invalidNumber, 0),
        ("n_true_capitalized", Array("True".utf8), .unexpectedByte(UInt8(ascii: "T")), 0),
        ("n_truncated_true", Array("tru".utf8), .unexpectedEnd, 3),
        ("n_misspelt_null", Array("nul1".utf8), .unexpectedByte(UInt8(ascii: "1")), 3),
        ("n_unclosed_array", Array("[1".utf8), .unexpectedEnd, 2),
        ("n_unclosed_object", Array(#"{"a":1"#.utf8), .unexpectedEnd, 6),
        ("n_unclosed_string", Array(#""abc"#.utf8), .unexpectedEnd, 4),
        ("n_two_values", Array("1 2".utf8), .trailingData, 2),
        ("n_trailing_garbage", Array("{}x".utf8), .trailingData, 2),
        ("n_raw_newline_in_string", Array("\"a\nb\"".utf8), .controlCharacterInString, 2),
        ("n_raw_tab_in_string", Array("\"a\tb\"".utf8), .controlCharacterInString, 2),
        ("n_raw_nul_in_string", [0x22, 0x00, 0x22], .controlCharacterInString, 1),
        ("n_raw_control_after_escape", Array("\"\\n\u{1}\"".utf8), .controlCharacterInString, 3),
        ("n_invalid_escape", Array(#""\x41""#.utf8), .invalidEscape, 1),
        ("n_escaped_apostrophe", Array(#""\'""#.utf8), .invalidEscape, 1),
        ("n_short_unicode_escape", Array(#""\u12""#.utf8), .invalidEscape, 1),
        ("n_unicode_escape_bad_hex", Array(#""\u12G4""#.utf8), .invalidEscape, 1),
        ("n_lone_high_surrogate", Array(#""\ud83d""#.utf8), .loneSurrogate, 1),
        ("n_lone_low_surrogate", Array(#""\ude00""#.utf8), .loneSurrogate, 1),
        ("n_high_then_nonsurrogate", Array(#""\ud83d\u0041""#.utf8), .loneSurrogate, 1),
        ("n_high_then_high", Array(#""\ud83d\ud83d""#.utf8), .loneSurrogate, 1),
        ("n_high_then_text", Array(#""\ud83dabcdef""#.utf8), .loneSurrogate, 1),
        ("n_form_feed_whitespace", Array("\u{c}[]".utf8), .unexpectedByte(0x0C), 0),
        ("n_vertical_tab_whitespace", Array("[\u{b}]".utf8), .unexpectedByte(0x0B), 1),
        ("n_nbsp_whitespace", Array("[\u{a0}1]".utf8), .unexpectedByte(0xC2), 1),
        ("n_byte_order_mark", [0xEF, 0xBB, 0xBF] + Array("{}".utf8), .unexpectedByte(0xEF), 0),
        ("n_utf8_outside_string", Array("[é]".utf8), .unexpectedByte(0xC3), 1),
        ("n_invalid_utf8_continuation", [0x22, 0x61, 0xC3, 0x28, 0x22], .invalidUTF8, 2),
        ("n_invalid_utf8_lone_continuation", [0x22, 0x80, 0x22], .invalidUTF8, 1),
        ("n_invalid_utf8_overlong_slash", [0x22, 0xC0, 0xAF, 0x22], .invalidUTF8, 1),
        ("n_invalid_utf8_overlong_3byte", [0x22, 0xE0, 0x80, 0xAF, 0x22], .invalidUTF8, 1),
        ("n_invalid_utf8_encoded_surrogate", [0x22, 0xED, 0xA0, 0x80, 0x22], .invalidUTF8, 1),
        ("n_invalid_utf8_above_10ffff", [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], .invalidUTF8, 1),
        ("n_invalid_utf8_f5", [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], .invalidUTF8, 1),
        ("n_invalid_utf8_truncated", [0x22, 0xE2, 0x9C, 0x22], .invalidUTF8, 1),
        ("n_invalid_utf8_ff", [0x22, 0xFF, 0x22], .invalidUTF8, 1),
        ("n_invalid_utf8_after_escape", [0x22, 0x5C, 0x6E, 0xC3, 0x22], .invalidUTF8, 3),
    ]

    @Test(arguments: refused)
    func refusesInvalidJSON(_ testCase: (name: String, input: [UInt8], reason: JSONParseError.Reason, offset: Int)) {
        #expect(throws: JSONParseError(testCase.reason, at: testCase.offset), "\(testCase.name)") {
            try JSONParser().parse(testCase.input)
        }
    }

    /// Text the WebSocket layer validated parses to the same values, and every refusal that is
    /// not about UTF-8 stays the same.
    @Test func validatedUTF8EntryAgreesWithTheCheckingOne() throws {
        for testCase in Self.accepted {
            let bytes = Array(testCase.input.utf8)
            let value = try bytes.withUnsafeBytes { raw throws(JSONParseError) in try JSONParser().parse(validatedUTF8: raw) }
            #expect(value == (try JSONParser().parse(bytes)), "\(testCase.name)")
        }
        for testCase in Self.refused where testCase.reason != .invalidUTF8 {
            #expect(throws: JSONParseError(testCase.reason, at: testCase.offset), "\(testCase.name)") {
                try testCase.input.withUnsafeBytes { raw throws(JSONParseError) in try JSONParser().parse(validatedUTF8: raw) }
            }
        }
    }

    @Test func nestingUpToTheLimitIsAccepted() throws {
        let depth = JSONParser.defaultMaxDepth
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(try JSONParser().parse(arrays).description == arrays)
        var objects = ""
        for _ in 0..<depth - 1 { objects += #"{"a":"# }
        objects += "{}" + String(repeating: "}", count: depth - 1)
        #expect(try JSONParser().parse(objects).description == objects)
    }

    @Test func nestingBeyondTheLimitIsRefused() {
        let depth = JSONParser.defaultMaxDepth + 1
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(throws: JSONParseError(.tooDeep(limit: 64), at: 64)) { try JSONParser().parse(text) }
    }

    @Test func hostileDeepNestingFailsWithoutRecursingDeeply() {
        // A megabyte of brackets: must fail at the limit, not overflow the stack.
        let text = [UInt8](repeating: UInt8(ascii: "["), count: 1 << 20)
        #expect(throws: JSONParseError(.tooDeep(limit: 64), at: 64)) { try JSONParser().parse(text) }
        let objects = Array(String(repeating: #"{"a":"#, count: 100_000).utf8)
        #expect(throws: JSONParseError(.tooDeep(limit: 64), at: 64 * 5)) { try JSONParser().parse(objects) }
    }

    @Test func customDepthLimit() throws {
        let parser = JSONParser(maxDepth: 2)
        _ = try parser.parse("[[1]]")
        #expect(throws: JSONParseError(.tooDeep(limit: 2), at: 2)) { try parser.parse("[[[1]]]") }
    }

    @Test func everyProperPrefixOfADocumentIsRefused() throws {
        let text = Array(#"{"a":[1,-2.5e3,"x\u00e9\n",true,false,null],"b":{}}"#.utf8)
        _ = try JSONParser().parse(text)
        for length in 0..<text.count {
            // Prefixes that are themselves complete values cannot occur: the document is an object.
            #expect(throws: JSONParseError.self) { try JSONParser().parse(Array(text[..<length])) }
        }
    }

    @Test func hugeNumbersKeepTheirText() throws {
        let digits = String(repeating: "9", count: 100_000)
        let value = try JSONParser().parse("[\(digits), 18446744073709551617, -1.000e-400]")
        guard case .array(let elements) = value else {
            Issue.record("not an array")
            return
        }
        #expect(elements[0].numberValue?.text == digits)
        #expect(elements[0].numberValue?.int64 == nil)
        #expect(elements[1].numberValue?.text == "18446744073709551617")
        #expect(elements[2].numberValue?.text == "-1.000e-400")
    }

    @Test func stringsDecodeToTheRightScalars() throws {
        let value = try JSONParser().parse(#"["\u0041\u00e9\u4e2d\ud83d\ude00", "A\/B", "\u0000"]"#)
        #expect(value == ["Aé中😀", "A/B", "\u{0}"])
    }

    @Test func duplicateKeysAreKeptAndReported() throws {
        let value = try JSONParser().parse(#"{"a":1,"b":2,"a":3}"#)
        let object = try #require(value.objectValue)
        #expect(object.count == 3)
        #expect(object["a"] == 1)
        #expect(object.duplicateKey == "a")
    }

    @Test func largeObjectsFindDuplicatesToo() throws {
        var text = "{"
        for i in 0..<1000 { text += "\"k\(i)\":\(i)," }
        text += #""k500":0}"#
        let object = try #require(try JSONParser().parse(text).objectValue)
        #expect(object.duplicateKey == "k500")
    }

    @Test func parsesFromAllInputKinds() throws {
        let bytes = Array(#"{"x":[1]}"#.utf8)
        let fromArray = try JSONParser().parse(bytes)
        let fromBuffer = try bytes.withUnsafeBytes { try JSONParser().parse($0) }
        let fromString = try JSONParser().parse(#"{"x":[1]}"#)
        #expect(fromArray == fromBuffer)
        #expect(fromArray == fromString)
        #expect(fromArray == ["x": [1]])
    }

    @Test func errorDescriptionNamesTheOffset() {
        #expect(JSONParseError(.trailingData, at: 7).description == "data after the JSON value at offset 7")
    }
}
