/// A `ws://host:port/path` address, split once: the tools dial the host and port and send the
/// path and `Host` header in the upgrade request. `wss://` is not supported: TLS ends at a proxy
/// in front of Faros, and the benchmarks talk to the server directly on loopback.
public struct WebSocketURL: Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let path: String

    public init?(_ text: String) {
        guard text.hasPrefix("ws://") else { return nil }
        let rest = text.dropFirst("ws://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        path = slash == rest.endIndex ? "/" : String(rest[slash...])
        if let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]) {
            host = String(authority[..<colon])
            self.port = port
        } else {
            host = String(authority)
            port = 80
        }
        guard !host.isEmpty else { return nil }
    }

    /// The `Host` header: the port is named unless it is the default one.
    public var hostHeader: String { port == 80 ? host : "\(host):\(port)" }

    public var description: String { "ws://\(hostHeader)\(path)" }
}
