/// Where the store keeps its data and how many connections it uses.
public struct StoreConfiguration: Sendable {
    /// nil or empty: SQLite in ``dataDirectory``. `postgres://…` or `postgresql://…`: PostgreSQL
    /// (libpq's URL, with whatever it leaves out taken from the `PG*` variables).
    /// `sqlite:///absolute/path` or `sqlite:relative/path`: SQLite in that file.
    public var databaseURL: String?

    /// Holds `faros.sqlite` (with its `-wal` and `-shm` files) when SQLite is used; created with
    /// mode 0700 when missing, since the same directory holds secrets.
    public var dataDirectory: String

    /// PostgreSQL: the most connections the pool opens. SQLite: reader connections (1–64), the
    /// bound on concurrent reads; writes always go through SQLite's one writer.
    ///
    /// 8 keeps several instances well inside PostgreSQL's default `max_connections` (100) while
    /// letting blocking calls overlap on a small thread pool; give the thread pool at least this
    /// many threads plus one.
    public var poolSize: Int

    /// PostgreSQL: how long a call waits for a free pooled connection before failing as
    /// unavailable. 5 s is far beyond a healthy query's latency, so reaching it means overload,
    /// which is reported instead of queued without end.
    public var poolTimeout: Duration

    public init(databaseURL: String? = nil, dataDirectory: String, poolSize: Int = 8, poolTimeout: Duration = .seconds(5)) {
        self.databaseURL = databaseURL
        self.dataDirectory = dataDirectory
        self.poolSize = poolSize
        self.poolTimeout = poolTimeout
    }
}
