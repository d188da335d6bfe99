public import JSONRPC
public import NIOCore
public import NIOHTTP1

/// A path whose requests switch protocols (the WebSocket endpoints): it decides, from the
/// request head, whether and how the connection upgrades.
public protocol HTTPUpgrader: Sendable {
    /// Called on the connection's event loop when the head arrives; the decision is carried
    /// out once the request has ended.
    func decide(_ head: HTTPRequestHead, info: HTTPRequestInfo) -> HTTPUpgradeDecision
}

/// What an ``HTTPUpgrader`` decided about one request.
public enum HTTPUpgradeDecision: Sendable {
    /// Answer 101 with these headers; `handler` (called on the event loop) takes over the
    /// connection once the HTTP handlers are gone.
    case upgrade(headers: HTTPHeaders, handler: @Sendable () -> any ChannelHandler)
    /// Decide later, off the event loop (a bearer token's check): reading pauses meanwhile and
    /// the handshake timeout keeps running, so a slow check cannot hold the connection.
    case check(@Sendable () async -> HTTPUpgradeDecision)
    /// Answer with an error instead.
    case refuse(HTTPRefusal)
}

/// An error answer to an HTTP request, with a status other than the code's usual one where
/// HTTP asks for it (426 for a missing `Upgrade`, 403 for a foreign `Origin`, …).
public struct HTTPRefusal: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var error: RPCError

    public init(_ error: RPCError, status: HTTPResponseStatus? = nil, headers: HTTPHeaders = HTTPHeaders()) {
        self.error = error
        self.status = status ?? HTTPErrorResponse.status(for: error.code)
        self.headers = headers
    }
}
