/// What the server accepts in a WebSocket opening handshake.
public struct WebSocketHandshakeConfiguration: Sendable {
    /// Subprotocols the server speaks, e.g. `["faros.v1"]`. The first one the client offers that
    /// is in this list is echoed back; a client that offers none of them is still accepted, with
    /// no subprotocol, so that plain clients need not know our protocol names.
    public var subprotocols: [String]

    /// Origins allowed besides the request's own (`http://` or `https://` plus its `Host`), as
    /// `scheme://host[:port]`. They are compared after normalization (lower case, default port
    /// dropped, see ``WebSocketHandshake/normalizedOrigin(_:)``). Browsers send `Origin: null`
    /// from sandboxed frames and `file:` pages: it is allowed only if listed literally here.
    public var allowedOrigins: Set<String>

    /// The server's own origin (its public URL's, fixed once the port is bound); a loopback
    /// alias of it is the same origin too.
    public var serverOrigin: ServerOrigin?

    /// The permessage-deflate policy; `nil` never negotiates compression.
    public var deflate: PerMessageDeflateConfiguration?

    public init(
        subprotocols: [String] = [],
        allowedOrigins: Set<String> = [],
        serverOrigin: ServerOrigin? = nil,
        deflate: PerMessageDeflateConfiguration? = nil
    ) {
        self.subprotocols = subprotocols
        self.allowedOrigins = allowedOrigins
        self.serverOrigin = serverOrigin
        self.deflate = deflate
    }
}
