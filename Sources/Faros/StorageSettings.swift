import ArgumentParser
import Logging
import Storage

/// The resolved storage and logging settings (shared by `serve` and `migrate`).
struct StorageSettings {
    var store: StoreConfiguration
    var logFormat = Settings.LogFormat.text
    var logLevel = Logger.Level.info

    init(options: StorageOptions, environment: Environment) throws {
        let reader = SettingReader(environment: environment)
        let dataDirectory = reader.string(options.dataDir, "FAROS_DATA_DIR") ?? "./faros-data"
        guard !dataDirectory.isEmpty else {
            throw ValidationError("--data-dir / FAROS_DATA_DIR: expected a directory path")
        }
        var store = StoreConfiguration(databaseURL: reader.string(options.databaseURL, "FAROS_DATABASE_URL"), dataDirectory: dataDirectory)
        if let url = store.databaseURL, url.lowercased().hasPrefix("redis") {
            throw ValidationError("--database-url / FAROS_DATABASE_URL: expected postgres://… (or unset for SQLite)")
        }
        store.poolSize = try reader.value(options.dbPoolSize.map(String.init), "FAROS_DB_POOL_SIZE", "an integer 1-1000") {
            Int($0).flatMap { (1...1000).contains($0) ? $0 : nil }
        } ?? store.poolSize
        store.poolTimeout = try reader.duration(options.dbPoolTimeout, "FAROS_DB_POOL_TIMEOUT") ?? store.poolTimeout
        self.store = store

        self.logFormat = try reader.value(options.logFormat, "FAROS_LOG_FORMAT", "text or json") {
            Settings.LogFormat(rawValue: $0.lowercased())
        } ?? .text
        self.logLevel = try reader.value(options.logLevel, "FAROS_LOG_LEVEL", "trace, debug, info, notice, warning, error or critical") {
            Logger.Level(rawValue: $0.lowercased())
        } ?? .info
    }

    /// Installs the process-wide log handler (once, before anything logs).
    func bootstrapLogging() {
        let format = self.logFormat
        let level = self.logLevel
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler
            switch format {
            case .json: handler = JSONLogHandler(label: label)
            case .text: handler = StreamLogHandler.standardError(label: label)
            }
            handler.logLevel = level
            return handler
        }
    }
}
