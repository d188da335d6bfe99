@testable import PostgresDriver
import Testing

struct PostgresRowDecodingTests {
    @Test func hexDecodesEveryByte() {
        let hex = "\\x" + (0...255).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[byte >> 4], digits[byte & 15]])
        }.joined()
        #expect(PostgresRow.decodeHex(hex) == Array(0...255))
        #expect(PostgresRow.decodeHex("\\xABcd") == [0xAB, 0xCD])
        #expect(PostgresRow.decodeHex("\\x") == [])
    }

    @Test(arguments: ["", "\\", "x00", "\\x0", "\\x0g", "\\y00", "\\x 0"])
    func malformedHexIsRejected(_ text: String) {
        #expect(PostgresRow.decodeHex(text) == nil)
    }

    static let columns = PostgresColumns(
        names: ["i", "t", "b", "n", "bytes", "i"],
        types: [PostgresValue.TypeOID.int4, 25, PostgresValue.TypeOID.bool, 25, PostgresValue.TypeOID.bytea, 25]
    )
    static let row = PostgresRow(columns: columns, values: ["7", "seven", "t", nil, "\\x0102", "second"])

    @Test func gettersReadMatchingTypes() throws {
        let row = Self.row
        #expect(try row.int("i") == 7)
        #expect(try row.int64("i") == 7)
        #expect(try row.double("i") == 7)
        #expect(try row.string("i") == "7")
        #expect(try row.string("t") == "seven")
        #expect(try row.bool("b"))
        #expect(try row.isNull("n"))
        #expect(try row.value("n") == .null)
        #expect(try row.bytea("bytes") == [1, 2])
        #expect(row.columnNames == ["i", "t", "b", "n", "bytes", "i"])
    }

    @Test func theFirstOfTwoSameNamedColumnsWins() throws {
        #expect(try Self.row.value("i") == .int(7))
    }

    @Test func wrongTypesMissingColumnsAndNullThrow() {
        let row = Self.row
        #expect(throws: PostgresError.self) { try row.int64("t") }
        #expect(throws: PostgresError.self) { try row.bool("i") }
        #expect(throws: PostgresError.self) { try row.string("bytes") }
        #expect(throws: PostgresError.self) { try row.bytea("t") }
        #expect(throws: PostgresError.self) { try row.double("t") }
        #expect(throws: PostgresError.self) { try row.string("n") }
        #expect(throws: PostgresError.self) { try row.isNull("missing") }
        do {
            _ = try row.int("missing")
            Issue.record("no error")
        } catch {
            #expect(error.kind == .decoding)
            #expect(error.message.contains("missing"))
        }
    }
}
