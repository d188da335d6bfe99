public import Handlers
public import Logging
public import NIOPosix
import PostgresDriver
import SQLiteDriver

/// Opens the ``Handlers/Store`` a ``StoreConfiguration`` names, with its schema up to date.
public enum StoreFactory {
    /// Opens the store and applies pending migrations (see ``Migrator``) before returning it.
    ///
    /// - Parameter threadPool: runs every database call; give it at least `poolSize + 1` threads.
    /// - Throws: ``StoreSetupError`` for an unusable configuration or a schema newer than this
    ///   build; ``Handlers/StoreError`` (`unavailable`) when the database cannot be reached.
    public static func open(_ configuration: StoreConfiguration, threadPool: NIOThreadPool, logger: Logger) async throws -> any Store {
        try await open(configuration, migrations: Migrations.all, threadPool: threadPool, logger: logger)
    }

    /// Applies pending migrations and closes again (`faros migrate`).
    public static func migrate(_ configuration: StoreConfiguration, threadPool: NIOThreadPool, logger: Logger) async throws -> MigrationReport {
        try await migrate(configuration, migrations: Migrations.all, threadPool: threadPool, logger: logger)
    }

    /// ``open(_:threadPool:logger:)`` with another list of migrations (tests).
    package static func open(
        _ configuration: StoreConfiguration,
        migrations: [Migration],
        threadPool: NIOThreadPool,
        logger: Logger
    ) async throws -> SQLStore {
        let backend = try await openBackend(configuration, threadPool: threadPool, logger: logger)
        do {
            _ = try await Migrator.run(migrations, on: backend, logger: logger)
        } catch {
            await backend.close()
            throw StoreError.mapping(error)
        }
        return SQLStore(backend: backend)
    }

    /// ``migrate(_:threadPool:logger:)`` with another list of migrations (tests).
    package static func migrate(
        _ configuration: StoreConfiguration,
        migrations: [Migration],
        threadPool: NIOThreadPool,
        logger: Logger
    ) async throws -> MigrationReport {
        let backend = try await openBackend(configuration, threadPool: threadPool, logger: logger)
        do {
            let report = try await Migrator.run(migrations, on: backend, logger: logger)
            await backend.close()
            return report
        } catch {
            await backend.close()
            throw StoreError.mapping(error)
        }
    }

    private static func openBackend(_ configuration: StoreConfiguration, threadPool: NIOThreadPool, logger: Logger) async throws -> any SQLBackend {
        switch try DatabaseLocation(configuration) {
        case .sqlite(let path):
            do {
                let database = try await SQLiteDatabase.open(path: path, readers: configuration.poolSize, threadPool: threadPool, logger: logger)
                return SQLiteBackend(database: database)
            } catch {
                throw StoreError.mapping(error)
            }
        case .postgresql(let postgres):
            logger.info("Using PostgreSQL", metadata: ["db.url": "\(postgres.redactedURL)", "db.pool.size": "\(postgres.poolSize)"])
            // The pool connects lazily; the migration run is the first connection, so an
            // unreachable server fails the start-up right there.
            return PostgresBackend(pool: PostgresPool(configuration: postgres, threadPool: threadPool, logger: logger))
        }
    }
}
