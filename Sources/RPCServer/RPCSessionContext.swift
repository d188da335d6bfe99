public import Logging

/// What a JSON-RPC method handler knows about the session that called it.
public struct RPCSessionContext: Sendable {
    /// Process-unique id of the WebSocket connection, as logged under `ws.connection.id`.
    public var connectionID: UInt64
    /// The peer's address as the socket reports it.
    public var remoteAddress: String?
    private var baseLogger: Logger

    /// A logger carrying the connection's metadata.
    ///
    /// Built on use: an idle session should not hold a metadata dictionary of its own.
    public var logger: Logger {
        var logger = self.baseLogger
        logger[metadataKey: "ws.connection.id"] = "\(self.connectionID)"
        return logger
    }

    public init(connectionID: UInt64, remoteAddress: String?, logger: Logger) {
        self.connectionID = connectionID
        self.remoteAddress = remoteAddress
        self.baseLogger = logger
    }
}
