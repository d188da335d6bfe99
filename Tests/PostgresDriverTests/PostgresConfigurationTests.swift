import PostgresDriver
import Testing

struct PostgresConfigurationTests {
    @Test(arguments: ["postgres://u@h/db", "postgresql://h:5433/db?sslmode=disable", "postgres://"])
    func acceptsPostgresURLs(_ url: String) throws {
        _ = try PostgresConfiguration(url: url)
    }

    // libpq recognises only the lower-case schemes.
    @Test(arguments: ["", "POSTGRES://h", "mysql://u@h/db", "host=h dbname=d", "http://h/db", "postgres:/h/db"])
    func refusesOtherSchemes(_ url: String) {
        #expect(throws: PostgresError.self) { try PostgresConfiguration(url: url) }
    }

    @Test(arguments: [
        "postgres://user:s3cretpw@host:5432/db?nosuchparam=1",
        "postgres://user:s3cretpw%zz@host/db",
        "postgres://user:s3cretpw@[::1/db",
        "postgres://user:s3cretpw@host:5432/db?sslmode=bogus%",
    ])
    func invalidURLsNameTheProblemWithoutThePassword(_ url: String) {
        do {
            _ = try PostgresConfiguration(url: url)
            Issue.record("accepted \(url)")
        } catch {
            #expect(error.kind == .configuration)
            #expect(error.message.hasPrefix("invalid database URL: "))
            #expect(error.message.count > "invalid database URL: ".count)
            #expect(!error.message.contains("s3cretpw"))
            #expect(!error.description.contains("s3cretpw"))
        }
    }

    @Test func redactedURLAndDescriptionHideThePassword() throws {
        let configuration = try PostgresConfiguration(url: "postgres://user:hunter2@db.example:5432/faros")
        #expect(configuration.redactedURL == "postgres://user:***@db.example:5432/faros")
        #expect(!configuration.description.contains("hunter2"))
    }

    @Test func aURLWithNULIsRefused() {
        #expect(throws: PostgresError.self) { try PostgresConfiguration(url: "postgres://h/db\u{0}x") }
    }

    @Test func anUnreachableServerIsAConnectionFailure() async throws {
        var configuration = try PostgresConfiguration(url: "postgres://user:pw@127.0.0.1:1/db")
        configuration.connectTimeout = .seconds(2)
        let pool = PostgresPool(configuration: configuration, threadPool: TestDatabase.threadPool, logger: TestDatabase.logger)
        defer { Task { await pool.close() } }
        do {
            _ = try await pool.withConnection { try $0.query("SELECT 1") }
            Issue.record("connected to port 1")
        } catch let error as PostgresError {
            #expect(error.isConnectionFailure)
            #expect(!error.isPoolTimeout)
        }
        // The failed attempt gave its slot back: a second call fails the same way, not by timeout.
        do {
            _ = try await pool.withConnection { try $0.query("SELECT 1") }
        } catch let error as PostgresError {
            #expect(error.isConnectionFailure)
        }
    }
}
