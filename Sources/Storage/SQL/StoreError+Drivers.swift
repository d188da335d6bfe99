import Handlers
import NIOPosix
import PostgresDriver
import SQLiteDriver

extension StoreError {
    /// Classifies an SQLite error: a unique violation is a conflict naming the API field its
    /// columns stand for; busy (another process held the lock past the busy timeout) and closed
    /// are ``Kind/unavailable``; anything else is a ``Kind/failure``.
    init(sqlite error: SQLiteError) {
        if error.isUniqueViolation {
            self.init(.conflict(field: ConflictField.forSQLite(message: error.message)), underlying: error)
        } else if error.isBusy || error.isClosed {
            self.init(.unavailable, underlying: error)
        } else {
            self.init(.failure, underlying: error)
        }
    }

    /// Classifies a PostgreSQL error: a unique violation is a conflict naming the API field of
    /// its constraint; a lost or refused connection, a pool timeout, a closed pool, and a
    /// deadlock or serialization failure (retrying the call can succeed) are
    /// ``Kind/unavailable``; anything else is a ``Kind/failure``.
    init(postgres error: PostgresError) {
        if error.isUniqueViolation {
            self.init(.conflict(field: ConflictField.forPostgres(constraint: error.constraint)), underlying: error)
        } else if error.isConnectionFailure || error.isPoolTimeout || error.kind == .poolClosed || error.isSerializationFailure {
            self.init(.unavailable, underlying: error)
        } else {
            self.init(.failure, underlying: error)
        }
    }

    /// `error` as the store lets it out: drivers' errors classified, a stopped thread pool
    /// unavailable, everything else (the body's own errors, ``StoreError``s, cancellation)
    /// unchanged.
    static func mapping(_ error: any Error) -> any Error {
        switch error {
        case let error as SQLiteError: StoreError(sqlite: error)
        case let error as PostgresError: StoreError(postgres: error)
        case is NIOThreadPoolError.ThreadPoolInactive: StoreError(.unavailable, underlying: error)
        default: error
        }
    }
}

/// Which API field each unique constraint stands for, so a conflict can name it (-32009
/// `{"field": …}`).
///
/// SQLite names the columns (`UNIQUE constraint failed: users.email`), PostgreSQL the constraint
/// (`users_email_unique`); both spellings are listed here beside each other, from the schema.
enum ConflictField {
    static func forSQLite(message: String) -> String? {
        guard let range = message.firstRange(of: "constraint failed: ") else { return nil }
        return sqliteColumns[String(message[range.upperBound...])]
    }

    static func forPostgres(constraint: String?) -> String? {
        constraint.flatMap { postgresConstraints[$0] }
    }

    static let sqliteColumns: [String: String] = [
        "users.username_folded": "username",
        "users.email": "email",
        "request_results.user_id, request_results.request_key": "requestKey",
    ]

    static let postgresConstraints: [String: String] = [
        "users_username_unique": "username",
        "users_email_unique": "email",
        "request_results_pkey": "requestKey",
    ]
}
