import HTTPEdge
import RESTBridge
import RPCServer
import WebApp

/// What the server answers, by path: the one table to read.
///
/// The WebSocket endpoints upgrade; the browser side answers from memory (`/`, `/assets/…`,
/// `/client/…`); every other request goes to the REST bridge, whose own routes (`RESTRoute`:
/// `/health`, `/ready`, `/metrics`, `/openrpc.json`, files, avatars, the mail-link pages) answer
/// or give a JSON 404.
enum Routes {
    static func table(rpc: RPCServer, bridge: RESTBridge, webApp: WebAppResponder, enableEcho: Bool) -> HTTPRouteTable {
        var routes = HTTPRouteTable()
        // JSON-RPC 2.0 sessions (protocol/README.md).
        routes.upgrade("/rpc", to: rpc.upgrader(for: .rpc))
        // Echo, for conformance and load tests of the framing layer; off unless FAROS_ENABLE_ECHO.
        if enableEcho { routes.upgrade("/echo", to: rpc.upgrader(for: .echo)) }
        // The app at `/`, its files under a versioned root, the client library at /client/.
        routes.serve(webApp)
        routes.respond { bridge.makeResponder() }
        return routes
    }
}
