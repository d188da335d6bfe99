package import PostgresDriver

/// Which backend a ``StoreConfiguration`` selects, resolved and checked before anything opens.
package enum DatabaseLocation: Sendable {
    case sqlite(path: String)
    case postgresql(PostgresConfiguration)

    /// The SQLite file's name inside the data directory.
    static let sqliteFileName = "faros.sqlite"

    /// SQLite's reader connections are bounded by the driver (64).
    static let poolSizes = 1...64

    package init(_ configuration: StoreConfiguration) throws(StoreSetupError) {
        guard Self.poolSizes.contains(configuration.poolSize) else {
            throw StoreSetupError(.configuration, "the database pool size must be between \(Self.poolSizes.lowerBound) and \(Self.poolSizes.upperBound)")
        }
        guard configuration.poolTimeout > .zero else {
            throw StoreSetupError(.configuration, "the database pool timeout must be positive")
        }
        let url = configuration.databaseURL ?? ""
        if url.isEmpty {
            guard !configuration.dataDirectory.isEmpty else {
                throw StoreSetupError(.configuration, "the data directory must not be empty")
            }
            var directory = configuration.dataDirectory
            while directory.count > 1, directory.hasSuffix("/") { directory.removeLast() }
            self = .sqlite(path: directory == "/" ? "/" + Self.sqliteFileName : directory + "/" + Self.sqliteFileName)
            return
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            do {
                var postgres = try PostgresConfiguration(url: url)
                postgres.poolSize = configuration.poolSize
                postgres.acquireTimeout = configuration.poolTimeout
                self = .postgresql(postgres)
            } catch {
                // The driver's message is already redacted (no password, no URL).
                throw StoreSetupError(.configuration, error.message)
            }
            return
        }
        if url.hasPrefix("sqlite:") {
            let rest = url.dropFirst("sqlite:".count)
            let path: Substring
            if rest.hasPrefix("//") {
                // sqlite:///absolute/path: an empty authority, then the absolute path.
                path = rest.dropFirst(2)
                guard path.hasPrefix("/") else {
                    throw StoreSetupError(.configuration, "a sqlite: database URL is sqlite:///absolute/path or sqlite:relative/path (no host)")
                }
            } else {
                path = rest
            }
            guard !path.isEmpty, path != "/", !path.hasSuffix("/"), !path.utf8.contains(0) else {
                throw StoreSetupError(.configuration, "a sqlite: database URL must name a file")
            }
            self = .sqlite(path: String(path))
            return
        }
        throw StoreSetupError(.configuration, "the database URL must start with postgres://, postgresql:// or sqlite: (\(Self.schemeDescription(url)))")
    }

    /// The scheme when the text has a plausible one, never the rest (it may hold a password).
    private static func schemeDescription(_ url: String) -> String {
        guard let colon = url.firstIndex(of: ":") else { return "no scheme given" }
        let scheme = url[..<colon]
        let plausible = !scheme.isEmpty && scheme.count <= 32
            && scheme.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0) }
        return plausible ? "got \(scheme):" : "no scheme given"
    }
}
