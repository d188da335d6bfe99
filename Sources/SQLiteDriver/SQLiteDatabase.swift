public import Logging
public import NIOPosix
import Synchronization

/// An SQLite database in WAL mode: one writer connection and a pool of reader connections.
///
/// SQLite allows one writer at a time per file, so writes queue in Swift for the single writer
/// connection instead of spinning in SQLite's busy handler; in WAL mode readers never block the
/// writer nor each other, so reads run concurrently on up to `readers` connections. Every SQLite
/// call runs on the caller's `NIOThreadPool`, never on an event loop or in the caller's task.
///
/// `":memory:"` opens a private in-memory database for tests. There is then only one
/// connection: an in-memory database is private to its connection, and the shared-cache
/// alternative has table-level locks that fail with SQLITE_LOCKED instead of waiting. Reads then
/// queue with writes on that connection, with `query_only` switched on for the read.
public final class SQLiteDatabase: Sendable {
    private let threadPool: NIOThreadPool
    private let logger: Logger
    private let path: String
    private let writer: ConnectionPool
    /// The same pool as `writer` for an in-memory database.
    private let readers: ConnectionPool
    private var readersShareWriter: Bool { readers === writer }
    /// Append-only: each connection installs the tail it has not seen before its next use.
    private let functions = Mutex<[SQLiteFunction]>([SQLiteFunction.fold])
    private let closeState = Mutex<CloseState>(.open)

    private enum CloseState {
        case open
        /// Later callers, resumed with `false` once the first has closed everything.
        case closing([CheckedContinuation<Bool, Never>])
        case closed
    }

    /// How long a connection waits for a lock held by another process (or another
    /// `SQLiteDatabase` on the same file) before failing with ``SQLiteError/isBusy``. Within one
    /// `SQLiteDatabase` writes are queued in Swift, so this only matters across instances; 5 s
    /// rides out a checkpoint or a migration without hanging a request for long.
    public static let defaultBusyTimeout: Duration = .seconds(5)

    /// Connections per reader pool beyond which more readers only add memory: reads are bounded
    /// by the thread pool's threads anyway.
    static let maximumReaders = 64

    private init(path: String, threadPool: NIOThreadPool, logger: Logger, writer: ConnectionPool, readers: ConnectionPool) {
        self.path = path
        self.threadPool = threadPool
        self.logger = logger
        self.writer = writer
        self.readers = readers
    }

    /// Opens the database at `path`, creating the file and its directories (mode 0700) if
    /// needed, and switches it to WAL mode.
    ///
    /// - Parameters:
    ///   - readers: reader connections (1 to 64), the bound on concurrent reads; ignored for
    ///     `":memory:"`. 0 makes reads share the writer connection.
    ///   - threadPool: runs every SQLite call; give it at least `readers + 1` threads for reads and
    ///     a write to proceed together.
    public static func open(
        path: String,
        readers: Int,
        threadPool: NIOThreadPool,
        logger: Logger,
        busyTimeout: Duration = defaultBusyTimeout
    ) async throws -> SQLiteDatabase {
        guard (0...maximumReaders).contains(readers) else {
            throw SQLiteError.misuse("readers must be between 0 and \(maximumReaders)")
        }
        let inMemory = path == ":memory:"
        let readerCount = inMemory ? 0 : readers
        let timeoutMilliseconds = Int(busyTimeout.components.seconds * 1000 + busyTimeout.components.attoseconds / 1_000_000_000_000_000)
        let opened = try await onThreadPool(threadPool) { () throws -> [ConnectionPool.Lease] in
            if !inMemory {
                try SQLiteConnection.createParentDirectories(of: path)
            }
            var leases: [ConnectionPool.Lease] = []
            do throws(SQLiteError) {
                let writer = try SQLiteConnection.open(path: path)
                leases.append(.init(writer))
                let journalMode = try configure(writer, busyTimeoutMilliseconds: timeoutMilliseconds, reader: false)
                if !inMemory && journalMode != "wal" {
                    logger.warning("SQLite refused WAL mode; readers will wait for writers", metadata: ["path": "\(path)", "journalMode": "\(journalMode)"])
                }
                for _ in 0..<readerCount {
                    let reader = try SQLiteConnection.open(path: path)
                    leases.append(.init(reader))
                    _ = try configure(reader, busyTimeoutMilliseconds: timeoutMilliseconds, reader: true)
                }
            } catch {
                for lease in leases { lease.connection.close() }
                throw error
            }
            return leases
        }
        let writer = ConnectionPool([opened[0].connection], threadPool: threadPool, stoppedError: threadPoolStopped, batchRunner: commitTogether)
        let readerPool = readerCount == 0
            ? writer : ConnectionPool(opened.dropFirst().map { $0.connection }, threadPool: threadPool, stoppedError: threadPoolStopped)
        logger.info("Opened SQLite database", metadata: ["path": "\(path)", "readers": "\(readerCount)"])
        return SQLiteDatabase(path: path, threadPool: threadPool, logger: logger, writer: writer, readers: readerPool)
    }

    /// Applies the per-connection settings; returns the journal mode now in force.
    private static func configure(_ connection: SQLiteConnection, busyTimeoutMilliseconds: Int, reader: Bool) throws(SQLiteError) -> String {
        // NORMAL is durable across application crashes in WAL mode; only a power loss may drop
        // the last transactions, never corrupt the file. FULL would fsync on every commit.
        try connection.executeScript("""
            PRAGMA busy_timeout = \(busyTimeoutMilliseconds);
            PRAGMA synchronous = NORMAL;
            PRAGMA foreign_keys = ON;
            """)
        if reader {
            try connection.executeScript("PRAGMA query_only = ON;")
            return "wal"
        }
        // The journal mode is stored in the file, so setting it once on the writer is enough.
        return try connection.query("PRAGMA journal_mode = WAL").first?.string(at: 0) ?? ""
    }

    /// Runs `body` on a reader connection inside one read transaction, so every query in it sees
    /// the same snapshot even while writes commit.
    ///
    /// The connection is `query_only`: a write in `body` fails with an SQLiteError.
    /// Connections (the writer and the readers), how many are in use, and callers waiting for one.
    public var poolUsage: (capacity: Int, inUse: Int, waiting: Int) {
        let write = writer.usage
        guard !readersShareWriter else { return (writer.capacity, write.inUse, write.waiting) }
        let read = readers.usage
        return (writer.capacity + readers.capacity, write.inUse + read.inUse, write.waiting + read.waiting)
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        let sharesWriter = readersShareWriter
        let registry = functions.withLock { $0 }
        return try await readers.run { connection in
            try connection.install(registry)
            if sharesWriter {
                try connection.execute("PRAGMA query_only = ON")
            }
            defer {
                if sharesWriter { _ = try? connection.execute("PRAGMA query_only = OFF") }
            }
            return try Self.transaction(connection, begin: "BEGIN DEFERRED", body)
        }
    }

    /// Runs `body` on the writer connection inside `BEGIN IMMEDIATE … COMMIT`, after every write
    /// queued before it; when `body` throws, what it wrote is rolled back and the error rethrown.
    ///
    /// IMMEDIATE takes the write lock at the start, so a write never fails half-way with
    /// SQLITE_BUSY when it upgrades from reading to writing. Writes that queue up while the
    /// writer is busy commit together (group commit): each runs in its own savepoint inside one
    /// transaction, so one that throws is undone alone, and each caller resumes only after the
    /// shared `COMMIT`, which writes the pages they touched once instead of once per write.
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        let registry = functions.withLock { $0 }
        return try await writer.run(batchable: true) { connection in
            try connection.install(registry)
            return try body(connection)
        }
    }

    /// Makes `body` callable from SQL as `name(…)` on every connection, now and later.
    ///
    /// Connections pick up new functions before their next read or write. Registering a name
    /// and argument count again replaces the earlier function. `body` runs on a thread-pool
    /// thread in the middle of a statement: it must not block, and what it throws becomes an SQL
    /// error of that statement.
    public func registerFunction(
        name: String,
        argumentCount: Int,
        deterministic: Bool,
        _ body: @escaping @Sendable ([SQLiteValue]) throws -> SQLiteValue
    ) throws {
        try SQLiteFunction.validate(name: name, argumentCount: argumentCount)
        let function = SQLiteFunction(name: name, argumentCount: argumentCount, deterministic: deterministic, body: body)
        functions.withLock { $0.append(function) }
    }

    /// Waits for running reads and writes to finish, fails queued ones, and closes every
    /// connection; calls after it (and concurrent second calls, once done) fail or return cleanly.
    public func close() async {
        let first: Bool = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let resumeNow: Bool? = closeState.withLock { state in
                switch state {
                case .open:
                    state = .closing([])
                    return true
                case .closing(var waiters):
                    waiters.append(continuation)
                    state = .closing(waiters)
                    return nil
                case .closed:
                    return false
                }
            }
            if let resumeNow { continuation.resume(returning: resumeNow) }
        }
        guard first else { return }
        var leases = await writer.drain()
        if !readersShareWriter {
            leases += await readers.drain()
        }
        let toClose = leases
        do {
            try await Self.onThreadPool(threadPool) {
                for lease in toClose { lease.connection.close() }
            }
        } catch {
            // The thread pool has stopped: closing here briefly blocks, which beats leaking handles.
            for lease in toClose { lease.connection.close() }
        }
        logger.info("Closed SQLite database", metadata: ["path": "\(path)"])
        let waiters: [CheckedContinuation<Bool, Never>] = closeState.withLock { state in
            defer { state = .closed }
            if case .closing(let waiters) = state { return waiters }
            return []
        }
        for waiter in waiters { waiter.resume(returning: false) }
    }

    // MARK: Internals

    /// Runs `body` on the thread pool; a stopped pool becomes an ``SQLiteError/isClosed`` error.
    private static func onThreadPool<T: Sendable>(
        _ threadPool: NIOThreadPool,
        _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        do {
            return try await threadPool.runIfActive(body)
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw threadPoolStopped
        } catch is CancellationError where !Task.isCancelled {
            // A stopped pool cancels new work without the task itself being cancelled.
            throw threadPoolStopped
        }
    }

    private static let threadPoolStopped = SQLiteError(
        code: SQLiteError.closed.code, extendedCode: SQLiteError.closed.extendedCode, message: "the thread pool has stopped"
    )

    private static func transaction<T>(
        _ connection: SQLiteConnection,
        begin: String,
        _ body: (SQLiteConnection) throws -> T
    ) throws -> T {
        try connection.execute(begin)
        let result: T
        do {
            result = try body(connection)
            try connection.execute("COMMIT")
        } catch {
            // SQLite may already have rolled back on its own (e.g. after SQLITE_FULL).
            if !connection.isAutocommit {
                _ = try? connection.execute("ROLLBACK")
            }
            throw error
        }
        return result
    }

    /// The writer's batch runner: `jobs` in one `BEGIN IMMEDIATE … COMMIT`, each in a savepoint
    /// when there are several (one alone has the transaction to itself). A job that throws is
    /// undone alone and finished with its own error at once; the others finish after the
    /// `COMMIT`, or with its error when it fails. Should SQLite roll the whole transaction back by
    /// itself (it does after some I/O and out-of-memory errors), the jobs done before that point
    /// finish with ``rolledBackWithOthers`` and the rest go on in a new transaction.
    private static func commitTogether(_ connection: SQLiteConnection, _ jobs: [ConnectionPool.Job]) {
        let savepoints = jobs.count > 1
        /// Done, waiting for the `COMMIT`.
        var done: [ConnectionPool.Job] = []
        /// `jobs[unfinished...]` are neither finished nor in `done`.
        var unfinished = 0
        do {
            try connection.execute("BEGIN IMMEDIATE")
            for (index, job) in jobs.enumerated() {
                if savepoints { try connection.execute("SAVEPOINT faros_write") }
                if job.attempt(connection) {
                    if savepoints { try connection.execute("RELEASE faros_write") }
                    done.append(job)
                } else if connection.isAutocommit {
                    job.finish(nil)
                    for other in done { other.finish(rolledBackWithOthers) }
                    done = []
                    unfinished = index + 1
                    if unfinished < jobs.count { try connection.execute("BEGIN IMMEDIATE") }
                } else {
                    try connection.execute(savepoints ? "ROLLBACK TO faros_write" : "ROLLBACK")
                    if savepoints { try connection.execute("RELEASE faros_write") }
                    job.finish(nil)
                }
                unfinished = index + 1
            }
            if !connection.isAutocommit { try connection.execute("COMMIT") }
        } catch {
            if !connection.isAutocommit { _ = try? connection.execute("ROLLBACK") }
            for job in done + jobs[unfinished...] { job.finish(error) }
            return
        }
        for job in done { job.finish(nil) }
    }

    /// What a write gets whose work SQLite rolled back together with a failing write of the
    /// same group commit (SQLITE_ABORT).
    static let rolledBackWithOthers = SQLiteError(
        code: 4, message: "the transaction was rolled back by SQLite after an error in a write committed with this one"
    )
}
