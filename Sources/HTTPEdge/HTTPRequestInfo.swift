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
    case body(NIOCore.ByteBuffer)
    case end
}

public import NIOCore

extension HTTPHeaders {
    /// The token of the one `Authorization: Bearer <token>` header: `.none` without the header,
    /// `.some(nil)` for anything that is not exactly one well-formed bearer credential (the
    /// scheme is case-insensitive, RFC 7235).
    public var bearerToken: String?? {
        let values = self["Authorization"]
        guard !values.isEmpty else { return .none }
        guard values.count == 1 else { return .some(nil) }
        let parts = values[0].split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .some(nil) }
        let token = parts[1].drop { $0 == " " || $0 == "\t" }
        return token.isEmpty || token.contains(" ") ? .some(nil) : .some(String(token))
    }
}
