import Testing
@testable import SQLiteDriver

@Suite struct FunctionTests {
    @Test(arguments: [
        ("ÉCOLE", "école"),
        ("İ", "i\u{307}"),
        ("ß", "ß"),
        ("STRASSE", "strasse"),
        ("", ""),
        ("abc", "abc"),
    ])
    func farosFoldLowercasesUnicode(_ input: String, _ expected: String) async throws {
        try await withDatabase { database, _ in
            let folded = try await database.read { try $0.query("SELECT faros_fold(?) AS f", [.text(input)])[0].string("f") }
            #expect(folded == expected)
            #expect(folded == input.lowercased())
        }
    }

    @Test func farosFoldLeavesNonTextAlone() async throws {
        try await withMemoryDatabase { database in
            let row = try await database.read { try $0.query("SELECT faros_fold(NULL) AS n, faros_fold(42) AS i, faros_fold(x'41') AS b")[0] }
            #expect(try row.isNull("n"))
            #expect(try row.int64("i") == 42)
            #expect(try row.blob("b") == [0x41])
        }
    }

    @Test func farosFoldMatchesWhereLowerDoesNot() async throws {
        try await withDatabase { database, _ in
            try await database.write { connection in
                try connection.executeScript("CREATE TABLE t(name TEXT)")
                try connection.execute("INSERT INTO t VALUES (?)", [.text("école normale")])
            }
            let (lower, folded) = try await database.read { connection in
                (
                    try connection.query("SELECT count(*) FROM t WHERE lower(name) = lower(?)", [.text("ÉCOLE NORMALE")])[0].int64(at: 0),
                    try connection.query("SELECT count(*) FROM t WHERE instr(faros_fold(name), faros_fold(?)) > 0", [.text("ÉCOLE")])[0].int64(at: 0)
                )
            }
            #expect(lower == 0)
            #expect(folded == 1)
        }
    }

    @Test func registeredFunctionsReachEveryConnectionNowAndLater() async throws {
        try await withDatabase(readers: 3) { database, _ in
            // Every connection has been used before the registration.
            for _ in 0..<6 { _ = try await database.read { try $0.query("SELECT 1") } }
            try database.registerFunction(name: "twice", argumentCount: 1, deterministic: true) { arguments in
                guard case .integer(let n) = arguments[0] else { return .null }
                return .integer(n * 2)
            }
            try await withThrowingTaskGroup(of: Int64.self) { group in
                for i in 0..<20 {
                    group.addTask { try await database.read { try $0.query("SELECT twice(?)", [.integer(Int64(i))])[0].int64(at: 0) } }
                }
                group.addTask { try await database.write { try $0.query("SELECT twice(21)")[0].int64(at: 0) } }
                var sum: Int64 = 0
                for try await value in group { sum += value }
                #expect(sum == 2 * (0..<20).reduce(0, +) + 42)
            }
        }
    }

    @Test func aThrowingFunctionFailsItsStatement() async throws {
        try await withMemoryDatabase { database in
            try database.registerFunction(name: "refuse", argumentCount: -1, deterministic: false) { _ in throw Marker() }
            let error = await sqliteError { _ = try await database.read { try $0.query("SELECT refuse(1, 2)") } }
            #expect(error?.code == 1)
            #expect(try await database.read { try $0.query("SELECT 1")[0].int64(at: 0) } == 1)
        }
    }

    @Test(arguments: ["", "1abc", "bad name", "drop;", "é", String(repeating: "a", count: 256)])
    func invalidFunctionNamesAreRefused(_ name: String) async throws {
        try await withMemoryDatabase { database in
            #expect(throws: SQLiteError.self) {
                try database.registerFunction(name: name, argumentCount: 1, deterministic: true) { $0[0] }
            }
        }
    }

    @Test(arguments: [-2, 128])
    func argumentCountsAreBounded(_ count: Int) async throws {
        try await withMemoryDatabase { database in
            #expect(throws: SQLiteError.self) {
                try database.registerFunction(name: "f", argumentCount: count, deterministic: true) { _ in .null }
            }
        }
    }
}
