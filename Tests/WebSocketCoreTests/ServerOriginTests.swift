import Testing
import WebSocketCore

/// The server's own origin once its port is bound (`--port 0`): a request whose `Host` names
/// something else (a proxy) is still from the server's own pages when its origin is the public
/// URL's, under any loopback alias.
@Suite struct ServerOriginTests {
    static func allowed(_ origin: String, _ serverOrigin: ServerOrigin) -> Bool {
        let configuration = WebSocketHandshakeConfiguration(subprotocols: [], allowedOrigins: [], serverOrigin: serverOrigin)
        let head = upgradeRequest(replacing: ["Host": "proxy.internal:9000"], adding: [("Origin", origin)])
        if case .accept = WebSocketHandshake.evaluate(head, configuration: configuration) { return true }
        return false
    }

    @Test func theBoundPortIsTheServersOwn() {
        let own = ServerOrigin(url: "http://127.0.0.1:0")
        #expect(!Self.allowed("http://127.0.0.1:4321", own))
        own.set(url: "http://127.0.0.1:4321")
        #expect(own.current == "http://127.0.0.1:4321")
        for origin in ["http://127.0.0.1:4321", "http://localhost:4321", "http://[::1]:4321", "HTTP://LOCALHOST:4321/"] {
            #expect(Self.allowed(origin, own), "\(origin)")
        }
        for origin in ["http://localhost:4322", "https://localhost:4321", "http://evil.example:4321", "null"] {
            #expect(!Self.allowed(origin, own), "\(origin)")
        }
        #expect(WebSocketHandshake.isAllowed(origin: "https://tasks.example.com", host: ["10.0.0.5:8080"], allowedOrigins: [],
                                             serverOrigin: ServerOrigin(url: "https://Tasks.Example.com:443/").current))
    }
}
