import Foundation
import Testing

/// The server's own methods, open to anonymous sessions, over a real socket.
@Suite(.timeLimit(.minutes(1)))
struct ServerMethodsEndToEndTests {
    @Test func pingAnswersWithTheServerTimeAndTakesNoParams() async throws {
        try await TestServer.with { server, _ in
            try await TestWebSocket.connect(port: server.port) { socket in
                let before = Date()
                let reply = try await socket.call(#"{"jsonrpc":"2.0","id":1,"method":"rpc.ping"}"#)
                let result = try #require(reply["result"] as? [String: Any])
                let text = try #require(result["serverTime"] as? String)
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                let time = try #require(formatter.date(from: text), "\(text)")
                #expect(abs(time.timeIntervalSince(before)) < 60)
                #expect(result.count == 1)

                let refused = try await socket.call(#"{"jsonrpc":"2.0","id":2,"method":"rpc.ping","params":{"x":1}}"#)
                let error = try #require(refused["error"] as? [String: Any])
                #expect(error["code"] as? Int == -32602)
                let positional = try await socket.call(#"{"jsonrpc":"2.0","id":3,"method":"rpc.ping","params":[1]}"#)
                #expect((positional["error"] as? [String: Any])?["code"] as? Int == -32602)
            }
        }
    }
}
