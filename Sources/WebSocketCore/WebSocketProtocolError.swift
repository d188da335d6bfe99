/// A violation of RFC 6455 by the peer: the connection must be failed with `closeCode`.
public struct WebSocketProtocolError: Error, Hashable, Sendable {
    /// The code to put in the close frame that fails the connection.
    public var closeCode: WebSocketCloseCode
    /// A short, client-safe explanation; fits a close frame's reason.
    public var reason: String

    public init(closeCode: WebSocketCloseCode, reason: String) {
        self.closeCode = closeCode
        self.reason = reason
    }

    static func protocolError(_ reason: String) -> WebSocketProtocolError {
        WebSocketProtocolError(closeCode: .protocolError, reason: reason)
    }
}

extension WebSocketProtocolError: CustomStringConvertible {
    public var description: String {
        "WebSocketProtocolError(\(self.closeCode.rawValue): \(self.reason))"
    }
}
