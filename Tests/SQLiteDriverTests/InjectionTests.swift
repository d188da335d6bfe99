import Testing
@testable import SQLiteDriver

@Suite struct InjectionTests {
    static let hostile = [
        "x'); DROP TABLE notes; --",
        "' OR '1'='1",
        "\"; DELETE FROM notes; --",
        "%_\\'\"",
        "1; ATTACH DATABASE '/tmp/evil.db' AS evil",
    ]

    @Test(arguments: hostile)
    func bindingsAreDataNeverSQL(_ text: String) async throws {
        try await withDatabase { database, _ in
            let stored = try await database.write { connection in
                try connection.executeScript("CREATE TABLE notes(body TEXT)")
                try connection.execute("INSERT INTO notes(body) VALUES ('keep')")
                try connection.execute("INSERT INTO notes(body) VALUES (?)", [.text(text)])
                return try connection.query("SELECT body FROM notes WHERE body = ?", [.text(text)])
            }
            #expect(try stored.map { try $0.string("body") } == [text])
            let count = try await database.read { try $0.query("SELECT count(*) FROM notes")[0].int64(at: 0) }
            #expect(count == 2)
        }
    }

    @Test func executeAndQueryRunOneStatementOnly() async throws {
        try await withDatabase { database, _ in
            try await database.write { try $0.executeScript("CREATE TABLE notes(body TEXT); INSERT INTO notes VALUES ('keep');") }
            let write = await sqliteError {
                try await database.write { try $0.execute("INSERT INTO notes VALUES ('a'); DROP TABLE notes") }
            }
            #expect(write?.code == 21)
            let read = await sqliteError {
                _ = try await database.read { try $0.query("SELECT 1; SELECT 2") }
            }
            #expect(read?.code == 21)
            let bodies = try await database.read { try $0.query("SELECT body FROM notes").map { try $0.string("body") } }
            #expect(bodies == ["keep"])
        }
    }
}
