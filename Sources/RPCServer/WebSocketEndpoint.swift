/// Which application speaks over an upgraded connection.
public enum WebSocketEndpoint: Sendable {
    /// JSON-RPC 2.0 sessions.
    case rpc
    /// Echoes every message; for conformance and load tests of the framing layer.
    case echo
}
