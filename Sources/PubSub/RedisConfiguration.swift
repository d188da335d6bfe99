/// Where Redis is and how the client talks to it.
public struct RedisConfiguration: Sendable {
    /// Host, port, credentials and database.
    public var url: RedisURL

    /// How long one connection attempt may take.
    ///
    /// One second: Redis is on the local network or loopback and accepts in microseconds, so a
    /// longer wait only makes a publish hang while Redis is down (the bus would rather fail fast
    /// and let the event log catch up).
    public var connectTimeout: Duration = .seconds(1)

    /// How long a command may wait for its reply before the connection is dropped.
    ///
    /// Two seconds: commands are O(1) or O(log n) (PUBLISH, a rate-limit script); a reply that
    /// slow means Redis is stuck, and a blocked thread-pool thread is worse than an error.
    public var commandTimeout: Duration = .seconds(2)

    /// Connections for commands (PUBLISH, rate-limit scripts), each one pipelining whatever is
    /// queued when it becomes free.
    ///
    /// Three: pipelining makes one connection carry tens of thousands of PUBLISHes a second; a
    /// second and third keep a slow large payload from delaying the small ones behind it, while
    /// holding at most three thread-pool threads (the pool should have at least this many).
    public var poolSize: Int = 3

    /// Commands allowed to wait for a connection before `send` fails with `overloaded`.
    ///
    /// 10,000: a burst of that size drains in well under a second over a pipelined connection;
    /// past it Redis is not keeping up and queueing more only grows memory.
    public var maxPendingCommands: Int = 10_000

    public init(url: RedisURL) {
        self.url = url
    }

    /// Parses `redis://…`; see ``RedisURL``.
    public init(url: String) throws(RedisError) {
        self.init(url: try RedisURL(url))
    }
}
