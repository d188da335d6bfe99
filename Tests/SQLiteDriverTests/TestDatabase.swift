import Foundation
import Logging
import NIOPosix
@testable import SQLiteDriver

/// A database in a fresh temporary directory (nested, to exercise directory creation), on its
/// own thread pool, closed and deleted afterwards.
@discardableResult
func withDatabase<T>(
    readers: Int = 4,
    threads: Int = 6,
    _ body: (SQLiteDatabase, String) async throws -> T
) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("faros-sqlite-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("nested/data/faros.sqlite").path
    let threadPool = NIOThreadPool(numberOfThreads: threads)
    threadPool.start()
    defer { threadPool.shutdownGracefully { _ in } }
    let database = try await SQLiteDatabase.open(path: path, readers: readers, threadPool: threadPool, logger: quietLogger)
    do {
        let result = try await body(database, path)
        await database.close()
        return result
    } catch {
        await database.close()
        throw error
    }
}

/// An in-memory database on its own thread pool.
@discardableResult
func withMemoryDatabase<T>(_ body: (SQLiteDatabase) async throws -> T) async throws -> T {
    let threadPool = NIOThreadPool(numberOfThreads: 2)
    threadPool.start()
    defer { threadPool.shutdownGracefully { _ in } }
    let database = try await SQLiteDatabase.open(path: ":memory:", readers: 4, threadPool: threadPool, logger: quietLogger)
    do {
        let result = try await body(database)
        await database.close()
        return result
    } catch {
        await database.close()
        throw error
    }
}

let quietLogger = Logger(label: "sqlite-test", factory: { _ in SwiftLogNoOpLogHandler() })

/// Runs `body` expecting an SQLiteError and returns it (nil, recorded as an issue, otherwise).
func sqliteError<T>(_ body: () async throws -> T) async -> SQLiteError? {
    do {
        _ = try await body()
    } catch let error as SQLiteError {
        return error
    } catch {
        Issue.record("expected SQLiteError, got \(error)")
        return nil
    }
    Issue.record("expected SQLiteError, got success")
    return nil
}

import Testing

struct Marker: Error {}
