import Testing
@testable import SQLiteDriver

@Suite struct ErrorTests {
    static let schema = """
        CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        CREATE TABLE tasks(id INTEGER PRIMARY KEY, owner INTEGER NOT NULL REFERENCES users(id), title TEXT);
        """

    @Test func uniqueViolationsAreClassified() async throws {
        try await withDatabase { database, _ in
            try await database.write { connection in
                try connection.executeScript(Self.schema)
                try connection.execute("INSERT INTO users(id, name) VALUES (1, 'ada')")
            }
            let byName = await sqliteError {
                try await database.write { try $0.execute("INSERT INTO users(name) VALUES ('ada')") }
            }
            #expect(byName?.isUniqueViolation == true)
            #expect(byName?.isConstraintViolation == true)
            #expect(byName?.isForeignKeyViolation == false)
            #expect(byName?.code == 19)
            #expect(byName?.extendedCode == 2067)
            let byKey = await sqliteError {
                try await database.write { try $0.execute("INSERT INTO users(id, name) VALUES (1, 'bob')") }
            }
            #expect(byKey?.isUniqueViolation == true)
            #expect(byKey?.extendedCode == 1555)
        }
    }

    @Test func foreignKeyViolationsAreClassifiedBothWays() async throws {
        try await withDatabase { database, _ in
            try await database.write { try $0.executeScript(Self.schema) }
            let missingParent = await sqliteError {
                try await database.write { try $0.execute("INSERT INTO tasks(owner) VALUES (42)") }
            }
            #expect(missingParent?.isForeignKeyViolation == true)
            #expect(missingParent?.isConstraintViolation == true)
            #expect(missingParent?.isUniqueViolation == false)

            try await database.write { connection in
                try connection.execute("INSERT INTO users(id, name) VALUES (1, 'ada')")
                try connection.execute("INSERT INTO tasks(owner) VALUES (1)")
            }
            let stillReferenced = await sqliteError {
                try await database.write { try $0.execute("DELETE FROM users WHERE id = 1") }
            }
            #expect(stillReferenced?.isForeignKeyViolation == true)
        }
    }

    @Test func otherConstraintsAreNeitherUniqueNorForeignKey() async throws {
        try await withDatabase { database, _ in
            try await database.write { try $0.executeScript(Self.schema) }
            let error = await sqliteError {
                try await database.write { try $0.execute("INSERT INTO users(name) VALUES (NULL)") }
            }
            #expect(error?.isConstraintViolation == true)
            #expect(error?.isUniqueViolation == false)
            #expect(error?.isForeignKeyViolation == false)
            #expect(error?.isBusy == false)
        }
    }

    @Test func unknownColumnOrTableInSQLIsAnError() async throws {
        try await withDatabase { database, _ in
            try await database.write { try $0.executeScript(Self.schema) }
            let column = await sqliteError {
                _ = try await database.read { try $0.query("SELECT nickname FROM users") }
            }
            #expect(column?.code == 1)
            #expect(column?.message.contains("nickname") == true)
            let table = await sqliteError {
                _ = try await database.read { try $0.query("SELECT * FROM nowhere") }
            }
            #expect(table?.code == 1)
            let syntax = await sqliteError {
                _ = try await database.read { try $0.query("SELEC 1") }
            }
            #expect(syntax?.code == 1)
        }
    }

    @Test func bindingCountMustMatchPlaceholders() async throws {
        try await withMemoryDatabase { database in
            let tooFew = await sqliteError { _ = try await database.read { try $0.query("SELECT ?, ?", [.integer(1)]) } }
            #expect(tooFew?.code == 25)
            let tooMany = await sqliteError { _ = try await database.read { try $0.query("SELECT 1", [.integer(1)]) } }
            #expect(tooMany?.code == 25)
            // A failed call leaves the cached statement usable.
            let rows = try await database.read { try $0.query("SELECT ?, ?", [.integer(1), .integer(2)]) }
            #expect(try rows[0].int64(at: 1) == 2)
        }
    }

    @Test(arguments: ["", "   ", "-- only a comment", ";"])
    func sqlWithoutStatementIsRefused(_ sql: String) async throws {
        try await withMemoryDatabase { database in
            let error = await sqliteError { _ = try await database.read { try $0.query(sql) } }
            #expect(error?.code == 21)
        }
    }

    @Test func trailingSemicolonsAndCommentsAreAllowed() async throws {
        try await withMemoryDatabase { database in
            let rows = try await database.read { try $0.query("SELECT 1 AS one; -- trailing\n ;  /* and */ ") }
            #expect(try rows[0].int64("one") == 1)
        }
    }
}
