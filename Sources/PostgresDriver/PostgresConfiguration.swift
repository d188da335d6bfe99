/// Where and how the driver connects, and how many connections it keeps.
public struct PostgresConfiguration: Sendable, CustomStringConvertible {
    /// The `postgres://` URL given to libpq as its conninfo; kept internal so it is never logged
    /// with its password (use `redactedURL`).
    let url: String

    /// Connections the pool opens at most.
    ///
    /// 8 keeps a busy server well under PostgreSQL's default `max_connections` (100) even with
    /// several instances, while letting blocking calls overlap on a small thread pool.
    public var poolSize: Int = 8

    /// How long a caller waits for a free pooled connection before getting `isPoolTimeout`.
    ///
    /// 5 s is far beyond a healthy query's latency, so hitting it means overload, which is
    /// reported rather than queued without end.
    public var acquireTimeout: Duration = .seconds(5)

    /// How long one connection attempt may take (libpq's `connect_timeout`, whole seconds, at
    /// least 2 because libpq treats smaller values as 2).
    public var connectTimeout: Duration = .seconds(5)

    /// The `application_name` the server shows in `pg_stat_activity`, unless the URL sets one.
    public var applicationName: String = "faros"

    /// Validates a `postgres://` or `postgresql://` URL with libpq's own parser.
    ///
    /// Whatever the URL leaves out (host, port, user, password, database) libpq fills from the
    /// `PG*` environment variables and its defaults at connect time.
    ///
    /// - Throws: a `.configuration` error naming the problem; the password never appears in it.
    public init(url: String) throws(PostgresError) {
        // libpq recognises the schemes in lower case only; anything else it would misread as
        // keyword=value text.
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
            throw PostgresError(kind: .configuration, message: "the database URL must start with postgres:// or postgresql:// (lower case)")
        }
        guard !url.utf8.contains(0) else {
            throw PostgresError(kind: .configuration, message: "the database URL contains a NUL character")
        }
        if let problem = LibPQConnection.validate(url: url) {
            throw PostgresError(
                kind: .configuration,
                message: "invalid database URL: \(Self.redact(problem, url: url))"
            )
        }
        self.url = url
    }

    /// The URL with any password replaced by `***`, for logs.
    public var redactedURL: String {
        guard let password = Self.password(in: url), !password.isEmpty else { return url }
        return url.replacing(password, with: "***")
    }

    public var description: String {
        "PostgresConfiguration(url: \(redactedURL), poolSize: \(poolSize), acquireTimeout: \(acquireTimeout), connectTimeout: \(connectTimeout))"
    }

    /// The password part of the URL's user info as written (percent-encoded or not).
    ///
    /// The user info is taken up to the last `@` of the whole string, a superset of what libpq
    /// reads, so that redaction errs on the side of hiding too much.
    static func password(in url: String) -> Substring? {
        guard let schemeEnd = url.firstRange(of: "://")?.upperBound,
              let at = url[schemeEnd...].lastIndex(of: "@") else { return nil }
        let userInfo = url[schemeEnd..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return nil }
        return userInfo[userInfo.index(after: colon)...]
    }

    /// Removes the URL's password, and the URL itself, from a libpq message that may quote them.
    static func redact(_ message: String, url: String) -> String {
        guard let password = password(in: url), !password.isEmpty else { return message }
        return message.replacing(password, with: "***")
    }
}
