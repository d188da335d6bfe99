public import NIOHTTP1

/// The server's answer to a WebSocket opening handshake.
public enum WebSocketHandshakeOutcome: Sendable {
    /// Switch protocols: `headers` are those of the 101 response (`Upgrade`, `Connection`,
    /// `Sec-WebSocket-Accept`, and `Sec-WebSocket-Protocol` when a subprotocol was chosen).
    case accept(headers: HTTPHeaders, subprotocol: String?)
    /// Refuse the upgrade with this status and these headers (e.g. `Allow`, `Upgrade`,
    /// `Sec-WebSocket-Version`); `reason` is a short client-safe body or log text.
    case reject(status: HTTPResponseStatus, headers: HTTPHeaders, reason: String)
}
