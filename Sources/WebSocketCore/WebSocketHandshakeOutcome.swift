public import NIOHTTP1

/// The server's answer to a WebSocket opening handshake.
public enum WebSocketHandshakeOutcome: Sendable {
    /// Switch protocols: `headers` are those of the 101 response (`Upgrade`, `Connection`,
    /// `Sec-WebSocket-Accept`, plus `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions`
    /// when negotiated); `deflate` holds the agreed permessage-deflate parameters, from which
    /// the connection's ``PerMessageDeflate`` is made.
    case accept(headers: HTTPHeaders, subprotocol: String?, deflate: PerMessageDeflateParameters?)
    /// Refuse the upgrade with this status and these headers (e.g. `Allow`, `Upgrade`,
    /// `Sec-WebSocket-Version`); `reason` is a short client-safe body or log text.
    case reject(status: HTTPResponseStatus, headers: HTTPHeaders, reason: String)
}
