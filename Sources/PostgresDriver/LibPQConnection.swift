import CLibPQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one owner of a libpq `PGconn`: every libpq call and every C pointer of the driver lives here.
///
/// Nothing in this file is thread-safe: a `LibPQConnection` is used by one thread at a time (the
/// pool hands it to exactly one lease holder), which is what libpq requires of a `PGconn`.
final class LibPQConnection {
    private let handle: OpaquePointer

    /// Set when the protocol state can no longer be trusted (an unexpected COPY, a lost result), so
    /// the owner discards the connection even though libpq still reports it as open.
    private var poisoned = false

    /// Opens a blocking connection; libpq fills what `url` leaves out from the `PG*` variables.
    ///
    /// - Parameters:
    ///   - url: a `postgres://` URL, already validated by `LibPQConnection.validate(url:)`.
    ///   - connectTimeoutSeconds: libpq's `connect_timeout`, which bounds each host attempt; it is
    ///     listed after the URL so the configuration wins over a `connect_timeout` in the URL.
    init(url: String, connectTimeoutSeconds: Int, applicationName: String) throws(PostgresError) {
        let keywords = ["dbname", "connect_timeout", "fallback_application_name"]
        let values = [url, String(max(connectTimeoutSeconds, 2)), applicationName]
        let connection: OpaquePointer? = Self.withCStringArray(keywords) { keys in
            Self.withCStringArray(values) { vals in
                PQconnectdbParams(keys, vals, 1)
            }
        }
        guard let connection else {
            throw PostgresError(kind: .connection, message: "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(kind: .connection, message: message.isEmpty ? "connection failed" : message)
        }
        // Clients never depend on the server's notices (they go to stderr by default).
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        self.handle = connection
    }

    /// Set once `PQfinish` has run; the handle must not be touched afterwards.
    private var finished = false

    deinit {
        finish()
    }

    /// Closes the session (sends Terminate and closes the socket); later calls find it broken.
    func finish() {
        guard !finished else { return }
        finished = true
        PQfinish(handle)
    }

    /// Checks a conninfo URL with libpq's own parser, without connecting.
    ///
    /// - Returns: libpq's description of the problem, or nil when the URL parses.
    static func validate(url: String) -> String? {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(url, &errorMessage) else {
            defer { if let errorMessage { PQfreemem(errorMessage) } }
            return errorMessage.map { trimmed($0) } ?? "out of memory while parsing the URL"
        }
        PQconninfoFree(options)
        return nil
    }

    /// Whether this connection can no longer serve queries and must be thrown away.
    var isBroken: Bool {
        finished || poisoned || PQstatus(handle) != CONNECTION_OK
    }

    /// Whether the session is outside any transaction block, so it can go back to the pool; a
    /// `COMMIT` sent by ``sendWithoutWaiting(_:)`` counts as ended.
    var isIdle: Bool {
        !finished && (unsettled || PQtransactionStatus(handle) == PQTRANS_IDLE)
    }

    /// Whether the session is inside a transaction block that already failed.
    var isInFailedTransaction: Bool {
        PQtransactionStatus(handle) == PQTRANS_INERROR
    }

    /// Re-establishes the connection with the same parameters; server-side state (prepared
    /// statements, LISTENs) is gone afterwards.
    func reset() -> Bool {
        guard !finished else { return false }
        PQreset(handle)
        poisoned = false
        unsettled = false
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Runs one or more statements in the simple-query protocol; returns the last statement's result.
    func exec(_ sql: String) throws(PostgresError) -> LibPQResult {
        try settle()
        try Self.requireNoNUL(sql, what: "SQL text")
        return try takeResult(PQexec(handle, sql))
    }

    /// Runs a prepared statement; text parameters must already be NUL-free.
    func execPrepared(name: String, parameters: [LibPQParameter]) throws(PostgresError) -> LibPQResult {
        try settle()
        let result: OpaquePointer? = Self.withParameterArrays(parameters) { count, values, lengths, formats in
            PQexecPrepared(handle, name, count, values, lengths, formats, 0)
        }
        return try takeResult(result)
    }

    /// Sends every request at once and waits once for all their results: one round trip to the
    /// server instead of one per request (libpq's pipeline mode).
    ///
    /// The server runs the requests in order and skips every one after a failure, so the first
    /// failure is what this throws.
    ///
    /// - Returns: the last request's result.
    func pipeline(_ requests: [LibPQRequest]) throws(PostgresError) -> LibPQResult {
        try settle()
        // What libpq would refuse is refused before anything is queued, so only a lost
        // connection can stop a pipeline half sent.
        for request in requests {
            switch request {
            case .statement(let sql):
                try Self.requireNoNUL(sql, what: "SQL text")
            case .prepare(_, let sql, let types):
                try Self.requireNoNUL(sql, what: "SQL text")
                try Self.requireParameterCount(types.count)
            case .execute(_, let parameters):
                try Self.requireParameterCount(parameters.count)
            }
        }
        guard PQenterPipelineMode(handle) == 1 else { throw connectionError() }
        for request in requests {
            let sent: Int32
            switch request {
            case .statement(let sql):
                sent = PQsendQueryParams(handle, sql, 0, nil, nil, nil, nil, 0)
            case .prepare(let name, let sql, let types):
                sent = types.withUnsafeBufferPointer { types in
                    PQsendPrepare(handle, name, sql, Int32(types.count), types.baseAddress)
                }
            case .execute(let name, let parameters):
                sent = Self.withParameterArrays(parameters) { count, values, lengths, formats in
                    PQsendQueryPrepared(handle, name, count, values, lengths, formats, 0)
                }
            }
            // Half a pipeline already queued cannot be taken back: the session is not reused.
            guard sent == 1 else { poisoned = true; throw connectionError() }
        }
        guard PQpipelineSync(handle) == 1 else { poisoned = true; throw connectionError() }
        var last = LibPQResult(columns: .empty, rows: [], affectedRows: 0)
        var failure: PostgresError?
        for _ in requests {
            // Each request's results end with a null result.
            guard let result = PQgetResult(handle) else { poisoned = true; throw connectionError() }
            if PQresultStatus(result) == PGRES_PIPELINE_ABORTED {
                PQclear(result)
            } else {
                do {
                    last = try takeResult(result)
                } catch {
                    if failure == nil { failure = error }
                }
            }
            if let extra = PQgetResult(handle) {
                PQclear(extra)
                poisoned = true
                throw PostgresError(kind: .connection, message: "more results than requests in a pipeline")
            }
        }
        guard let sync = PQgetResult(handle) else { poisoned = true; throw connectionError() }
        let synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC
        PQclear(sync)
        guard synced, PQexitPipelineMode(handle) == 1 else {
            poisoned = true
            throw failure ?? PostgresError(kind: .connection, message: "a pipeline did not end at its synchronization point")
        }
        if let failure { throw failure }
        return last
    }

    /// Sends a statement without waiting for its result (a read-only `COMMIT`): the result is
    /// read, and dropped, by whatever runs next on this connection.
    ///
    /// A failure shows there only when it broke the connection; the statement's own error is
    /// not reported to anyone, so use this only for statements whose outcome nobody needs.
    func sendWithoutWaiting(_ sql: String) throws(PostgresError) {
        try settle()
        try Self.requireNoNUL(sql, what: "SQL text")
        guard PQsendQuery(handle, sql) == 1 else { throw connectionError() }
        unsettled = true
    }

    /// Whether a result of ``sendWithoutWaiting(_:)`` is still to be read.
    private(set) var unsettled = false

    /// Reads and drops what ``sendWithoutWaiting(_:)`` left unread (usually already arrived), so
    /// the next request starts on a quiet connection; every request calls it first.
    private func settle() throws(PostgresError) {
        try requireOpen()
        guard unsettled else { return }
        unsettled = false
        while let result = PQgetResult(handle) {
            PQclear(result)
        }
        guard PQstatus(handle) == CONNECTION_OK else { throw connectionError() }
    }

    /// Quotes an identifier (a LISTEN channel) with libpq's escaping for this connection's encoding.
    func escapeIdentifier(_ identifier: String) throws(PostgresError) -> String {
        try requireOpen()
        try Self.requireNoNUL(identifier, what: "identifier")
        let count = identifier.utf8.count
        guard let escaped = PQescapeIdentifier(handle, identifier, count) else {
            throw PostgresError(kind: .invalidArgument, message: Self.trimmed(PQerrorMessage(handle)))
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    /// Reads whatever the server has sent and returns the notifications received so far.
    func drainNotifications() throws(PostgresError) -> [PostgresNotification] {
        try settle()
        guard PQconsumeInput(handle) == 1 else {
            throw connectionError()
        }
        var notifications: [PostgresNotification] = []
        while let notify = PQnotifies(handle) {
            notifications.append(
                PostgresNotification(
                    channel: String(cString: notify.pointee.relname),
                    payload: String(cString: notify.pointee.extra)
                )
            )
            PQfreemem(notify)
        }
        return notifications
    }

    /// Blocks until the connection's socket is readable or `milliseconds` pass.
    ///
    /// - Returns: whether the socket became readable.
    func waitReadable(milliseconds: Int32) throws(PostgresError) -> Bool {
        try requireOpen()
        let socket = PQsocket(handle)
        guard socket >= 0 else { throw connectionError() }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, milliseconds)
        if ready > 0 { return true }
        // A signal ends the wait early like a timeout; the caller re-checks its own deadline.
        if ready == 0 || errno == EINTR { return false }
        throw PostgresError(kind: .connection, message: "poll() on the connection failed: errno \(errno)")
    }

    /// After `finish()` the handle is freed memory; every call that uses it checks first.
    private func requireOpen() throws(PostgresError) {
        if finished { throw PostgresError(kind: .connection, message: "the connection is closed") }
    }

    private func connectionError() -> PostgresError {
        let message = Self.trimmed(PQerrorMessage(handle))
        return PostgresError(kind: .connection, message: message.isEmpty ? "connection lost" : message)
    }

    /// Converts a `PGresult` into Swift values and frees it.
    private func takeResult(_ result: OpaquePointer?) throws(PostgresError) -> LibPQResult {
        guard let result else {
            // No result: libpq refused to send (e.g. more than 65535 parameters) or lost the server.
            guard PQstatus(handle) == CONNECTION_OK else { throw connectionError() }
            let message = Self.trimmed(PQerrorMessage(handle))
            throw PostgresError(kind: .invalidArgument, message: message.isEmpty ? "libpq refused the statement" : message)
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        switch status {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return LibPQResult(columns: .empty, rows: [], affectedRows: Self.affectedRows(result))
        case PGRES_TUPLES_OK:
            return LibPQResult(columns: Self.columns(result), rows: Self.rows(result), affectedRows: Self.affectedRows(result))
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
            throw serverError(result)
        default:
            // COPY and pipeline states are never started by this driver; the session is now in a
            // state it cannot leave cleanly.
            poisoned = true
            throw PostgresError(
                kind: .connection,
                message: "unsupported result status \(String(cString: PQresStatus(status)))"
            )
        }
    }

    private func serverError(_ result: OpaquePointer) -> PostgresError {
        func field(_ code: Int32) -> String? {
            PQresultErrorField(result, code).map { String(cString: $0) }
        }
        let primary = field(faros_pg_diag_message_primary()) ?? Self.trimmed(PQresultErrorMessage(result))
        let gone = PQstatus(handle) != CONNECTION_OK
        return PostgresError(
            kind: gone ? .connection : .server,
            sqlState: field(faros_pg_diag_sqlstate()),
            message: primary.isEmpty ? "server error" : primary,
            constraint: field(faros_pg_diag_constraint_name())
        )
    }

    private static func affectedRows(_ result: OpaquePointer) -> Int {
        guard let tuples = PQcmdTuples(result) else { return 0 }
        return Int(String(cString: tuples)) ?? 0
    }

    private static func columns(_ result: OpaquePointer) -> PostgresColumns {
        let count = Int(PQnfields(result))
        var names: [String] = []
        var types: [UInt32] = []
        names.reserveCapacity(count)
        types.reserveCapacity(count)
        for index in 0..<Int32(count) {
            names.append(PQfname(result, index).map { String(cString: $0) } ?? "")
            types.append(PQftype(result, index))
        }
        return PostgresColumns(names: names, types: types)
    }

    private static func rows(_ result: OpaquePointer) -> [[String?]] {
        let rowCount = PQntuples(result)
        let columnCount = PQnfields(result)
        var rows: [[String?]] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, row, column)))
                }
            }
            rows.append(values)
        }
        return rows
    }

    /// Lays `parameters` out as libpq's parallel arrays: all bytes in one buffer, text ones
    /// NUL-terminated as libpq requires; the pointers live only during `body`.
    private static func withParameterArrays<R>(
        _ parameters: [LibPQParameter],
        _ body: (Int32, [UnsafePointer<CChar>?], [Int32], [Int32]) -> R
    ) -> R {
        var storage: [UInt8] = []
        var offsets: [Int] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        for parameter in parameters {
            guard let bytes = parameter.bytes else {
                offsets.append(-1)
                lengths.append(0)
                formats.append(0)
                continue
            }
            offsets.append(storage.count)
            storage.append(contentsOf: bytes)
            if !parameter.isBinary { storage.append(0) }
            lengths.append(Int32(bytes.count))
            formats.append(parameter.isBinary ? 1 : 0)
        }
        if storage.isEmpty { storage.append(0) }  // so baseAddress is never nil
        return storage.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                let values: [UnsafePointer<CChar>?] = offsets.map { $0 < 0 ? nil : UnsafePointer(chars.baseAddress! + $0) }
                return body(Int32(parameters.count), values, lengths, formats)
            }
        }
    }

    /// The protocol counts parameters in 16 bits.
    private static func requireParameterCount(_ count: Int) throws(PostgresError) {
        if count > 65_535 {
            throw PostgresError(kind: .invalidArgument, message: "a statement takes at most 65535 parameters, not \(count)")
        }
    }

    /// libpq reads C strings: an embedded NUL would silently cut the text short.
    static func requireNoNUL(_ text: String, what: String) throws(PostgresError) {
        if text.utf8.contains(0) {
            throw PostgresError(kind: .invalidArgument, message: "\(what) contains a NUL character, which PostgreSQL text cannot hold")
        }
    }

    private static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "" }
        var text = String(cString: message)
        while text.last?.isWhitespace == true { text.removeLast() }
        return text
    }

    private static func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        var duplicates: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        defer { duplicates.forEach { free($0) } }
        duplicates.append(nil)
        return duplicates.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { body($0.baseAddress!) }
        }
    }
}

/// One request of ``LibPQConnection/pipeline(_:)``.
enum LibPQRequest {
    /// One statement without parameters (`BEGIN`, `COMMIT`), in the extended protocol.
    case statement(String)
    /// Creates a named server-side prepared statement with fixed parameter types (0 = inferred).
    case prepare(name: String, sql: String, parameterTypes: [UInt32])
    /// Runs a named prepared statement; text parameters must already be NUL-free.
    case execute(name: String, parameters: [LibPQParameter])
}

/// One statement parameter as libpq receives it: text (NUL-free) or binary bytes, or SQL NULL.
struct LibPQParameter {
    var bytes: [UInt8]?
    var isBinary: Bool
}

/// A statement's outcome as plain Swift values.
struct LibPQResult {
    var columns: PostgresColumns
    var rows: [[String?]]
    var affectedRows: Int
}
