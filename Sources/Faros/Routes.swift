import HTTPEdge
import RESTBridge
import RPCServer

/// What the server answers, by path: the one table to read.
///
/// The WebSocket endpoints upgrade; every other request goes to the REST bridge, whose own
/// routes (`RESTRoute`: `/health`, `/ready`, `/metrics`, `/openrpc.json`, files, avatars, the
/// mail-link pages) answer or give a JSON 404.
enum Routes {
    static func table(rpc: RPCServer, bridge: RESTBridge, enableEcho: Bool) -> HTTPRouteTable {
        var routes = HTTPRouteTable()
        // JSON-RPC 2.0 sessions (protocol/README.md).
        routes.upgrade("/rpc", to: rpc.upgrader(for: .rpc))
        // Echo, for conformance and load tests of the framing layer; off unless FAROS_ENABLE_ECHO.
        if enableEcho { routes.upgrade("/echo", to: rpc.upgrader(for: .echo)) }
        routes.respond { bridge.makeResponder() }
        return routes
    }
}
