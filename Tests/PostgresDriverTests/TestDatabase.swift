import Foundation
import Logging
import NIOPosix
import PostgresDriver

/// Finds the test PostgreSQL through `FAROS_TEST_DATABASE_URL`.
///
/// Without it the integration tests skip, unless `FAROS_TEST_REQUIRE_ALL=1` turns the skip into
/// a failure (CI sets it, so a missing server cannot pass silently).
enum TestDatabase {
    static let url: String? = ProcessInfo.processInfo.environment["FAROS_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let requireAll = ProcessInfo.processInfo.environment["FAROS_TEST_REQUIRE_ALL"] == "1"

    /// Whether the integration tests run (and then fail when no URL is set).
    static let enabled = url != nil || requireAll

    /// Shared by all tests and never shut down: the process ends with the test run.
    static let threadPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 24)
        pool.start()
        return pool
    }()

    static let logger = Logger(label: "faros.postgres.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    static func configuration(poolSize: Int = 8, applicationName: String? = nil) throws -> PostgresConfiguration {
        guard let url else {
            throw PostgresError(kind: .configuration, message: "FAROS_TEST_DATABASE_URL is not set but FAROS_TEST_REQUIRE_ALL=1")
        }
        var configuration = try PostgresConfiguration(url: url)
        configuration.poolSize = poolSize
        if let applicationName { configuration.applicationName = applicationName }
        return configuration
    }

    static func makePool(poolSize: Int = 8, applicationName: String? = nil, acquireTimeout: Duration = .seconds(5)) throws -> PostgresPool {
        var configuration = try configuration(poolSize: poolSize, applicationName: applicationName)
        configuration.acquireTimeout = acquireTimeout
        return PostgresPool(configuration: configuration, threadPool: threadPool, logger: logger)
    }

    /// A pool shared by tests that do not care about its size.
    static let shared: PostgresPool? = try? makePool()

    static func sharedPool() throws -> PostgresPool {
        guard let shared else { return try makePool() }
        return shared
    }

    /// A name no other test (or earlier run) uses.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))_\(UInt32.random(in: 0...UInt32.max))"
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
