import PostgresDriver
import Testing

@Suite(.enabled(if: TestDatabase.enabled, "needs FAROS_TEST_DATABASE_URL"))
struct PostgresValueRoundTripTests {
    static let values: [PostgresValue] = [
        .null,
        .int(0), .int(-1), .int(42), .int(Int64.min), .int(Int64.max),
        .double(0), .double(1.5), .double(-2.25), .double(.pi), .double(1e308), .double(-1e-308),
        .double(.greatestFiniteMagnitude), .double(.leastNonzeroMagnitude), .double(0.1 + 0.2),
        .double(.infinity), .double(-.infinity),
        .bool(true), .bool(false),
        .text(""), .text("plain"), .text("it's \"quoted\" \\ back\\slash \\x00"), .text("héllo wörld 日本語 🚀 \u{200D}"),
        .text("'; DROP TABLE users; --"), .text(String(repeating: "long ", count: 20_000)),
        .bytea([]), .bytea(Array(0...255)), .bytea([0, 0, 92, 120, 39]),
    ]

    @Test("a value sent as a parameter comes back equal", arguments: values)
    func roundTrip(_ value: PostgresValue) async throws {
        let pool = try TestDatabase.sharedPool()
        let back = try await pool.withConnection { connection in
            try connection.query("SELECT $1 AS v", [value])[0].value("v")
        }
        if case .text = value, case .null = back { Issue.record("text came back NULL") }
        #expect(back == value)
    }

    @Test func negativeZeroKeepsItsSign() async throws {
        let pool = try TestDatabase.sharedPool()
        let back = try await pool.withConnection { try $0.query("SELECT $1 AS v", [.double(-0.0)])[0].double("v") }
        #expect(back == 0 && back.sign == .minus)
    }

    @Test func notANumberRoundTrips() async throws {
        let pool = try TestDatabase.sharedPool()
        let back = try await pool.withConnection { try $0.query("SELECT $1 AS v", [.double(.nan)])[0].double("v") }
        #expect(back.isNaN)
    }

    @Test func textWithNULIsRefusedBeforeSending() async throws {
        let pool = try TestDatabase.sharedPool()
        let error = await #expect(throws: PostgresError.self) {
            try await pool.withConnection { try $0.query("SELECT $1 AS v", [.text("a\u{0}b")]) }
        }
        #expect(error?.kind == .invalidArgument)
        #expect(error?.message.contains("NUL") == true)
        // The connection is unharmed.
        let one = try await pool.withConnection { try $0.query("SELECT 1 AS one")[0].int("one") }
        #expect(one == 1)
    }

    @Test func tooManyParametersAreRefusedWithoutLosingTheConnection() async throws {
        let pool = try TestDatabase.makePool(poolSize: 1)
        let error = await #expect(throws: PostgresError.self) {
            try await pool.withConnection { try $0.query("SELECT 1", Array(repeating: .int(1), count: 70_000)) }
        }
        #expect(error?.isConnectionFailure == false)
        let pids = try await (1...2).asyncMap { _ in
            try await pool.withConnection { try $0.query("SELECT pg_backend_pid() AS pid")[0].int64("pid") }
        }
        #expect(pids[0] == pids[1])
        await pool.close()
    }

    @Test func sqlWithNULIsRefused() async throws {
        let pool = try TestDatabase.sharedPool()
        await #expect(throws: PostgresError.self) {
            try await pool.withConnection { try $0.query("SELECT 1\u{0}; DROP TABLE x") }
        }
    }

    @Test func parametersAreStoredAndComparedVerbatim() async throws {
        let pool = try TestDatabase.sharedPool()
        let hostile = "x'); DROP TABLE injection_probe; --"
        let (stored, matchesAll, tableCount) = try await pool.withConnection { connection in
            try connection.executeScript("CREATE TEMP TABLE injection_probe (name text NOT NULL)")
            defer { try? connection.executeScript("DROP TABLE injection_probe") }
            try connection.execute("INSERT INTO injection_probe (name) VALUES ($1)", [.text(hostile)])
            try connection.execute("INSERT INTO injection_probe (name) VALUES ($1)", [.text("other")])
            let stored = try connection.query("SELECT name FROM injection_probe WHERE name = $1", [.text(hostile)])
                .map { try $0.string("name") }
            let matchesAll = try connection.query(
                "SELECT count(*) AS n FROM injection_probe WHERE name = $1", [.text("x' OR '1'='1")]
            )[0].int("n")
            let tableCount = try connection.query("SELECT count(*) AS n FROM injection_probe")[0].int("n")
            return (stored, matchesAll, tableCount)
        }
        #expect(stored == [hostile])
        #expect(matchesAll == 0)
        #expect(tableCount == 2)
    }

    @Test func textParametersTakeTheirTypeFromContext() async throws {
        let pool = try TestDatabase.sharedPool()
        let year = try await pool.withConnection { connection in
            try connection.query(
                "SELECT extract(year FROM $1::timestamptz)::int8 AS y, $2 = '2f1e8e62-3d5b-4a3e-9d8f-1b2c3d4e5f60'::uuid AS same",
                [.text("2024-02-29T12:00:00Z"), .text("2f1e8e62-3d5b-4a3e-9d8f-1b2c3d4e5f60")]
            )[0]
        }
        #expect(try year.int64("y") == 2024)
        #expect(try year.bool("same"))
    }
}
