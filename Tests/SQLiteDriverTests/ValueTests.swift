import Testing
@testable import SQLiteDriver

@Suite struct ValueTests {
    static let values: [SQLiteValue] = [
        .null,
        .integer(0), .integer(-1), .integer(Int64.min), .integer(Int64.max),
        .real(0), .real(-1.5), .real(Double.greatestFiniteMagnitude), .real(Double.leastNonzeroMagnitude), .real(.infinity),
        .text(""), .text("plain"), .text("école ÉCOLE İ ß 東京 🏳️‍🌈"), .text("nul\u{0}inside\u{0}"), .text("\u{0}"),
        .blob([]), .blob([0]), .blob([0, 1, 0, 255, 0]),
    ]

    @Test(arguments: values)
    func roundTripsThroughBindingAndColumn(_ value: SQLiteValue) async throws {
        try await roundTrip(value)
    }

    @Test func largeValuesRoundTrip() async throws {
        try await roundTrip(.text(String(repeating: "ü", count: 300_000)))
        try await roundTrip(.blob((0..<4_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }))
    }

    private func roundTrip(_ value: SQLiteValue) async throws {
        try await withMemoryDatabase { database in
            // An untyped column has no affinity, so SQLite stores each value as given.
            let stored = try await database.write { connection in
                try connection.executeScript("CREATE TABLE t(v)")
                try connection.execute("INSERT INTO t(v) VALUES (?)", [value])
                return try connection.query("SELECT v, ? AS echoed FROM t", [value])
            }
            #expect(stored.count == 1)
            #expect(try stored[0].value("v") == value)
            #expect(try stored[0].value("echoed") == value)
        }
    }

    @Test func typedGettersReadTheirType() async throws {
        try await withMemoryDatabase { database in
            let row = try await database.read { connection in
                try connection.query(
                    "SELECT 7 AS i, 2.5 AS r, 'x' AS s, x'00ff' AS b, NULL AS n, 1 AS yes, 0 AS no, 3 AS three"
                )[0]
            }
            #expect(try row.int64("i") == 7)
            #expect(try row.int("i") == 7)
            #expect(try row.double("r") == 2.5)
            #expect(try row.double("i") == 7)
            #expect(try row.string("s") == "x")
            #expect(try row.blob("b") == [0, 255])
            #expect(try row.isNull("n"))
            #expect(try !row.isNull("i"))
            #expect(try row.bool("yes"))
            #expect(try !row.bool("no"))
            #expect(try row.value(at: 2) == .text("x"))
            #expect(row.columns == ["i", "r", "s", "b", "n", "yes", "no", "three"])

            let mismatch = await sqliteError { _ = try row.string("i") }
            #expect(mismatch?.code == 20)
            let null = await sqliteError { _ = try row.int64("n") }
            #expect(null?.code == 20)
            let notBool = await sqliteError { _ = try row.bool("three") }
            #expect(notBool?.code == 20)
            let lossy = await sqliteError { _ = try row.int64("r") }
            #expect(lossy?.code == 20)
            let missing = await sqliteError { _ = try row.int64("nope") }
            #expect(missing?.code == 25)
            let outOfRange = await sqliteError { _ = try row.value(at: 8) }
            #expect(outOfRange?.code == 25)
            let negative = await sqliteError { _ = try row.value(at: -1) }
            #expect(negative?.code == 25)
        }
    }

    @Test func duplicateColumnNamesReadTheFirst() async throws {
        try await withMemoryDatabase { database in
            let row = try await database.read { try $0.query("SELECT 1 AS id, 2 AS id")[0] }
            #expect(try row.int64("id") == 1)
            #expect(try row.int64(at: 1) == 2)
        }
    }
}
