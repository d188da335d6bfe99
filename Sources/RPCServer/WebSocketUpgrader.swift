import Handlers
import HTTPEdge
import JSONRPC
import Logging
import NIOCore
import NIOHTTP1
import WebSocketCore

/// Decides an upgrade request on `/rpc` or `/echo`: the RFC 6455 handshake, then, on `/rpc`
/// with an `Authorization` header, the bearer token.
///
/// Without the header the connection upgrades anonymous at once. With one, it upgrades signed in
/// once the token checks out, or is answered 401 (not a valid bearer token) or 503 (the check
/// itself failed: the database is down).
struct WebSocketUpgrader: HTTPUpgrader {
    let server: ServerContext
    let endpoint: WebSocketEndpoint

    func decide(_ head: HTTPRequestHead, info: HTTPRequestInfo) -> HTTPUpgradeDecision {
        let headers: HTTPHeaders
        let deflate: PerMessageDeflateParameters?
        switch WebSocketHandshake.evaluate(head, configuration: self.server.handshake(for: self.endpoint)) {
        case .accept(let accepted, _, let parameters):
            headers = accepted
            deflate = parameters
        case .reject(let status, let rejected, let reason):
            return .refuse(HTTPRefusal(RPCError(.invalidRequest, message: reason), status: status, headers: rejected))
        }
        let (server, endpoint) = (self.server, self.endpoint)
        let upgrade = { @Sendable (principal: Principal?) -> HTTPUpgradeDecision in
            .upgrade(headers: headers) {
                WebSocketHandler(
                    server: server, endpoint: endpoint, connectionID: info.connectionID,
                    deflate: deflate, clientAddress: info.clientAddress, principal: principal
                )
            }
        }
        guard endpoint == .rpc, case .some(let credential) = head.headers.bearerToken else { return upgrade(nil) }
        guard let token = credential else { return .refuse(Self.unauthorized) }
        return .check {
            do {
                guard let principal = try await server.sessions.bearer(token) else { return .refuse(Self.unauthorized) }
                return upgrade(principal)
            } catch {
                server.logger.warning("Token check failed", metadata: ["ws.connection.id": "\(info.connectionID)", "error": "\(error)"])
                return .refuse(HTTPRefusal(.unavailable(message: "Service unavailable")))
            }
        }
    }

    static let unauthorized = HTTPRefusal(
        RPCError(.unauthenticated, message: "Invalid or expired token"),
        headers: ["WWW-Authenticate": #"Bearer realm="faros", error="invalid_token""#]
    )
}
