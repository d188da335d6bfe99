public import Logging

/// What a JSON-RPC method handler knows about the session that called it.
public struct RPCSessionContext: Sendable {
    /// Process-unique id of the WebSocket connection, as logged under `ws.connection.id`.
    public var connectionID: UInt64
    /// The peer's address as the socket reports it.
    public var remoteAddress: String?
    /// Logger carrying the connection's metadata.
    public var logger: Logger

    public init(connectionID: UInt64, remoteAddress: String?, logger: Logger) {
        self.connectionID = connectionID
        self.remoteAddress = remoteAddress
        self.logger = logger
    }
}
