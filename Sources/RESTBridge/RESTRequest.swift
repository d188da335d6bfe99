import HTTPEdge
public import NIOHTTP1

/// What the async route handlers need of a request: a copy of its head, parsed once.
struct RESTRequest: Sendable {
    var method: HTTPMethod
    var route: RESTRoute
    var query: QueryString
    var headers: HTTPHeaders
    var clientAddress: String
    var connectionID: UInt64

    /// See ``NIOHTTP1/HTTPHeaders/bearerToken``.
    var bearerToken: String?? { self.headers.bearerToken }
}
