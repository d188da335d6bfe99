import ArgumentParser

/// The flags that say where the data lives; shared by `serve` and `migrate`.
struct StorageOptions: ParsableArguments {
    @Option(help: "Directory for the SQLite database, the JWT secret, the mail outbox and files. (env: FAROS_DATA_DIR; default: ./faros-data)")
    var dataDir: String?

    @Option(help: "postgres://… for PostgreSQL (libpq URL; PG* variables fill in the rest); unset for SQLite in the data directory. (env: FAROS_DATABASE_URL; default: SQLite)")
    var databaseURL: String?

    @Option(help: "Database connections (PostgreSQL) or reader connections (SQLite). (env: FAROS_DB_POOL_SIZE; default: 8)")
    var dbPoolSize: Int?

    @Option(help: "How long a call waits for a free database connection before failing with -32050. (env: FAROS_DB_POOL_TIMEOUT; default: 5s)")
    var dbPoolTimeout: String?

    @Option(help: "Log format: text or json. (env: FAROS_LOG_FORMAT; default: text)")
    var logFormat: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. (env: FAROS_LOG_LEVEL; default: info)")
    var logLevel: String?
}
