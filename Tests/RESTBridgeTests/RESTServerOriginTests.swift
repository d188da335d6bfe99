import NIOCore
import RESTBridge
import Testing
import WebSocketCore

/// The bridge's origin rule with the server's own origin fixed once the port is bound
/// (`--port 0`): a post whose `Host` names a proxy is still from the server's own pages.
@Suite(.timeLimit(.minutes(1)))
struct RESTServerOriginTests {
    @Test func theBoundPortIsTheServersOwnOrigin() async throws {
        let own = ServerOrigin(url: "http://127.0.0.1:0")
        try await RESTResponderTests.withConnection(configure: { $0.serverOrigin = own }) { connection in
            let post = "POST /reset-password HTTP/1.1\r\nHost: proxy.internal\r\nOrigin: http://localhost:4321\r\nContent-Length: 0\r\n\r\n"
            #expect(try await connection.request(post).status == 403)
            own.set(url: "http://127.0.0.1:4321")
            let response = try await connection.request(post)
            #expect(response.status == 400)
            #expect(response.header("content-type") == "text/html; charset=utf-8")  // the form's own answer, not the refusal
            let preflight = try await connection.request(
                "OPTIONS /tasks/5/files HTTP/1.1\r\nHost: proxy.internal\r\nOrigin: http://[::1]:4321\r\n\r\n")
            #expect(preflight.status == 204)
            #expect(preflight.header("access-control-allow-origin") == "http://[::1]:4321")
        }
    }
}
