public import NIOCore
public import NIOHTTP1

/// What the edge knows of a request besides its head, handed to whoever answers it.
public struct HTTPRequestInfo: Sendable {
    /// The connection's process-unique id, for logs (`ws.connection.id`).
    public var connectionID: UInt64
    /// The peer, or with trusted proxies the client they forwarded for.
    public var clientAddress: String
}

/// A request part as the edge forwards it to a responder: the head comes with what the edge
/// derived from the connection.
public enum HTTPEdgeRequestPart: Sendable {
    case head(HTTPRequestHead, HTTPRequestInfo)
    case body(ByteBuffer)
    case end
}
