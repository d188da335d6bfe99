/// Where the server listens and how long an HTTP exchange may take.
///
/// Reading flags and environment variables is the executable's job; this is the checked result.
public struct HTTPEdgeConfiguration: Sendable {
    /// Address to bind. Loopback by default: exposing the server is a deliberate act.
    public var host: String = "127.0.0.1"
    /// Port to bind; 0 lets the kernel pick one (the chosen port is logged and printed).
    public var port: Int = 8080
    /// Proxies whose `X-Forwarded-For` names the client (rate limits per address use it); none by default.
    public var trustedProxies = TrustedProxies()
    /// From TCP accept (or the end of the previous answer on a kept-alive connection) to a
    /// complete request head, and for upgrades to the complete request: bounds slowloris clients.
    public var handshakeTimeout: Duration = .seconds(10)
    /// An answer that ends the connection is flushed for at most this long before the socket
    /// closes anyway: a peer that stops reading must not keep its socket and the queued bytes.
    public var closeTimeout: Duration = .seconds(3)
    /// How long shutdown waits for in-flight work before closing connections anyway.
    public var shutdownGrace: Duration = .seconds(10)

    public init() {}
}
