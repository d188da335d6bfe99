import CSQLite

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One open SQLite connection, handed to the closures of ``SQLiteDatabase/read(_:)`` and
/// ``SQLiteDatabase/write(_:)`` on a thread-pool thread.
///
/// It is deliberately not `Sendable`: the database checks each connection out to exactly one
/// closure at a time, and a non-Sendable parameter cannot escape that closure into other tasks.
/// Every C call and every SQLite pointer of the driver lives in this file.
///
/// Prepared statements are cached by SQL text, so the same query text runs without being parsed
/// again; write SQL with `?` placeholders and pass values as bindings, never by interpolation.
public final class SQLiteConnection {
    /// The `sqlite3*` handle; nil once closed.
    private var handle: OpaquePointer?
    private var statements: StatementCache
    /// How many functions of the database's registry this connection has installed; the registry
    /// only grows, so installing the tail keeps every connection current.
    var installedFunctionCount = 0

    /// Statements kept per connection. 64 covers every distinct query text a store issues in
    /// normal operation, while bounding memory (a statement holds its compiled program, a few KiB)
    /// when callers build SQL dynamically (e.g. `IN (?, ?, …)` lists of varying length).
    static let defaultStatementCacheCapacity = 64

    private init(handle: OpaquePointer, statementCacheCapacity: Int) {
        self.handle = handle
        self.statements = StatementCache(capacity: statementCacheCapacity)
    }

    deinit {
        close()
    }

    /// Opens (creating if needed) the database file at `path`; call only on a thread-pool thread.
    static func open(path: String, statementCacheCapacity: Int = defaultStatementCacheCapacity) throws(SQLiteError) -> SQLiteConnection {
        _ = libraryInitialized
        // FULLMUTEX although one thread uses a connection at a time: it costs an uncontended lock
        // per call and keeps SQLite safe should a connection ever be misused across threads.
        // EXRESCODE makes every error carry its extended code (unique vs foreign key, …).
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE
        var raw: OpaquePointer?
        let rc = sqlite3_open_v2(path, &raw, flags, nil)
        guard rc == SQLITE_OK, let raw else {
            let message = raw.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(raw)
            throw SQLiteError(extendedCode: rc, message: "cannot open \(path): \(message)")
        }
        return SQLiteConnection(handle: raw, statementCacheCapacity: statementCacheCapacity)
    }

    /// `sqlite3_initialize` is not safe to race with a first `sqlite3_open`, so it runs once, in a
    /// Swift global initializer (which the runtime runs exactly once, thread-safely).
    private static let libraryInitialized: Int32 = sqlite3_initialize()

    /// Closes the handle after finalizing every cached statement; later calls fail with
    /// ``SQLiteError/isClosed``. Closing twice does nothing.
    func close() {
        guard let handle else { return }
        statements.removeAll()
        // close_v2 never fails on a busy handle: any statement still open delays the close instead.
        sqlite3_close_v2(handle)
        self.handle = nil
    }

    // MARK: Statements

    /// Runs one statement and returns how many rows it inserted, updated or deleted (0 for
    /// anything else, including DDL and SELECT).
    @discardableResult
    public func execute(_ sql: String, _ bindings: [SQLiteValue] = []) throws(SQLiteError) -> Int {
        let db = try openHandle()
        let totalBefore = sqlite3_total_changes64(db)
        try run(sql, bindings) { _ in { _ in } }
        // sqlite3_changes keeps the count of the last INSERT/UPDATE/DELETE, so a statement that
        // changed nothing would report a stale number without this check.
        guard sqlite3_total_changes64(db) != totalBefore else { return 0 }
        return Int(sqlite3_changes64(db))
    }

    /// Runs one statement and returns all its rows.
    public func query(_ sql: String, _ bindings: [SQLiteValue] = []) throws(SQLiteError) -> [SQLiteRow] {
        var rows: [SQLiteRow] = []
        try run(sql, bindings) { statement in
            let count = sqlite3_column_count(statement)
            let layout = SQLiteRow.Layout(names: (0..<count).map { String(cString: sqlite3_column_name(statement, $0)) })
            return { statement in
                var values: [SQLiteValue] = []
                values.reserveCapacity(Int(count))
                for column in 0..<count {
                    values.append(Self.columnValue(statement, column))
                }
                rows.append(SQLiteRow(layout: layout, values: values))
            }
        }
        return rows
    }

    /// Runs several `;`-separated statements without bindings, for migrations and pragmas.
    ///
    /// Statements are not cached. The text stops at the first NUL character.
    public func executeScript(_ sql: String) throws(SQLiteError) {
        let db = try openHandle()
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &errorMessage)
        defer { sqlite3_free(errorMessage) }
        guard rc == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            throw SQLiteError(extendedCode: sqlite3_extended_errcode(db), message: message)
        }
    }

    /// The rowid of the most recent successful INSERT on this connection.
    public var lastInsertRowID: Int64 {
        handle.map { sqlite3_last_insert_rowid($0) } ?? 0
    }

    /// False while a transaction is open.
    var isAutocommit: Bool {
        handle.map { sqlite3_get_autocommit($0) != 0 } ?? true
    }

    /// How many prepared statements the cache holds now.
    var cachedStatementCount: Int { statements.count }

    /// Steps `sql` to completion. `start` is called once the statement is ready and returns the
    /// per-row callback, so column names are read once per run, not once per row.
    private func run(
        _ sql: String,
        _ bindings: [SQLiteValue],
        start: (OpaquePointer) -> (OpaquePointer) -> Void
    ) throws(SQLiteError) {
        let db = try openHandle()
        let statement = try cachedStatement(sql, db)
        // A cached statement is reset on every exit so it holds no read snapshot or bindings.
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        try bind(bindings, to: statement, db)
        let onRow = start(statement)
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_ROW {
                onRow(statement)
            } else if rc == SQLITE_DONE {
                return
            } else {
                throw Self.error(rc, db)
            }
        }
    }

    private func cachedStatement(_ sql: String, _ db: OpaquePointer) throws(SQLiteError) -> OpaquePointer {
        if let statement = statements.lookup(sql) {
            return statement
        }
        let statement = try prepareSingle(sql, db)
        statements.insert(statement, for: sql)
        return statement
    }

    /// Prepares exactly one statement; text after it other than whitespace, `;` and comments is
    /// refused, so `execute` and `query` never run a second statement hidden in their SQL.
    private func prepareSingle(_ sql: String, _ db: OpaquePointer) throws(SQLiteError) -> OpaquePointer {
        var text = sql
        let result: Result<OpaquePointer, SQLiteError> = text.withUTF8 { utf8 in
            guard let base = utf8.baseAddress, !utf8.isEmpty else {
                return .failure(.misuse("empty SQL"))
            }
            guard utf8.count < Int32.max else {
                return .failure(SQLiteError(code: SQLITE_TOOBIG, message: "SQL text too long"))
            }
            return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) { start in
                let end = start + utf8.count
                var statement: OpaquePointer?
                var tail: UnsafePointer<CChar>?
                let rc = sqlite3_prepare_v3(db, start, Int32(utf8.count), UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
                guard rc == SQLITE_OK else { return .failure(Self.error(rc, db)) }
                guard let statement else { return .failure(.misuse("SQL holds no statement")) }
                // Comments and `;` prepare to no statement, so the rest is walked until its end.
                while let rest = tail, rest < end {
                    var extra: OpaquePointer?
                    let restRC = sqlite3_prepare_v2(db, rest, Int32(end - rest), &extra, &tail)
                    if restRC != SQLITE_OK || extra != nil {
                        sqlite3_finalize(extra)
                        sqlite3_finalize(statement)
                        return .failure(.misuse("execute and query take one statement; use executeScript for several"))
                    }
                }
                return .success(statement)
            }
        }
        return try result.get()
    }

    private func bind(_ bindings: [SQLiteValue], to statement: OpaquePointer, _ db: OpaquePointer) throws(SQLiteError) {
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard bindings.count == expected else {
            throw SQLiteError(code: SQLITE_RANGE, message: "the statement takes \(expected) bindings, \(bindings.count) given")
        }
        for (offset, value) in bindings.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null:
                rc = sqlite3_bind_null(statement, index)
            case .integer(let number):
                rc = sqlite3_bind_int64(statement, index, number)
            case .real(let number):
                rc = sqlite3_bind_double(statement, index, number)
            case .text(var text):
                rc = text.withUTF8 { utf8 in
                    guard utf8.count <= Int32.max else { return SQLITE_TOOBIG }
                    // A nil pointer would bind NULL, so empty text binds a literal "".
                    guard let base = utf8.baseAddress, !utf8.isEmpty else {
                        return faros_sqlite3_bind_text_transient(statement, index, "", 0)
                    }
                    return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                        faros_sqlite3_bind_text_transient(statement, index, $0, Int32(utf8.count))
                    }
                }
            case .blob(let bytes):
                rc = bytes.withUnsafeBytes { raw in
                    guard raw.count <= Int32.max else { return SQLITE_TOOBIG }
                    // Likewise a nil pointer would bind NULL, so an empty blob is a zero-length blob.
                    guard let base = raw.baseAddress, !raw.isEmpty else {
                        return sqlite3_bind_zeroblob(statement, index, 0)
                    }
                    return faros_sqlite3_bind_blob_transient(statement, index, base, Int32(raw.count))
                }
            }
            guard rc == SQLITE_OK else { throw Self.error(rc, db) }
        }
    }

    private static func columnValue(_ statement: OpaquePointer, _ column: Int32) -> SQLiteValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            // The pointer must be fetched before the length (SQLite's documented order).
            let text = sqlite3_column_text(statement, column)
            let count = Int(sqlite3_column_bytes(statement, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: text == nil ? 0 : count), as: UTF8.self))
        case SQLITE_BLOB:
            let bytes = sqlite3_column_blob(statement, column)
            let count = Int(sqlite3_column_bytes(statement, column))
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : count)))
        default:
            return .null
        }
    }

    private func openHandle() throws(SQLiteError) -> OpaquePointer {
        guard let handle else { throw .closed }
        return handle
    }

    /// The error for `rc`, with the connection's message when it describes the same failure.
    private static func error(_ rc: Int32, _ db: OpaquePointer) -> SQLiteError {
        let extended = sqlite3_extended_errcode(db)
        if extended & 0xFF == rc & 0xFF {
            return SQLiteError(extendedCode: extended, message: String(cString: sqlite3_errmsg(db)))
        }
        return SQLiteError(extendedCode: rc, message: String(cString: sqlite3_errstr(rc)))
    }

    // MARK: Functions

    /// Installs the functions of `registry` this connection does not have yet.
    func install(_ registry: [SQLiteFunction]) throws(SQLiteError) {
        guard installedFunctionCount < registry.count else { return }
        let db = try openHandle()
        for function in registry[installedFunctionCount...] {
            let flags = SQLITE_UTF8 | (function.deterministic ? SQLITE_DETERMINISTIC : 0)
            let box = Unmanaged.passRetained(FunctionBox(function.body)).toOpaque()
            // On failure SQLite calls the destructor itself, so the box is released either way.
            let rc = sqlite3_create_function_v2(
                db, function.name, Int32(function.argumentCount), flags, box,
                { context, argc, argv in SQLiteConnection.callFunction(context, argc, argv) },
                nil, nil,
                { box in box.map { Unmanaged<FunctionBox>.fromOpaque($0).release() } }
            )
            guard rc == SQLITE_OK else { throw Self.error(rc, db) }
            installedFunctionCount += 1
        }
    }

    /// Holds a Swift function body for SQLite's `void *` user data.
    private final class FunctionBox {
        let body: @Sendable ([SQLiteValue]) throws -> SQLiteValue
        init(_ body: @escaping @Sendable ([SQLiteValue]) throws -> SQLiteValue) { self.body = body }
    }

    private static func callFunction(_ context: OpaquePointer?, _ argc: Int32, _ argv: UnsafeMutablePointer<OpaquePointer?>?) {
        guard let context, let userData = sqlite3_user_data(context) else { return }
        let box = Unmanaged<FunctionBox>.fromOpaque(userData).takeUnretainedValue()
        var arguments: [SQLiteValue] = []
        arguments.reserveCapacity(Int(argc))
        for index in 0..<Int(argc) {
            arguments.append(argumentValue(argv?[index]))
        }
        let result: SQLiteValue
        do {
            result = try box.body(arguments)
        } catch {
            sqlite3_result_error(context, "\(error)", -1)
            return
        }
        switch result {
        case .null:
            sqlite3_result_null(context)
        case .integer(let number):
            sqlite3_result_int64(context, number)
        case .real(let number):
            sqlite3_result_double(context, number)
        case .text(var text):
            text.withUTF8 { utf8 in
                guard utf8.count <= Int32.max else { return sqlite3_result_error_toobig(context) }
                guard let base = utf8.baseAddress, !utf8.isEmpty else {
                    return faros_sqlite3_result_text_transient(context, "", 0)
                }
                base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                    faros_sqlite3_result_text_transient(context, $0, Int32(utf8.count))
                }
            }
        case .blob(let bytes):
            bytes.withUnsafeBytes { raw in
                guard raw.count <= Int32.max else { return sqlite3_result_error_toobig(context) }
                guard let base = raw.baseAddress, !raw.isEmpty else {
                    return sqlite3_result_zeroblob(context, 0)
                }
                faros_sqlite3_result_blob_transient(context, base, Int32(raw.count))
            }
        }
    }

    private static func argumentValue(_ value: OpaquePointer?) -> SQLiteValue {
        guard let value else { return .null }
        switch sqlite3_value_type(value) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_value_int64(value))
        case SQLITE_FLOAT:
            return .real(sqlite3_value_double(value))
        case SQLITE_TEXT:
            let text = sqlite3_value_text(value)
            let count = Int(sqlite3_value_bytes(value))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: text == nil ? 0 : count), as: UTF8.self))
        case SQLITE_BLOB:
            let bytes = sqlite3_value_blob(value)
            let count = Int(sqlite3_value_bytes(value))
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : count)))
        default:
            return .null
        }
    }

    // MARK: Files

    /// Creates the directories above `path` (mode 0700: the data directory also holds secrets).
    static func createParentDirectories(of path: String) throws(SQLiteError) {
        var components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        components.removeLast()
        var current = ""
        for (offset, component) in components.enumerated() {
            current += offset == 0 ? component : "/" + component
            guard !component.isEmpty, component != ".", component != ".." else { continue }
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw SQLiteError(code: SQLITE_CANTOPEN, message: "cannot create directory \(current): errno \(errno)")
            }
        }
    }
}

/// Prepared statements by SQL text, least recently used evicted first.
///
/// Eviction scans for the oldest entry: with a capacity of 64 this is cheaper than maintaining a
/// linked list on every hit, and it happens only on a miss when full.
private struct StatementCache {
    private struct Entry {
        let statement: OpaquePointer
        var lastUse: UInt64
    }

    private var entries: [String: Entry] = [:]
    private var clock: UInt64 = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { entries.count }

    mutating func lookup(_ sql: String) -> OpaquePointer? {
        guard let entry = entries[sql] else { return nil }
        clock += 1
        entries[sql]!.lastUse = clock
        return entry.statement
    }

    mutating func insert(_ statement: OpaquePointer, for sql: String) {
        if entries.count >= capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            sqlite3_finalize(oldest.value.statement)
            entries[oldest.key] = nil
        }
        clock += 1
        entries[sql] = Entry(statement: statement, lastUse: clock)
    }

    mutating func removeAll() {
        for entry in entries.values {
            sqlite3_finalize(entry.statement)
        }
        entries = [:]
    }
}
