package import Logging
package import NIOPosix
import PostgresDriver
import Handlers

/// Runs administrative SQL (creating and dropping test schemas) on a PostgreSQL server outside
/// any store: for tests and tools of this package only.
package final class PostgresAdministration: Sendable {
    private let pool: PostgresPool

    /// - Throws: ``StoreSetupError`` when `databaseURL` is not a PostgreSQL URL.
    package init(databaseURL: String, threadPool: NIOThreadPool, logger: Logger) throws {
        do {
            var configuration = try PostgresConfiguration(url: databaseURL)
            // Every test of a parallel run creates and drops a schema through this pool: a wait
            // for one of its connections is a queue, not a failure.
            configuration.poolSize = 4
            configuration.acquireTimeout = .seconds(120)
            pool = PostgresPool(configuration: configuration, threadPool: threadPool, logger: logger)
        } catch {
            throw StoreSetupError(.configuration, error.message)
        }
    }

    /// Runs `;`-separated statements outside a transaction block.
    package func executeScript(_ sql: String) async throws {
        do {
            try await pool.withConnection { try $0.executeScript(sql) }
        } catch {
            throw StoreError.mapping(error)
        }
    }

    package func close() async {
        await pool.close()
    }
}
