import ArgumentParser
import Logging
import NIOPosix
import Storage

/// `faros migrate`: applies pending schema migrations and exits (`serve` also does it at start-up).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations and exit.",
        discussion: "Safe to run while other instances start or run: on PostgreSQL migrations hold an advisory lock."
    )

    @OptionGroup var storage: StorageOptions

    func run() async throws {
        let settings = try StorageSettings(options: storage, environment: Environment.current)
        settings.bootstrapLogging()
        let logger = Logger(label: "faros")
        let threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        do {
            let report = try await StoreFactory.migrate(settings.store, threadPool: threadPool, logger: logger)
            try? await threadPool.shutdownGracefully()
            let applied = report.applied.map { "\($0.version) (\($0.name))" }.joined(separator: ", ")
            print("faros migrate: \(report.backend) schema at version \(report.currentVersion); applied: \(applied.isEmpty ? "none" : applied)")
        } catch {
            logger.critical("Migration failed", metadata: ["error": "\(error)"])
            try? await threadPool.shutdownGracefully()
            throw ExitCode.failure
        }
    }
}
